"""Applying the Alembic migrations from code (demo, tests)."""

from __future__ import annotations

from flask_migrate import upgrade


def upgrade_to_head() -> None:
    """Bring the app's database to the latest schema (creates it if needed)."""
    upgrade()
