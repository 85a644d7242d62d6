"""services.followup: referrals, the checkpoints a lease schedules, their reminders (issue 18)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from models import Checkpoint, Notification
from services import clock, followup, leases, proposals
from services.errors import Conflict, ValidationError
from tests import factories


def test_add_months_keeps_the_day_or_takes_the_month_s_last():
    assert followup.add_months(dt.date(2026, 1, 15), 3) == dt.date(2026, 4, 15)
    assert followup.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert followup.add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert followup.add_months(dt.date(2026, 12, 1), 12) == dt.date(2027, 12, 1)


def _leased(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_user(db, "landlord")
    unit = factories.create_unit(db, landlord=landlord.organisation)
    proposal = factories.create_proposal(db, unit=unit, status="commission_accepted", commission_rank=1)
    proposals.decide(db, landlord, proposal.public_id, decision="accept", step="lease")
    return proposal


def test_recording_the_lease_schedules_three_checkpoints_from_the_lease_date(db):
    proposal = _leased(db)
    rows = db.scalars(sa.select(Checkpoint).where(Checkpoint.proposal_id == proposal.id)
                      .order_by(Checkpoint.months)).all()
    start = followup.lease_date(db, proposal)
    assert start == clock.today(proposal.unit.department)  # no lease terms: the day it was recorded
    assert [(c.months, c.due_on) for c in rows] == [
        (3, followup.add_months(start, 3)), (6, followup.add_months(start, 6)), (12, followup.add_months(start, 12))]
    assert all(c.status == "due" and c.association_id == proposal.household.association_id for c in rows)
    # Scheduling again adds none.
    assert followup.schedule(db, proposal) == []


def test_the_checkpoints_count_from_the_move_in_date_of_the_lease(db):
    landlord = factories.create_user(db, "landlord")
    unit = factories.create_unit(db, landlord=landlord.organisation)
    proposal = factories.create_proposal(db, unit=unit, status="commission_accepted", commission_rank=1)
    today = clock.today(unit.department)
    signed, move_in = today - dt.timedelta(days=20), today + dt.timedelta(days=10)
    proposals.decide(db, landlord, proposal.public_id, decision="accept", step="lease",
                     lease=leases.LeaseTerms(signed_on=signed, move_in_on=move_in, kind="sliding"))
    rows = db.scalars(sa.select(Checkpoint).where(Checkpoint.proposal_id == proposal.id)
                      .order_by(Checkpoint.months)).all()
    assert {c.lease_on for c in rows} == {move_in}
    assert [c.due_on for c in rows] == [followup.add_months(move_in, m) for m in (3, 6, 12)]


def test_a_checkpoint_is_recorded_once_with_a_coded_outcome(db):
    proposal = _leased(db)
    referent = factories.create_user(db, "association", organisation=proposal.household.association)
    first = followup.list_checkpoints(db, referent)[0]
    with pytest.raises(ValidationError) as exc:
        followup.record_checkpoint(db, referent, first.public_id, status="due", outcome="street")
    assert set(exc.value.errors) == {"status", "outcome"}
    done = followup.record_checkpoint(db, referent, first.public_id, status="difficulties", outcome="rent_arrears")
    assert (done.status, done.outcome, done.recorded_by_id) == ("difficulties", "rent_arrears", referent.id)
    with pytest.raises(Conflict):
        followup.record_checkpoint(db, referent, first.public_id, status="fine", outcome="none")


def test_reminders_before_due_and_once_past_each_once(db):
    proposal = _leased(db)
    referent = factories.create_user(db, "association", organisation=proposal.household.association)
    three = next(c for c in followup.list_checkpoints(db, referent) if c.months == 3)

    def notices() -> list[str]:
        return list(db.scalars(sa.select(Notification.msgid).where(
            Notification.organisation_id == three.association_id, Notification.link.like("/association/suivi/%"))))

    assert followup.send_reminders(db, 7, today=three.due_on - dt.timedelta(days=8)) == 0
    assert followup.send_reminders(db, 7, today=three.due_on - dt.timedelta(days=7)) == 1
    assert followup.send_reminders(db, 7, today=three.due_on - dt.timedelta(days=2)) == 0
    assert followup.send_reminders(db, 7, today=three.due_on + dt.timedelta(days=1)) == 1
    assert followup.send_reminders(db, 7, today=three.due_on + dt.timedelta(days=5)) == 0
    assert [m.startswith("Rappel") for m in notices()] == [True, False]
    # On the referent's worklist, overdue; recorded, it leaves it.
    late = followup.worklist(db, referent, 7, today=three.due_on + dt.timedelta(days=1))
    assert [(w.checkpoint.id, w.overdue) for w in late] == [(three.id, True)]
    assert followup.overdue_count(db, referent, today=three.due_on + dt.timedelta(days=1)) == 1
    followup.record_checkpoint(db, referent, three.public_id, status="fine", outcome="support_in_place")
    assert followup.worklist(db, referent, 7, today=three.due_on + dt.timedelta(days=1)) == []
    assert followup.send_reminders(db, 7, today=three.due_on + dt.timedelta(days=9)) == 0
