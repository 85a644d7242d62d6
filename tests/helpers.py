"""Helpers for tests that need a database of their own (migrations, live servers, races)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


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
