"""Emergency and temporary places (issue 18): matched apart from permanent homes, her
exclusion zones held, the household still active for her permanent home, counted apart."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models import Notification, Placement, Proposal
from services import clock, offers, proposals, runs, shelter, units
from services.errors import Conflict, NotFound, ValidationError
from tests import factories
from tests.places import DUNKERQUE, LILLE, ROUBAIX


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """A coordination of the 59, a landlord with one emergency place in Lille and one permanent
    home in Dunkerque, an association and two active households (one must never be in Lille)."""
    association = factories.create_organisation(db, "association", departments=["59"])
    referent = factories.create_user(db, "association", organisation=association)
    landlord_org = factories.create_organisation(db, "landlord", departments=["59"])
    landlord = factories.create_user(db, "landlord", organisation=landlord_org)
    coordination = factories.create_organisation(db, "coordinator", departments=["59"])
    coordinator = factories.create_user(db, "coordinator", organisation=coordination)
    elsewhere = factories.create_organisation(db, "coordinator", departments=["13"])
    stranger = factories.create_user(db, "coordinator", organisation=elsewhere)
    place = factories.create_unit(db, landlord=landlord_org, reference="ABRI-1", temporary=True, max_stay_days=90,
                                  **LILLE)
    home = factories.create_unit(db, landlord=landlord_org, reference="HOME", **DUNKERQUE)
    active = dict(activated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
                  search_area={"communes": [], "departments": ["59"]}, exclusion_zones=[{"department": "80"}])
    her = factories.create_household(db, association=association, urgency=3, **active)
    never_lille = factories.create_household(db, association=association, urgency=3,
                                             **{**active, "exclusion_zones": [{"commune": "59350"}]})
    return dict(referent=referent, landlord=landlord, landlord_org=landlord_org, coordinator=coordinator,
                stranger=stranger, place=place, home=home, her=her, never_lille=never_lille)


def test_a_place_has_a_maximum_stay_and_a_home_has_none(db, world):
    base = dict(reference="A-1", commune="59350", rooms=2, rent="300", available_from="2026-12-01")
    with pytest.raises(ValidationError) as caught:
        units.validate_unit_fields({**base, "temporary": "oui"})
    assert "max_stay_days" in caught.value.errors
    with pytest.raises(ValidationError) as caught:
        units.validate_unit_fields({**base, "temporary": True, "max_stay_days": 800})
    assert "max_stay_days" in caught.value.errors
    clean = units.validate_unit_fields({**base, "temporary": "oui", "max_stay_days": "90"})
    assert (clean["temporary"], clean["max_stay_days"]) == (True, 90)
    # A permanent home's stay is dropped, as a hidden field would be.
    clean = units.validate_unit_fields({**base, "max_stay_days": "90"})
    assert (clean["temporary"], clean["max_stay_days"]) == (False, None)
    # And the database holds the rule itself.
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            factories.create_unit(db, landlord=world["landlord_org"], temporary=True, max_stay_days=None)


def test_no_way_to_a_permanent_home_proposes_a_place(app, db, world):
    place, her = world["place"], world["her"]
    board = offers.list_offers(db, world["referent"], household_id=her.public_id)
    assert [o.id for o in board] == [world["home"].public_id]
    with pytest.raises(Conflict):
        offers.put_forward(db, world["referent"], unit_id=place.public_id, household_id=her.public_id)
    with pytest.raises(Conflict):
        offers.direct_match(db, world["coordinator"], unit_id=place.public_id, household_id=her.public_id,
                            reason="Danger immédiat")
    request = offers.post_request(db, world["referent"], household_id=her.public_id, message="")
    with pytest.raises(Conflict):
        offers.offer_on_request(db, world["landlord"], request_id=request.public_id, unit_id=place.public_id)
    run, _ = runs.start_run(db, actor=world["coordinator"], departments=["59"])
    db.commit()
    runs.execute_run(app.extensions["db"].sessionmaker, run.id, run.attempt,
                     runs.RunSettings(heartbeat_s=0, progress_every_s=0))
    db.expire_all()
    proposed = set(db.scalars(sa.select(Proposal.unit_id).where(Proposal.run_id == run.id)))
    assert proposed == {world["home"].id}


def test_sheltering_keeps_her_active_tells_both_sides_and_says_nowhere_where(app, db, world):
    place, her = world["place"], world["her"]
    free = shelter.places(db, world["coordinator"])
    assert [(p.unit.reference, p.stay) for p in free] == [("ABRI-1", None)]
    # The household whose zones hold Lille is never offered the place.
    assert [c.household.public_id for c in free[0].candidates] == [her.public_id]
    stay = shelter.shelter(db, world["coordinator"], unit_id=place.public_id, household_id=her.public_id)
    today = clock.today("59")
    assert (stay.started_on, stay.planned_end_on, stay.ended_on) == (today, today + dt.timedelta(days=90), None)
    db.refresh(her)
    db.refresh(place)
    assert (her.status, place.status) == ("active", "published")
    told = {n.organisation_id: n.message for n in db.scalars(sa.select(Notification))}
    assert her.reference in told[her.association_id]
    landlord_message = told[world["landlord_org"].id]
    assert "ABRI-1" in landlord_message and her.reference not in landlord_message
    for message in told.values():
        assert "59350" not in message and "Lille" not in message
    # One household per place, one place per household.
    with pytest.raises(Conflict):
        shelter.shelter(db, world["coordinator"], unit_id=place.public_id,
                        household_id=world["never_lille"].public_id)
    second = factories.create_unit(db, landlord=world["landlord_org"], reference="ABRI-2", temporary=True,
                                   max_stay_days=30, **ROUBAIX)
    with pytest.raises(Conflict):
        shelter.shelter(db, world["coordinator"], unit_id=second.public_id, household_id=her.public_id)
    # Sheltered, she is still matched for a permanent home.
    db.commit()
    run, _ = runs.start_run(db, actor=world["coordinator"], departments=["59"])
    db.commit()
    runs.execute_run(app.extensions["db"].sessionmaker, run.id, run.attempt,
                     runs.RunSettings(heartbeat_s=0, progress_every_s=0))
    db.expire_all()
    assert db.scalar(sa.select(Proposal.household_id).where(
        Proposal.run_id == run.id, Proposal.unit_id == world["home"].id)) is not None


def test_her_exclusion_zones_hold_for_a_place(db, world):
    with pytest.raises(ValidationError) as caught:
        shelter.shelter(db, world["coordinator"], unit_id=world["place"].public_id,
                        household_id=world["never_lille"].public_id)
    assert "exclusion_zone" in caught.value.errors["rules"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Placement)) == 0


def test_the_database_refuses_two_open_stays_in_one_place(db, world):
    shelter.shelter(db, world["coordinator"], unit_id=world["place"].public_id, household_id=world["her"].public_id)
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            db.add(Placement(unit_id=world["place"].id, household_id=world["never_lille"].id, department="59",
                             started_on=dt.date(2026, 1, 1), planned_end_on=dt.date(2026, 2, 1)))
            db.flush()


def test_her_permanent_lease_ends_her_stay_on_the_day_she_moves_in(db, world):
    her, home = world["her"], world["home"]
    stay = shelter.shelter(db, world["coordinator"], unit_id=world["place"].public_id, household_id=her.public_id)
    proposal = offers.put_forward(db, world["referent"], unit_id=home.public_id, household_id=her.public_id)
    proposals.decide(db, world["landlord"], proposal.public_id, decision="accept", step="commission", rank=1)
    proposals.decide(db, world["landlord"], proposal.public_id, decision="accept", step="lease")
    db.flush()
    db.refresh(stay)
    assert stay.end_reason == "rehoused" and stay.ended_on is not None
    # The place is free again for the next woman.
    assert [p.stay for p in shelter.places(db, world["coordinator"])] == [None]


def test_ending_a_stay_and_who_may(db, world):
    place, her = world["place"], world["her"]
    stay = shelter.shelter(db, world["coordinator"], unit_id=place.public_id, household_id=her.public_id)
    # The landlord can neither withdraw nor turn into a home a place someone lives in.
    with pytest.raises(Conflict):
        units.withdraw_unit(db, place, actor=world["landlord"])
    with pytest.raises(Conflict):
        units.update_unit(db, place, {"temporary": False}, actor=world["landlord"])
    with pytest.raises(NotFound):
        shelter.end_stay(db, world["stranger"], stay.public_id, reason="left")
    with pytest.raises(NotFound):
        shelter.shelter(db, world["stranger"], unit_id=place.public_id, household_id=world["never_lille"].public_id)
    with pytest.raises(ValidationError):
        shelter.end_stay(db, world["coordinator"], stay.public_id, reason="rehoused")  # the lease's to say
    with pytest.raises(ValidationError):
        shelter.end_stay(db, world["coordinator"], stay.public_id, reason="left",
                         ended_on=stay.started_on - dt.timedelta(days=1))
    # Her association may record that she left.
    shelter.end_stay(db, world["referent"], stay.public_id, reason="left")
    assert (stay.end_reason, stay.ended_on) == ("left", clock.today("59"))
    with pytest.raises(Conflict):
        shelter.end_stay(db, world["coordinator"], stay.public_id, reason="left")
    units.withdraw_unit(db, place, actor=world["landlord"])
    assert place.status == "withdrawn"


def test_the_committee_counts_stays_apart_from_permanent_homes(db, world):
    """Six women sheltered in six places this quarter: five end (rehoused, maximum stay, left),
    one is still there; the places are not among the homes published."""
    from services import stats

    landlord_org, coordinator = world["landlord_org"], world["coordinator"]
    today = clock.today("59")
    association = world["her"].association
    ends = ["left", "left", "stay_ended", "stay_ended", "other", None]
    for i, reason in enumerate(ends):
        place = factories.create_unit(db, landlord=landlord_org, reference=f"ABRI-Q{i}", temporary=True,
                                      max_stay_days=90, published_at=dt.datetime.now(dt.UTC), **DUNKERQUE)
        her = factories.create_household(db, association=association, urgency=3,
                                         search_area={"communes": [], "departments": ["59"]},
                                         exclusion_zones=[{"department": "80"}])
        stay = shelter.shelter(db, coordinator, unit_id=place.public_id, household_id=her.public_id)
        if reason is not None:
            shelter.end_stay(db, coordinator, stay.public_id, reason=reason)
    db.flush()
    quarter = stats.Quarter.of(today)
    figures = stats.compute(db, quarter, ["59"])
    counted = {row.key: row.cells[0].value for row in figures.table("shelter").rows}
    assert counted == {"stays_started": 6, "stays_rehoused": 0, "stays_stay_ended": 2, "stays_left": 2,
                       "stays_other": 1, "stays_open_at_end": 1}
    headline = {row.key: row.cells[0].value for row in figures.table("headline").rows}
    assert headline["units_published"] == 0  # six places published, no permanent home
    # Published with small counts hidden, as every other table.
    shown = {row.key: row.cells[0].public_value()
             for row in stats.quarter_figures(db, quarter, ["59"]).table("shelter").rows}
    assert shown["stays_started"] == 6 and shown["stays_left"] is None and shown["stays_open_at_end"] is None
