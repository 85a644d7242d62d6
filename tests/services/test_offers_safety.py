"""The safety property of the offer board (hypothesis): for random households, zones and
units, no candidacy, request offer or direct match that `matching.check` would reject is
ever stored, and every pair that passes every hard rule can be proposed.

The expected verdict is computed here from the drawn values themselves (not from the
services' own reading of the records), with matching's `check` on the one proposal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import check, instance_from_dict
from matching import domain as mdomain
from matching.validation import pair_failures
from models import Proposal
from services import offers, runs
from services.errors import ServiceError
from tests import factories

# Communes of the Nord around Lille, with their points (the zones are drawn around them).
POINTS = {"59350": (50.6292, 3.0573), "59512": (50.6942, 3.1746), "59599": (50.7225, 3.1592),
          "59009": (50.6232, 3.1450), "59360": (50.6419, 3.0333), "59183": (51.0343, 2.3768)}
ORIGINS = ("candidacy", "request", "direct")


@st.composite
def zone(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["circle", "commune", "department"]))
    if kind == "commune":
        return {"commune": draw(st.sampled_from(sorted(POINTS)))}
    if kind == "department":
        return {"department": draw(st.sampled_from(["59", "62", "80"]))}
    lat, lon = POINTS[draw(st.sampled_from(sorted(POINTS)))]
    return {"lat": lat + draw(st.floats(-0.05, 0.05)), "lon": lon + draw(st.floats(-0.05, 0.05)),
            "radius_km": draw(st.floats(0.5, 15.0))}


@st.composite
def unit_values(draw: st.DrawFn) -> dict[str, Any]:
    commune = draw(st.sampled_from(sorted(POINTS)))
    lat, lon = POINTS[commune]
    return dict(commune=commune, lat=lat, lon=lon, rooms=draw(st.integers(1, 5)),
                floor=draw(st.integers(0, 5)), elevator=draw(st.booleans()),
                wheelchair_accessible=draw(st.booleans()),
                rent=Decimal(draw(st.integers(200, 900))), charges=Decimal(draw(st.integers(0, 150))),
                available_from=runs.today() + dt.timedelta(days=draw(st.integers(-10, 120))))


@st.composite
def household_values(draw: st.DrawFn) -> dict[str, Any]:
    return dict(adults=draw(st.integers(1, 2)), children=draw(st.integers(0, 4)),
                monthly_income=Decimal(draw(st.integers(400, 3000))),
                housing_allowance=Decimal(draw(st.integers(0, 400))),
                needs_wheelchair_access=draw(st.booleans()), needs_no_stairs=draw(st.booleans()),
                ready_from=runs.today() + dt.timedelta(days=draw(st.integers(-30, 100))),
                search_area={"communes": [], "departments": draw(st.sampled_from([["59"], ["62"], ["59", "62"]]))},
                exclusion_zones=draw(st.lists(zone(), max_size=3)))


def _instance(u: dict[str, Any], h: dict[str, Any]) -> Any:
    """The one-pair instance, written from the drawn values."""
    return instance_from_dict({
        "format": "passerelle.instance/1", "as_of": runs.today().isoformat(), "policy": runs.DEFAULT_POLICY,
        "units": [{"id": "U", "landlord": "L", "commune": u["commune"], "lat": u["lat"], "lon": u["lon"],
                   "rooms": u["rooms"], "floor": u["floor"], "elevator": u["elevator"],
                   "wheelchair_accessible": u["wheelchair_accessible"], "rent": float(u["rent"]),
                   "charges": float(u["charges"]), "surface_m2": 64.0, "financing": "PLUS", "in_qpv": False,
                   "available_from": u["available_from"].isoformat()}],
        "households": [{"id": "H", "association": "A", "adults": h["adults"], "children": h["children"],
                        "monthly_income": float(h["monthly_income"]),
                        "housing_allowance": float(h["housing_allowance"]),
                        "needs_wheelchair_access": h["needs_wheelchair_access"],
                        "needs_no_stairs": h["needs_no_stairs"], "urgency": 2,
                        "priority_categories": ["violence"], "requested_on": "2026-05-14",
                        "ready_from": h["ready_from"].isoformat(), "search_area": h["search_area"],
                        "exclusion_zones": h["exclusion_zones"]}],
    })


def _check_stored(instance: Any, proposal: Proposal) -> list[Any]:
    result = mdomain.Result(proposals=(mdomain.Proposal(
        unit="U", household="H", rank=1, score=proposal.score, components=proposal.components),), unmatched=())
    return check(instance, result)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(u=unit_values(), h=household_values(), origin=st.sampled_from(ORIGINS))
def test_no_unsafe_candidacy_offer_or_direct_match_is_ever_stored(db, u, h, origin):
    savepoint = db.begin_nested()
    try:
        landlord = factories.create_organisation(db, "landlord", departments=["59", "62"])
        association = factories.create_organisation(db, "association", departments=["59", "62"])
        coordination = factories.create_organisation(db, "coordinator", departments=["59", "62"])
        unit = factories.create_unit(db, landlord=landlord, department="59", **u)
        household = factories.create_household(db, association=association, **h)
        referent = factories.create_user(db, "association", organisation=association)
        actor = {"candidacy": referent, "request": factories.create_user(db, "landlord", organisation=landlord),
                 "direct": factories.create_user(db, "coordinator", organisation=coordination)}[origin]
        request = offers.post_request(db, referent, household_id=household.public_id) if origin == "request" else None
        try:
            if origin == "candidacy":
                offers.put_forward(db, actor, unit_id=unit.public_id, household_id=household.public_id)
            elif origin == "request":
                assert request is not None
                offers.offer_on_request(db, actor, request_id=request.public_id, unit_id=unit.public_id)
            else:
                offers.direct_match(db, actor, unit_id=unit.public_id, household_id=household.public_id,
                                    reason="urgence")
        except ServiceError:
            pass
        stored = db.scalars(sa.select(Proposal).where(Proposal.household_id == household.id)).all()
        instance = _instance(u, h)
        expected_safe = not pair_failures(instance, instance.units[0], instance.households[0])
        for proposal in stored:
            assert proposal.origin == origin
            assert _check_stored(instance, proposal) == []
        assert bool(stored) == expected_safe
    finally:
        savepoint.rollback()
