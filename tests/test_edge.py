"""Housekeeping happens in the periodic jobs, not in the pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from web.jobs import get_jobs

ROOT = Path(__file__).resolve().parents[1]


def _task(app, name):  # type: ignore[no-untyped-def]
    return next(t for t in get_jobs(app).huey._registry.periodic_tasks if t.name == name)


def test_stale_runs_are_failed_by_the_periodic_job_alone(app):
    callers = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "web").rglob("*.py"))
               if "fail_stale_runs(" in p.read_text(encoding="utf-8")]
    assert callers == ["web/jobs.py"]
    # Every minute: a run whose job died frees its departments soon after RUN_STALE_SECONDS.
    sweep = _task(app, "fail_stale_runs")
    assert all(sweep.validate_datetime(dt.datetime(2026, 12, 1, 10, minute)) for minute in range(60))


def test_proposals_expire_within_the_hour_after_midnight_in_every_territory(app):
    expiry = _task(app, "expire_proposals")
    # 04:10 UTC is 00:10 in Guadeloupe and Martinique (UTC-4); 20:10 UTC 00:10 in Réunion (UTC+4).
    for hour in (4, 20, 23, 0):
        assert expiry.validate_datetime(dt.datetime(2026, 12, 1, hour, 10))
