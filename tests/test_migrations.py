"""`passerelle db upgrade` gives exactly the models' schema, and downgrades cleanly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

import models
from tests.conftest import make_config
from tests.helpers import scratch_database
from web import create_app


def _diff(url: str) -> list[object]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), models.Base.metadata
        )
    engine.dispose()
    return diff


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    names = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    return names


def test_upgrade_head_matches_models_then_downgrade_and_back(database_url, tmp_path):
    with scratch_database(database_url, tmp_path) as url:
        app = create_app(make_config(url))
        with app.app_context():
            upgrade()
            assert _diff(url) == []
            assert _tables(url) == set(models.Base.metadata.tables)
            downgrade(revision="base")
            assert _tables(url) == set()
            upgrade()
            assert _diff(url) == []
        app.extensions["db"].dispose()


def test_cli_db_upgrade_against_database_url(database_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from web.cli import main

    with scratch_database(database_url, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("PASSERELLE_INSTANCE_PATH", str(tmp_path))
        result = CliRunner().invoke(main, ["db", "upgrade"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert _tables(url) == set(models.Base.metadata.tables)
