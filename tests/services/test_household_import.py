"""Importing many households at once: the one validation path, all rows or none, one audit event."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from models import AuditEvent, Household, crypto
from services import households as svc
from services.errors import ValidationError
from tests import factories
from tests.conftest import DATA_KEY


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def row(i: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": f"IMP-{i:04d}", "adults": 1, "children": i % 3,
        "monthly_income": 1200.0 + i, "housing_allowance": 200.0, "urgency": i % 4,
        "requested_on": "2026-05-14", "ready_from": "2026-11-01",
        "search_area": {"communes": [], "departments": ["59"]},
        "exclusion_zones": [{"lat": 50.7236, "lon": 3.1610, "radius_km": 10.0}],
    }
    data.update(overrides)
    return data


def events(db, action: str) -> list[AuditEvent]:
    db.commit()  # as a view would: the caller's commit writes the audit trail
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def households_of(db, association) -> list[Household]:
    return list(db.scalars(sa.select(Household).where(Household.association_id == association.id)
                           .order_by(Household.reference)))


def test_every_row_is_created_as_a_draft_with_one_audit_event(db):
    association = factories.create_organisation(db, "association")
    actor = factories.create_user(db, "association", organisation=association)

    assert svc.import_households(db, association, [row(i) for i in range(30)], actor=actor) == 30

    created = households_of(db, association)
    assert [h.reference for h in created] == [f"IMP-{i:04d}" for i in range(30)]
    assert {h.status for h in created} == {"draft"}
    assert created[4].exclusion_zones == [{"lat": 50.7236, "lon": 3.161, "radius_km": 10.0}]
    assert len({h.public_id for h in created}) == 30
    (event,) = events(db, "household.import")
    assert event.object_type == "household_import"
    assert event.object_id == f"{association.code}:30"
    assert event.actor_id == actor.id
    # One event for the batch, none per household.
    assert events(db, "household.create") == []


def test_activate_needs_each_rows_consent_and_activates_all(db):
    association = factories.create_organisation(db, "association")
    rows = [row(i, consent_recorded_on="2026-11-01") for i in range(5)]

    assert svc.import_households(db, association, rows, actor=None, activate=True) == 5

    created = households_of(db, association)
    assert {h.status for h in created} == {"active"}
    assert all(h.activated_at is not None and h.consent_recorded_on == dt.date(2026, 11, 1) for h in created)
    assert [e.object_id for e in events(db, "household.activate")] == [f"{association.code}:5"]


def test_one_bad_row_adds_nothing_and_names_the_row_and_field(db):
    association = factories.create_organisation(db, "association")
    factories.create_household(db, association=association, reference="IMP-0003")
    rows = [row(i) for i in range(6)]
    rows[1]["adults"] = 0
    rows[2]["exclusion_zones"] = [{"lat": 50.7, "lon": 3.1, "radius_km": -1}]
    rows[4]["reference"] = "IMP-0000"
    rows[5]["nom"] = "Dupont"

    with pytest.raises(ValidationError) as info:
        svc.import_households(db, association, rows, actor=None, activate=True)

    errors = {k: [str(m) for m in v] for k, v in info.value.errors.items()}
    assert set(errors) >= {"rows[1].adults", "rows[2].exclusion_zones[0].radius_km", "rows[3].reference",
                           "rows[4].reference", "rows[5].nom", "rows[0].consent_recorded_on"}
    assert errors["rows[1].adults"] == ["Le ménage compte au moins un adulte."]
    assert errors["rows[3].reference"] == ["Vous avez déjà un ménage avec cette référence : IMP-0003."]
    assert errors["rows[4].reference"] == ["Référence IMP-0000 déjà présente dans rows[0]."]
    assert errors["rows[5].nom"] == ["Champ inconnu."]
    assert [h.reference for h in households_of(db, association)] == ["IMP-0003"]
    assert events(db, "household.import") == []


def test_another_associations_references_do_not_clash(db):
    mine, theirs = (factories.create_organisation(db, "association") for _ in range(2))
    factories.create_household(db, association=theirs, reference="IMP-0000")

    assert svc.import_households(db, mine, [row(0)], actor=None) == 1


def test_the_distance_to_france_is_the_same_as_scanning_every_commune():
    # The cell index is a shortcut: the answer must be the full scan's, everywhere.
    import math
    import random

    lats, lons = svc._commune_points()
    rnd = random.Random(8)
    points = [(rnd.uniform(41, 51.5), rnd.uniform(-5.5, 10)) for _ in range(300)]  # France and around
    points += [(rnd.uniform(-90, 90), rnd.uniform(-180, 180)) for _ in range(100)]  # anywhere
    points += [(-13.3, -176.2), (-14.3, 178.1), (16.25, -61.58), (-21.1, 55.5), (89.9, 0.0), (48.85, 2.35)]
    for lat, lon in points:
        full = svc._nearest_km(lats, lons, math.radians(lat), math.radians(lon))
        assert svc.distance_to_france_km(lat, lon) == pytest.approx(full, abs=1e-9), (lat, lon)
