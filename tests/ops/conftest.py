"""Fixtures of the production and deployment tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def postgres_url(database_url):
    """Production runs on PostgreSQL: these tests run on the PostgreSQL pass only."""
    if not database_url.startswith("postgresql"):
        pytest.skip("production runs on PostgreSQL: set TEST_DATABASE_URL")
    return database_url
