"""The scheduled housekeeping: registered on the queue, and doing its work when run."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from models import OutboxEmail, Proposal
from tests import factories
from web.jobs import get_jobs


def test_housekeeping_is_scheduled(app):
    jobs = get_jobs(app)
    periodic = {task.name for task in jobs.huey._registry.periodic_tasks}
    assert {"expire_proposals", "send_outbox", "fail_stale_runs", "purge"} <= periodic


def test_the_expiry_job_expires_overdue_proposals_and_the_outbox_job_sends(app, db):
    association = factories.create_organisation(db, "association")
    factories.create_user(db, role="association", organisation=association)
    household = factories.create_household(db, association=association)
    overdue = factories.create_proposal(db, household=household,
                                        deadline=dt.date.today() - dt.timedelta(days=1))
    on_time = factories.create_proposal(db)
    db.commit()
    jobs = get_jobs(app)
    jobs.tasks["expire_proposals"].call_local()
    db.expire_all()
    assert db.get(Proposal, overdue.id).status == "expired"
    assert db.get(Proposal, on_time.id).status == "pending"
    # Expiry told the association by e-mail (queued); the outbox job sends it (to the log here).
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)
                     .where(OutboxEmail.sent_at.is_(None))) >= 1
    jobs.tasks["send_outbox"].call_local()
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)
                     .where(OutboxEmail.sent_at.is_(None))) == 0


def test_the_nightly_purge_erases_households_closed_long_ago(app, db):
    from models import Household, utcnow

    old = factories.create_household(db, status="withdrawn",
                                     closed_at=utcnow() - dt.timedelta(days=400))
    recent = factories.create_household(db, status="withdrawn",
                                        closed_at=utcnow() - dt.timedelta(days=30))
    old_id, recent_id = old.id, recent.id
    db.commit()
    get_jobs(app).tasks["purge"].call_local()
    db.expunge_all()
    assert db.get(Household, old_id) is None
    assert db.get(Household, recent_id) is not None
