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


def test_an_api_request_is_committed_at_the_edge_once_its_view_succeeded(client, db):
    """The decision view does not commit: the edge does, and the audit trail (written at
    commit) has the event; a refused request (409) leaves nothing behind."""
    import sqlalchemy as sa

    from models import AuditEvent, Decision
    from services import accounts
    from tests import factories

    association = factories.create_organisation(db, "association")
    proposal = factories.create_proposal(db, household=factories.create_household(db, association=association))
    user = factories.create_user(db, "association", organisation=association)
    headers = {"Authorization": f"Bearer {accounts.create_token(db, user)}"}
    db.commit()
    url = f"/api/v1/proposals/{proposal.public_id}/decision"
    assert client.post(url, headers=headers, json={"decision": "accept"}).status_code == 200
    assert client.post(url, headers=headers, json={"decision": "accept"}).status_code == 409
    db.expire_all()
    assert db.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id == proposal.public_id)).all() == [
        "proposal.household_accept"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Decision)) == 1
