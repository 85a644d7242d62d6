"""Alembic environment: the models' metadata and the database URL, never the whole app."""

from __future__ import annotations

import os

from alembic import context

import models

config = context.config
target_metadata = models.Base.metadata


def _url() -> str:
    # Flask-Migrate runs us inside the app context; plain `alembic` uses DATABASE_URL.
    try:
        from flask import current_app

        return str(current_app.config["DATABASE_URL"])
    except RuntimeError:
        return config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # tests hand us their own connection
        _run(connection)
        return
    from web.db import create_engine

    engine = create_engine(_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    # Batch mode lets SQLite alter tables (it rebuilds them).
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
