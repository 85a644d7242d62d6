"""Upgrading a database that holds data keeps every row, on both engines.

Until the first release the schema is one revision: upgrading a database already at head
must then be a no-op that keeps the demo data. As soon as a second revision exists, each
revision is also tested from its predecessor: the demo data (loaded at head elsewhere)
is copied into a database at the predecessor, for the columns that schema has, then the
upgrade runs and every table must keep its row count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from tests.conftest import make_config
from tests.helpers import scratch_database
from web import create_app

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _upgrades() -> list[tuple[str, str]]:
    """(predecessor, revision) for every revision that has one."""
    pairs = []
    for script in _scripts().walk_revisions():
        if script.down_revision is not None:
            assert isinstance(script.down_revision, str), "merge revisions: extend this test"
            pairs.append((script.down_revision, script.revision))
    return pairs


def row_counts(url: str) -> dict[str, int]:
    """Rows per table (the migration bookkeeping aside)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = sorted(set(sa.inspect(conn).get_table_names()) - {"alembic_version"})
        counts = {name: conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}
    engine.dispose()
    return counts


def copy_rows(source_url: str, target_url: str,
              leave_out: Mapping[str, Callable[[dict[str, Any]], bool]] | None = None) -> None:
    """Copy every row of the source into the target's tables, for the columns both have,
    but the rows `leave_out[table](row)` names (rows the target's schema cannot hold yet)."""
    source, target = sa.create_engine(source_url), sa.create_engine(target_url)
    source_meta, target_meta = sa.MetaData(), sa.MetaData()
    source_meta.reflect(source)
    target_meta.reflect(target)
    with source.connect() as src, target.begin() as dst:
        for table in target_meta.sorted_tables:
            if table.name == "alembic_version" or table.name not in source_meta.tables:
                continue
            origin = source_meta.tables[table.name]
            columns = [c.name for c in table.columns if c.name in origin.columns]
            rows = [dict(row._mapping) for row in src.execute(sa.select(*(origin.c[c] for c in columns)))]
            skip = (leave_out or {}).get(table.name)
            rows = [row for row in rows if skip is None or not skip(row)]
            if rows:
                dst.execute(table.insert(), rows)
        if dst.dialect.name == "postgresql":  # copied ids: move the sequences past them
            for table in target_meta.sorted_tables:
                if "id" in table.columns and table.name in source_meta.tables:
                    dst.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"coalesce(max(id), 0) + 1, false) FROM \"{table.name}\""))
    source.dispose()
    target.dispose()


def _migrate(url: str, revision: str = "head") -> None:
    app = create_app(make_config(url))
    with app.app_context():
        upgrade(revision=revision)
    app.extensions["db"].dispose()


@pytest.fixture(scope="module")
def demo_at_head(database_url, tmp_path_factory):
    """A database at head holding the demo data, and its row counts (loaded once: it is slow)."""
    from services import demo

    with scratch_database(database_url, tmp_path_factory.mktemp("demo")) as url:
        app = create_app(make_config(url))
        with app.app_context():
            upgrade()
            session = app.extensions["db"].sessionmaker()
            assert demo.load(session)
            session.commit()
            session.close()
        app.extensions["db"].dispose()
        counts = row_counts(url)
        assert counts["units"] > 0 and counts["households"] > 0 and counts["users"] > 0
        yield url, counts


def test_upgrade_at_head_is_a_no_op_keeping_every_row(demo_at_head):
    url, counts = demo_at_head
    _migrate(url)
    assert row_counts(url) == counts
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert current == [_scripts().get_current_head()]


def test_revision_chain_is_linear():
    # One head and one base: every revision is covered by the parametrised test below.
    scripts = _scripts()
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1
    assert len(_upgrades()) == len(list(scripts.walk_revisions())) - 1


def test_copying_demo_rows_between_schemas_keeps_them(demo_at_head, database_url, tmp_path):
    # The tool the per-revision test relies on, checked now on two databases at head.
    url, counts = demo_at_head
    with scratch_database(database_url, tmp_path) as other:
        _migrate(other)
        copy_rows(url, other)
        assert row_counts(other) == counts


# Rows a revision adds on purpose, and only those: 0010 appends one keyed `audit.key_introduced`
# row sealing the older, unkeyed audit trail (tests/security/test_audit_key.py checks what it seals).
ROWS_A_REVISION_APPENDS: dict[str, dict[str, int]] = {"0010": {"audit_events": 1}}
# Rows the demo holds that a schema older than a revision cannot: 0017 introduced the
# `referrer` role (its downgrade deletes those accounts), so they are not copied below it.
ROWS_A_REVISION_INTRODUCES: dict[str, dict[str, Callable[[dict[str, Any]], bool]]] = {
    "0017": {"users": lambda row: row["role"] == "referrer"},
}


def _too_new_for(revision: str) -> dict[str, Callable[[dict[str, Any]], bool]]:
    """The rows of ROWS_A_REVISION_INTRODUCES that a database at `revision` cannot hold."""
    applied = {script.revision for script in _scripts().iterate_revisions(revision, "base")}
    return {table: test for introduced, rows in ROWS_A_REVISION_INTRODUCES.items()
            if introduced not in applied for table, test in rows.items()}


@pytest.mark.parametrize(("previous", "revision"), _upgrades())
def test_upgrade_from_previous_revision_keeps_every_row(demo_at_head, database_url, tmp_path,
                                                        previous, revision):
    url, _counts = demo_at_head
    with scratch_database(database_url, tmp_path) as old:
        _migrate(old, previous)
        copy_rows(url, old, leave_out=_too_new_for(previous))
        before = row_counts(old)
        _migrate(old, revision)
        after = row_counts(old)
    expected = {t: n + ROWS_A_REVISION_APPENDS.get(revision, {}).get(t, 0) for t, n in before.items()}
    assert {t: n for t, n in after.items() if t in before} == expected
