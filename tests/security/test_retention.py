"""Retention: `passerelle purge` erases households closed for too long, and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import CliRunner

from models import AuditEvent, Decision, Household, Proposal
from services import privacy
from tests import factories
from web.cli import main

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _closed(db, months_ago: float, status: str = "withdrawn", **kw):  # type: ignore[no-untyped-def]
    return factories.create_household(db, status=status, closed_at=NOW - dt.timedelta(days=30.5 * months_ago), **kw)


def test_purge_erases_old_closed_households_with_their_proposals(db):
    old_housed = _closed(db, 13, "housed", notes="CANARY-NOTE-PURGE")
    old_withdrawn = _closed(db, 14)
    recent = _closed(db, 11)
    active = factories.create_household(db, status="active")
    proposal = factories.create_proposal(db, household=old_housed, status="leased")
    db.add(Decision(proposal=proposal, step="household", outcome="accept"))
    kept_proposal = factories.create_proposal(db, household=active)
    db.flush()
    ids = {old_housed.public_id, old_withdrawn.public_id}
    erased = privacy.purge(db, 12, now=NOW)
    assert set(erased) == ids
    remaining = set(db.scalars(sa.select(Household.public_id)))
    assert ids.isdisjoint(remaining) and {recent.public_id, active.public_id} <= remaining
    assert db.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0
    assert list(db.scalars(sa.select(Proposal.id))) == [kept_proposal.id]
    # One audit row per erasure, naming no one; earlier rows about her stay.
    db.commit()  # as a view would: the caller's commit writes the audit trail
    events = list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "household.purge")))
    assert {e.object_id for e in events} == ids and all(e.actor_id is None for e in events)
    # Nothing readable of her remains anywhere in the database.
    dump = " ".join(str(v) for t in ("households", "proposals", "decisions", "audit_events")
                    for row in db.execute(sa.text(f"SELECT * FROM {t}")) for v in row)  # noqa: S608
    assert "CANARY" not in dump


def test_a_shorter_retention_can_be_asked(db):
    h = _closed(db, 7)
    assert privacy.purge(db, 12, now=NOW) == []
    assert privacy.purge(db, 6, now=NOW) == [h.public_id]


def test_cutoff_is_in_calendar_months():
    assert privacy.purge_cutoff(12, NOW) == dt.datetime(2025, 11, 23, 10, 0, tzinfo=dt.UTC)
    assert privacy.purge_cutoff(1, dt.datetime(2026, 3, 31, tzinfo=dt.UTC)) == dt.datetime(2026, 2, 28, tzinfo=dt.UTC)
    assert privacy.purge_cutoff(14, dt.datetime(2026, 1, 15, tzinfo=dt.UTC)) == dt.datetime(2024, 11, 15,
                                                                                            tzinfo=dt.UTC)


def test_purge_command(cli_db, monkeypatch):
    with so.Session(cli_db) as session:
        old = factories.create_household(session, status="withdrawn", closed_at=dt.datetime.now(dt.UTC)
                                         - dt.timedelta(days=400))
        mid = factories.create_household(session, status="housed", closed_at=dt.datetime.now(dt.UTC)
                                         - dt.timedelta(days=200))
        session.commit()
        old_id, mid_id = old.public_id, mid.public_id
    r = CliRunner().invoke(main, ["purge", "--dry-run"])
    assert r.exit_code == 0 and "1 household(s)" in r.output
    r = CliRunner().invoke(main, ["purge"])
    assert r.exit_code == 0, r.output
    assert "1 household(s) closed for more than 12 months erased." in r.output
    monkeypatch.setenv("PASSERELLE_PURGE_AFTER_MONTHS", "24")
    r = CliRunner().invoke(main, ["purge"])
    assert "0 household(s) closed for more than 24 months" in r.output
    r = CliRunner().invoke(main, ["purge", "--older-than-months", "6"])
    assert r.exit_code == 0 and "1 household(s)" in r.output
    with so.Session(cli_db) as session:
        assert list(session.scalars(sa.select(Household.public_id))) == []
        purged = set(session.scalars(sa.select(AuditEvent.object_id).where(AuditEvent.action == "household.purge")))
        assert purged == {old_id, mid_id}
    r = CliRunner().invoke(main, ["audit", "verify"])
    assert r.exit_code == 0 and "intact" in r.output


@pytest.mark.parametrize("months", ["0", "-3", "abc"])
def test_purge_refuses_a_bad_duration(cli_db, months):
    r = CliRunner().invoke(main, ["purge", "--older-than-months", months])
    assert r.exit_code == 2


# --- Retention per purpose (issue 18): the follow-up after the lease ----------------------


def _rehoused(db, months_ago: float, department: str = "59"):  # type: ignore[no-untyped-def]
    """A household housed `months_ago` through a lease, with its three checkpoints due."""
    from models import Checkpoint

    leased_at = NOW - dt.timedelta(days=30.5 * months_ago)
    household = _closed(db, months_ago, "housed")
    unit = factories.create_unit(db, department=department, commune="59350" if department == "59" else "62041")
    proposal = factories.create_proposal(db, unit=unit, household=household, status="leased")
    db.add(Decision(proposal=proposal, step="lease", outcome="accept", decided_at=leased_at))
    lease_on = leased_at.date()
    for months, due_days in ((3, 91), (6, 183), (12, 365)):
        db.add(Checkpoint(proposal=proposal, household=household, association_id=household.association_id,
                          months=months, lease_on=lease_on, due_on=lease_on + dt.timedelta(days=due_days)))
    db.flush()
    return household


def _record_all(db, household):  # type: ignore[no-untyped-def]
    from models import Checkpoint

    for c in db.scalars(sa.select(Checkpoint).where(Checkpoint.household_id == household.id)):
        c.status, c.outcome, c.recorded_at = "fine", "none", NOW
    db.flush()


def test_a_rehoused_household_is_kept_while_a_checkpoint_is_due_then_erased(db):
    # Housed 13 months ago: closed long enough, but her 12-month checkpoint (due a month ago)
    # is still to record: the follow-up needs her file.
    household = _rehoused(db, 13)
    assert privacy.purge(db, 12, now=NOW) == []
    # Recorded: nothing keeps her file any more.
    _record_all(db, household)
    assert privacy.purge(db, 12, now=NOW) == [household.public_id]


def test_a_checkpoint_left_unrecorded_keeps_her_file_only_for_the_grace_months(db):
    # Housed 16 months ago: the 12-month checkpoint is 4 months late, past the 3 months of grace.
    late = _rehoused(db, 16)
    within = _rehoused(db, 14)  # 2 months late: kept
    assert privacy.purge(db, 12, now=NOW) == [late.public_id]
    assert privacy.purge(db, 12, now=NOW, followup_grace_months=1) == [within.public_id]


def test_a_convention_in_force_keeps_the_files_of_the_rehousings_it_covers(db):
    from models import Convention

    covered = _rehoused(db, 14)
    elsewhere = _rehoused(db, 14, department="62")
    before = _rehoused(db, 30)
    for h in (covered, elsewhere, before):
        _record_all(db, h)
    db.add(Convention(title="Pass'Logement Nord 2025-2027", parties=["AR Hlm", "FNSF"], funders=[],
                      departments=["59"], starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2027, 1, 1)))
    db.flush()
    # Her lease (14 months ago, in 59) lies in the convention, which lasts: kept. The one in 62
    # and the one before the convention began go.
    assert set(privacy.purge(db, 12, now=NOW)) == {elsewhere.public_id, before.public_id}
    # Once the convention has ended, she goes too.
    assert privacy.purge(db, 12, now=dt.datetime(2027, 1, 2, tzinfo=dt.UTC)) == [covered.public_id]
