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


def test_the_reminder_job_reminds_whoever_a_step_waits_on_once(app, db):
    from models import Decision, Notification
    from services import clock
    from services.worklists import reference

    landlord = factories.create_organisation(db, "landlord")
    factories.create_user(db, role="landlord", organisation=landlord)
    association = factories.create_organisation(db, "association")
    factories.create_user(db, role="association", organisation=association)
    # The commission has had this one for 40 days (30 allowed): past due.
    stalled = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord),
                                        status="household_accepted")
    db.add(Decision(proposal_id=stalled.id, step="household", outcome="accept",
                    decided_at=clock.utcnow() - dt.timedelta(days=40)))
    # Accepted yesterday: nothing to remind yet.
    fresh = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord),
                                      status="household_accepted")
    db.add(Decision(proposal_id=fresh.id, step="household", outcome="accept", decided_at=clock.utcnow()))
    # The household's answer is due in two days (reminded 3 days before), and in nine days.
    soon = factories.create_proposal(db, household=factories.create_household(db, association=association),
                                     deadline=dt.date.today() + dt.timedelta(days=2))
    later = factories.create_proposal(db, household=factories.create_household(db, association=association),
                                      deadline=dt.date.today() + dt.timedelta(days=9))
    db.commit()
    jobs = get_jobs(app)
    assert "send_reminders" in {task.name for task in jobs.huey._registry.periodic_tasks}
    emails_before = db.scalar(sa.select(sa.func.count()).select_from(OutboxEmail))
    jobs.tasks["send_reminders"].call_local()
    jobs.tasks["send_reminders"].call_local()  # a second run repeats nothing
    notes = {(n.organisation_id, n.link): n for n in db.scalars(sa.select(Notification))}
    to_landlord = notes[(landlord.id, f"/bailleur/propositions/{stalled.public_id}")]
    assert to_landlord.msgid.startswith("En retard : la candidature")
    assert to_landlord.params["ref"] == reference(stalled)
    to_association = notes[(association.id, f"/association/propositions/{soon.public_id}")]
    assert to_association.msgid.startswith("Rappel : la proposition")
    assert to_association.params["date"] == soon.deadline.strftime("%d/%m/%Y")
    for quiet in (fresh, later):
        assert not [k for k in notes if k[1] and k[1].endswith(quiet.public_id)]
    assert len(notes) == 2
    # One e-mail per reminded organisation's user, and no more on the second run.
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == emails_before + 2
