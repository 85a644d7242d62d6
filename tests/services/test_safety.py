"""Open proposals are re-checked when the facts behind them change."""

from __future__ import annotations

from models import Notification, Proposal
from services import households
from services.safety import broken_rules
from tests import factories


def _setup(db):
    unit = factories.create_unit(db, lat=50.6292, lon=3.0573, commune="59350")
    household = factories.create_household(db)
    proposal = factories.create_proposal(db, unit=unit, household=household)
    other_unit = factories.create_unit(db, commune="59183", department="59", lat=51.0344, lon=2.3768)
    far = factories.create_proposal(db, unit=other_unit, household=household, rank=1,
                                    run=proposal.run)
    return household, proposal, far


def test_a_new_exclusion_zone_cancels_the_proposals_inside_it(db):
    household, inside, outside = _setup(db)
    assert broken_rules(inside) == [] and broken_rules(outside) == []
    zones = list(household.exclusion_zones) + [{"lat": 50.63, "lon": 3.06, "radius_km": 5.0}]
    households.update_household(db, household, {"exclusion_zones": zones}, actor=None)
    db.expire_all()
    assert db.get(Proposal, inside.id).status == "cancelled"
    assert db.get(Proposal, outside.id).status == "pending"  # Dunkirk is 60 km away
    # Both sides are told, without saying where.
    texts = [str(n.message) for n in db.query(Notification).all()]
    assert any(inside.public_id in t for t in texts)
    assert not any("Lille" in t or "59350" in t for t in texts)


def test_a_commune_zone_counts_too(db):
    household, inside, outside = _setup(db)
    households.update_household(db, household, {"exclusion_zones": [{"commune": "59350"}]},
                                actor=None)
    db.expire_all()
    assert db.get(Proposal, inside.id).status == "cancelled"
    assert db.get(Proposal, outside.id).status == "pending"


def test_moving_the_search_area_away_cancels_too(db):
    household, inside, outside = _setup(db)
    households.update_household(db, household, {"search_area": {"communes": ["59183"], "departments": []}},
                                actor=None)
    db.expire_all()
    assert db.get(Proposal, inside.id).status == "cancelled"
    assert db.get(Proposal, outside.id).status == "pending"


def test_an_unrelated_change_cancels_nothing(db):
    household, inside, outside = _setup(db)
    households.update_household(db, household, {"notes": "appelée le 20/11"}, actor=None)
    db.expire_all()
    assert {db.get(Proposal, p.id).status for p in (inside, outside)} == {"pending"}


def test_a_promised_or_leased_proposal_is_left_to_people(db):
    household, inside, _ = _setup(db)
    inside.status = "leased"
    db.flush()
    households.update_household(db, household, {"exclusion_zones": [{"commune": "59350"}]},
                                actor=None)
    db.expire_all()
    assert db.get(Proposal, inside.id).status == "leased"


def test_moving_a_unit_under_review_into_her_zone_cancels_the_proposal(db):
    from services import units

    unit = factories.create_unit(db, commune="59183", department="59", lat=51.0344, lon=2.3768)
    household = factories.create_household(db)  # never within 10 km of (50.7236, 3.1610)
    run = factories.create_run(db, status="succeeded", released_at=None)
    proposal = factories.create_proposal(db, unit=unit, household=household, run=run, status="review")
    assert broken_rules(proposal) == []
    units.update_unit(db, unit, {"commune": "59512", "lat": 50.6942, "lon": 3.1746})  # Roubaix
    db.expire_all()
    dropped = db.get(Proposal, proposal.id)
    assert dropped.status == "dropped"  # never released: set aside for the coordinator, with why
    assert "zone d'exclusion" in dropped.drop_reason
