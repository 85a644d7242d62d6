"""Fixtures of the security tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import models
from models import crypto
from tests.conftest import DATA_KEY
from tests.helpers import scratch_database


@pytest.fixture(autouse=True)
def data_key() -> None:
    """Sensitive columns can be written even by tests that build no app."""
    crypto.configure(DATA_KEY)


@pytest.fixture
def cli_db(database_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A scratch database named by DATABASE_URL, as an operator's command sees it."""
    with scratch_database(database_url, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("PASSERELLE_INSTANCE_PATH", str(tmp_path))
        monkeypatch.setenv("PASSERELLE_DATA_KEY", DATA_KEY)
        engine = sa.create_engine(url)
        models.Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
