"""Helpers for tests that need a database of their own (migrations, live servers, races)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask


@contextmanager
def scratch_database(base_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the same engine as the suite's, dropped afterwards."""
    if base_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / f'scratch-{secrets.token_hex(4)}.sqlite'}"
        return
    url = sa.make_url(base_url)
    name = f"{url.database}_scratch_{secrets.token_hex(4)}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def app_on_scratch_database(database_url: str, tmp_path: Path, **config: object) -> Iterator[Flask]:
    """An app on a fresh database with the models' schema, where every request commits for real."""
    import models
    from tests.conftest import make_config
    from web import create_app

    with scratch_database(database_url, tmp_path) as url:
        engine = sa.create_engine(url)
        models.Base.metadata.create_all(engine)
        engine.dispose()
        app = create_app(make_config(url, **config))
        app.instance_path = str(tmp_path)
        try:
            yield app
        finally:
            app.extensions["db"].dispose()
