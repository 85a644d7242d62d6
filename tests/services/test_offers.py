"""The offer board's proposals in the rest of the platform: the next run treats them as
taken, and an edit that makes one unsafe cancels it like a run's."""

from __future__ import annotations

from services import offers, runs, safety
from tests import factories


def _candidacy(db):  # type: ignore[no-untyped-def]
    association = factories.create_organisation(db, "association", departments=["59"])
    referent = factories.create_user(db, "association", organisation=association)
    unit = factories.create_unit(db)
    other = factories.create_unit(db)
    household = factories.create_household(db, association=association)
    proposal = offers.put_forward(db, referent, unit_id=unit.public_id, household_id=household.public_id)
    return referent, unit, other, household, proposal


def test_the_next_run_treats_a_unit_and_a_household_under_a_candidacy_as_taken(db):
    _referent, unit, other, household, proposal = _candidacy(db)
    assert proposal.status == "household_accepted"
    run = factories.create_run(db, status="running", departments=["59"], policy=dict(runs.DEFAULT_POLICY))
    built = runs.build_instance(db, run, runs.today())
    assert unit.public_id not in built.unit_ids and household.public_id not in built.household_ids
    assert other.public_id in built.unit_ids
    assert not built.instance.locked


def test_an_exclusion_zone_added_after_a_candidacy_cancels_it(db):
    referent, unit, _other, household, proposal = _candidacy(db)
    household.exclusion_zones = [{"commune": unit.commune}]
    db.flush()
    cancelled = safety.recheck_open_proposals(db, household=household, actor=referent)
    assert cancelled == [proposal]
    db.refresh(proposal)
    assert proposal.status == "cancelled"


def test_a_message_check_lets_plain_words_through():
    assert offers.message_problem("Deux enfants, urgence, rez-de-chaussée souhaité.") is None
    assert offers.message_problem("T3 au 2e étage") is None
    assert offers.message_problem("appeler le 0612345678") is not None
