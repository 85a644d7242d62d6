"""Households: the one validation path, the lifecycle, erasure, audit, encryption at rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from matching import geo
from models import AuditEvent, Household, MatchRun, Proposal, crypto
from services import households as svc
from services.errors import Conflict, NotFound, ValidationError
from tests import factories
from tests.conftest import DATA_KEY

TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _data_key():
    """Sensitive columns need the data key, as the app installs it."""
    crypto.configure(DATA_KEY)


def valid(**overrides: Any) -> dict[str, Any]:
    """A complete, valid household as the API receives it."""
    data: dict[str, Any] = {
        "reference": "DOS-2026-017", "adults": 1, "children": 2,
        "monthly_income": 1380.0, "housing_allowance": 262.0, "reference_income": 14200,
        "needs_wheelchair_access": False, "needs_no_stairs": True, "urgency": 3,
        "priority_categories": ["violence"], "requested_on": "2026-05-14", "ready_from": "2026-11-01",
        "search_area": {"communes": [], "departments": ["59", "62"]},
        "exclusion_zones": [{"lat": 50.7236, "lon": 3.1610, "radius_km": 10.0}, {"commune": "59599"},
                            {"department": "80"}],
        "preferred_points": [{"lat": 50.6201, "lon": 3.0512, "label": "école"}],
        "notes": "Rappeler le mardi.",
    }
    data.update(overrides)
    return data


def errors_of(data: Any, **kw: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        svc.validate_household_fields(data, **kw)
    return {k: [str(m) for m in v] for k, v in info.value.errors.items()}


def test_a_valid_household_is_cleaned():
    cleaned = svc.validate_household_fields(valid())
    assert cleaned["monthly_income"] == Decimal("1380.00")
    assert cleaned["requested_on"] == dt.date(2026, 5, 14)
    assert cleaned["exclusion_zones"][1] == {"commune": "59599"}
    assert cleaned["consent_recorded_on"] is None


def test_defaults_for_optional_fields():
    data = {k: valid()[k] for k in svc.REQUIRED_FIELDS}
    cleaned = svc.validate_household_fields(data)
    assert cleaned["children"] == 0 and cleaned["housing_allowance"] == Decimal("0")
    assert cleaned["exclusion_zones"] == [] and cleaned["search_area"] == {"communes": [], "departments": []}


@pytest.mark.parametrize("field", svc.REQUIRED_FIELDS)
def test_each_required_field_is_named_when_missing(field):
    data = valid()
    del data[field]
    assert errors_of(data) == {field: ["Champ obligatoire."]}


@pytest.mark.parametrize(("overrides", "path", "message"), [
    ({"adults": 0}, "adults", "Le ménage compte au moins un adulte."),
    ({"adults": -2}, "adults", "Le ménage compte au moins un adulte."),
    ({"adults": 11}, "adults", "La valeur doit être comprise entre -1000000 et 10."),
    ({"adults": "deux"}, "adults", "Un nombre est attendu."),
    ({"adults": True}, "adults", "Un nombre est attendu."),
    ({"adults": 1.5}, "adults", "Un nombre entier est attendu."),
    ({"adults": "1"}, "adults", "Un nombre est attendu."),  # the API takes JSON numbers only
    ({"children": 16}, "children", "La valeur doit être comprise entre 0 et 15."),
    ({"children": None}, "children", "Un nombre est attendu."),
    ({"monthly_income": -1}, "monthly_income", "Un montant ne peut pas être négatif."),
    ({"housing_allowance": -0.01}, "housing_allowance", "Un montant ne peut pas être négatif."),
    ({"monthly_income": 1e9}, "monthly_income",
     "Montant mensuel invraisemblable (plus de 50000 €) : vérifiez la saisie."),
    ({"monthly_income": float("nan")}, "monthly_income", "Un nombre fini est attendu."),
    ({"monthly_income": float("inf")}, "monthly_income", "Un nombre fini est attendu."),
    ({"reference_income": -5}, "reference_income", "La valeur doit être comprise entre 0 et 1000000."),
    ({"urgency": 5}, "urgency", "La valeur doit être comprise entre 0 et 3."),
    ({"urgency": -1}, "urgency", "La valeur doit être comprise entre 0 et 3."),
    ({"needs_no_stairs": "oui"}, "needs_no_stairs", "Vrai ou faux (true/false) est attendu."),
    ({"priority_categories": ["violence", "vip"]}, "priority_categories", "Catégorie inconnue : vip."),
    ({"priority_categories": "violence"}, "priority_categories", "Une liste est attendue."),
    ({"requested_on": "2026-02-30"}, "requested_on", "Cette date n'existe pas : 2026-02-30."),
    ({"requested_on": "14/05/2026"}, "requested_on", "Une date AAAA-MM-JJ est attendue."),
    ({"requested_on": 20260514}, "requested_on", "Une date AAAA-MM-JJ est attendue."),
    ({"requested_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "requested_on",
     "Cette date ne peut pas être dans le futur."),
    ({"ready_from": "1890-01-01"}, "ready_from", "Date trop ancienne : 1890-01-01."),
    ({"ready_from": "2999-01-01"}, "ready_from", "Date trop lointaine : 2999-01-01."),
    ({"ready_from": "2026-13-01"}, "ready_from", "Cette date n'existe pas : 2026-13-01."),
    ({"consent_recorded_on": (TODAY + dt.timedelta(days=3)).isoformat()}, "consent_recorded_on",
     "Cette date ne peut pas être dans le futur."),
    ({"reference": ""}, "reference", "Champ obligatoire."),
    ({"reference": "x" * 81}, "reference", "Au plus 80 caractères."),
    ({"notes": "x" * 5001}, "notes", "Au plus 5000 caractères."),
    ({"notes": 12}, "notes", "Du texte est attendu."),
    ({"search_area": {"communes": ["99999"]}}, "search_area.communes[0]",
     "Code INSEE de commune inconnu : 99999."),
    ({"search_area": {"departments": ["59", "00"]}}, "search_area.departments[1]",
     "Code de département inconnu : 00."),
    ({"search_area": {"regions": ["32"]}}, "search_area.regions", "Champ inconnu dans le secteur recherché."),
    ({"search_area": ["59"]}, "search_area", "Un objet {communes: [...], departments: [...]} est attendu."),
])
def test_bad_values_are_refused_naming_the_field(overrides, path, message):
    assert errors_of(valid(**overrides)) == {path: [message]}


@pytest.mark.parametrize(("zone", "path", "message"), [
    ({"lat": 50.7, "lon": 3.1, "radius_km": 0}, "exclusion_zones[1].radius_km",
     "Le rayon doit être supérieur à 0 km."),
    ({"lat": 50.7, "lon": 3.1, "radius_km": -3}, "exclusion_zones[1].radius_km",
     "Le rayon doit être supérieur à 0 km."),
    ({"lat": 50.7, "lon": 3.1, "radius_km": 301}, "exclusion_zones[1].radius_km",
     "Le rayon ne peut pas dépasser 300 km : excluez plutôt des départements."),
    ({"lat": 123, "lon": 3.1, "radius_km": 5}, "exclusion_zones[1].lat",
     "La latitude doit être comprise entre -90 et 90."),
    ({"lat": 50.7, "lon": 190, "radius_km": 5}, "exclusion_zones[1].lon",
     "La longitude doit être comprise entre -180 et 180."),
    ({"lat": 50.7, "radius_km": 5}, "exclusion_zones[1].lon", "Longitude obligatoire."),
    ({"lat": 50.7, "lon": 3.1}, "exclusion_zones[1].radius_km", "Rayon obligatoire (en km)."),
    ({"lat": "50.7", "lon": 3.1, "radius_km": 5}, "exclusion_zones[1].lat", "Un nombre est attendu."),
    ({"commune": "59512", "lat": 50.7}, "exclusion_zones[1]",
     "Une zone est soit un point avec un rayon (lat, lon, radius_km), soit une commune, soit un département : "
     "jamais un mélange."),
    ({"commune": "59512", "department": "59"}, "exclusion_zones[1]",
     "Une zone est soit un point avec un rayon (lat, lon, radius_km), soit une commune, soit un département : "
     "jamais un mélange."),
    ({}, "exclusion_zones[1]",
     "Une zone est soit un point avec un rayon (lat, lon, radius_km), soit une commune, soit un département : "
     "jamais un mélange."),
    ({"commune": "Roubaix"}, "exclusion_zones[1].commune", "Code INSEE de commune inconnu : Roubaix."),
    ({"department": "96"}, "exclusion_zones[1].department", "Code de département inconnu : 96."),
    ({"department": "80", "note": "x"}, "exclusion_zones[1].note", "Champ inconnu dans une zone d'exclusion."),
    ("59512", "exclusion_zones[1]", "Une zone est un objet : {lat, lon, radius_km}, {commune} ou {department}."),
    # Latitude and longitude swapped: the zone would protect nobody, in the Indian Ocean.
    ({"lat": 3.161, "lon": 50.7236, "radius_km": 10}, "exclusion_zones[1]",
     "Ce point est à 1869 km de la commune française la plus proche : vérifiez la latitude et la longitude "
     "(inversées ?)."),
])
def test_bad_exclusion_zones_are_refused_with_their_index(zone, path, message):
    data = valid(exclusion_zones=[{"department": "80"}, zone])
    assert errors_of(data) == {path: [message]}


def test_a_point_abroad_near_the_border_is_accepted():
    # His family lives in Brussels: 60 km from the nearest French commune.
    cleaned = svc.validate_household_fields(valid(exclusion_zones=[{"lat": 50.85, "lon": 4.35, "radius_km": 20}]))
    assert cleaned["exclusion_zones"] == [{"lat": 50.85, "lon": 4.35, "radius_km": 20.0}]


@pytest.mark.parametrize(("point", "path", "message"), [
    ({"lat": 50.6, "lon": 3.05}, "preferred_points[0].label", "Champ obligatoire."),
    ({"lat": 95, "lon": 3.05, "label": "école"}, "preferred_points[0].lat",
     "La latitude doit être comprise entre -90 et 90."),
    ({"lat": 50.6, "lon": 3.05, "label": "école", "radius_km": 3}, "preferred_points[0].radius_km",
     "Champ inconnu dans un lieu à privilégier."),
])
def test_bad_preferred_points(point, path, message):
    assert errors_of(valid(preferred_points=[point])) == {path: [message]}


@pytest.mark.parametrize("field", ["id", "status", "association", "public_id", "activated_at"])
def test_fields_the_server_sets_are_refused(field):
    assert errors_of(valid(**{field: "x"})) == {field: ["Ce champ est fixé par la plateforme : ne l'envoyez pas."]}


def test_unknown_fields_are_refused_so_a_typo_never_drops_a_zone():
    data = valid()
    data["exclusion_zone"] = data.pop("exclusion_zones")
    assert errors_of(data) == {"exclusion_zone": ["Champ inconnu."]}


@pytest.mark.parametrize("reference", ["Mme Dupont", "madame DUPONT", "M. Martin", "Mlle Léa",
                                       "marie@example.org", "06 12 34 56 78", "Dupont 12/03/1985"])
def test_references_that_look_like_a_person_are_refused(reference):
    assert list(errors_of(valid(reference=reference))) == ["reference"]


@pytest.mark.parametrize("reference", ["DOS-2026-017", "MME-0001x", "2026/042", "Dossier 42"])
def test_file_numbers_are_accepted(reference):
    assert svc.validate_household_fields(valid(reference=reference))["reference"] == reference


def test_a_place_cannot_be_both_searched_and_excluded():
    data = valid(search_area={"communes": ["59350", "80021"], "departments": ["59", "80"]})
    assert errors_of(data) == {
        "search_area.communes[1]": ["Cette commune est aussi une zone d'exclusion : 80021."],
        "search_area.departments[1]": ["Ce département est aussi une zone d'exclusion : 80."],
    }


def test_form_text_is_read_with_french_conventions():
    data = valid(adults="1", children="", monthly_income="1 380,50", housing_allowance="",
                 reference_income="", requested_on="14/05/2026", ready_from="2026-11-01",
                 exclusion_zones=[{"lat": "50,7236", "lon": "3,1610", "radius_km": "10"}])
    cleaned = svc.validate_household_fields(data, text=True)
    assert cleaned["monthly_income"] == Decimal("1380.50") and cleaned["children"] == 0
    assert cleaned["housing_allowance"] == Decimal("0") and cleaned["reference_income"] is None
    assert cleaned["requested_on"] == dt.date(2026, 5, 14)
    assert cleaned["exclusion_zones"] == [{"lat": 50.7236, "lon": 3.161, "radius_km": 10.0}]


def test_not_an_object():
    assert errors_of(["a"]) == {"_schema": ["Un objet JSON est attendu."]}


def test_partial_checks_only_what_is_given():
    assert svc.validate_household_fields({"urgency": 2}, partial=True) == {"urgency": 2}
    assert errors_of({"urgency": 7}, partial=True) == {"urgency": ["La valeur doit être comprise entre 0 et 3."]}


# --- Zones in words, and "commune + distance" covering the whole commune ------------------


def test_commune_plus_distance_covers_the_whole_commune():
    roubaix = geo.commune("59512")
    zone = svc.commune_point_zone(roubaix, 10)
    assert zone["lat"] == roubaix.lat and zone["lon"] == roubaix.lon
    assert zone["radius_km"] >= 10 + roubaix.radius_km
    # Any point of Roubaix is within radius_km of its centre, so 10 km from it is inside the zone.
    assert svc.point_as_commune(zone) == (roubaix, pytest.approx(10, abs=0.001))


def test_zones_in_words(app):
    zones = [svc.commune_point_zone(geo.commune("59512"), 10), {"commune": "59599"}, {"department": "80"},
             {"lat": 50.1, "lon": 3.2, "radius_km": 5.5}]
    with app.test_request_context(), force_locale("fr"):
        assert svc.describe_exclusion_zones(zones) == [
            "Jamais à moins de 10 km de Roubaix (59512) (cercle de 12,74 km autour de son centre)",
            "Jamais à Tourcoing (59599)",
            "Jamais dans le département Somme (80)",
            "Jamais à moins de 5,5 km du point 50.10000, 3.20000",
        ]
    with app.test_request_context(), force_locale("en"):
        words = svc.describe_exclusion_zones(zones)
    assert "12.74 km" in words[0] and "5.5 km" in words[3]


def test_max_rent_is_the_effort_rate_of_income_plus_allowance():
    assert svc.max_rent(Decimal("1380"), Decimal("262")) == Decimal("676")
    assert svc.max_rent(Decimal("1000"), Decimal("0"), 0.25) == Decimal("250")


# --- Lifecycle ----------------------------------------------------------------------------


@pytest.fixture
def association(db):
    return factories.create_organisation(db, "association")


@pytest.fixture
def referent(db, association):
    return factories.create_user(db, "association", organisation=association)


def audit_actions(db, public_id):
    db.commit()  # as a view would: the caller's commit writes the audit trail
    return [e.action for e in db.scalars(sa.select(AuditEvent).where(AuditEvent.object_id == public_id)
                                         .order_by(AuditEvent.id))]


def test_create_is_a_draft_of_the_association(db, association, referent):
    household = svc.create_household(db, association, valid(), actor=referent)
    assert household.status == "draft" and household.association_id == association.id
    assert household.public_id.startswith("H-")
    assert audit_actions(db, household.public_id) == ["household.create"]


def test_same_reference_twice_is_a_conflict(db, association, referent):
    svc.create_household(db, association, valid(), actor=referent)
    with pytest.raises(Conflict) as info:
        svc.create_household(db, association, valid(), actor=referent)
    assert info.value.field == "reference"
    # Another association may use the same file number.
    other = factories.create_organisation(db, "association")
    svc.create_household(db, other, valid(), actor=None)


def test_activation_needs_consent(db, association, referent):
    household = svc.create_household(db, association, valid(), actor=referent)
    with pytest.raises(ValidationError) as info:
        svc.activate_household(db, household, actor=referent)
    assert list(info.value.errors) == ["consent_recorded_on"]
    assert household.status == "draft" and household.activated_at is None
    svc.activate_household(db, household, actor=referent, data={"consent_recorded_on": "2026-11-20"})
    assert household.status == "active" and household.consent_recorded_on == dt.date(2026, 11, 20)
    assert household.activated_at is not None
    with pytest.raises(Conflict):
        svc.activate_household(db, household, actor=referent)


def test_the_database_itself_refuses_an_active_household_without_consent(db, association):
    household = factories.create_household(db, association=association, status="draft", consent_recorded_on=None)
    db.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.execute(sa.update(Household).where(Household.id == household.id).values(status="active"))
    db.rollback()


def test_consent_cannot_be_removed_from_an_active_household(db, association, referent):
    household = factories.create_household(db, association=association)
    with pytest.raises(ValidationError) as info:
        svc.update_household(db, household, {"consent_recorded_on": None}, actor=referent)
    assert list(info.value.errors) == ["consent_recorded_on"]


def test_withdraw_then_activate_again(db, association, referent):
    household = factories.create_household(db, association=association)
    svc.withdraw_household(db, household, actor=referent)
    assert household.status == "withdrawn" and household.closed_at is not None
    with pytest.raises(Conflict):
        svc.withdraw_household(db, household, actor=referent)
    svc.activate_household(db, household, actor=referent)
    assert household.status == "active" and household.closed_at is None


def test_withdrawing_a_proposed_household_cancels_her_proposals_and_passes_her_lease_on(
        app, db, association, referent):
    from models import Decision, Notification

    household = factories.create_household(db, association=association)
    run = factories.create_run(db)
    pending = factories.create_proposal(db, household=household, run=run)
    offered = factories.create_proposal(db, household=household, run=run, rank=2)
    next_one = factories.create_proposal(db, unit=offered.unit, run=run, rank=1)
    for p, status, rank in ((offered, "commission_accepted", 1), (next_one, "commission_ranked", 2)):
        p.status, p.commission_rank = status, rank
        db.add(Decision(proposal=p, step="household", outcome="accept"))
    db.flush()
    with app.app_context():
        svc.withdraw_household(db, household, actor=referent)
    assert household.status == "withdrawn"
    for p in (pending, offered):
        db.refresh(p)
        assert p.status == "cancelled"
        notes = [n.message for n in db.scalars(sa.select(Notification).where(
            Notification.organisation_id == p.unit.landlord_id))]
        assert f"La proposition {p.public_id} est annulée." in notes
    assert pending.unit.status == "published"
    # The lease she was offered goes to the unit's next-ranked candidate.
    db.refresh(next_one)
    assert next_one.status == "commission_accepted" and offered.unit.status == "proposed"
    db.commit()  # as a view would: the caller's commit writes the audit trail
    assert db.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_id == household.public_id)
                     .order_by(AuditEvent.id.desc()).limit(1)) == "household.withdraw"


def test_erasing_a_proposed_household_cancels_her_proposals_first(app, db, association, referent):
    from models import Notification

    household = factories.create_household(db, association=association)
    pending = factories.create_proposal(db, household=household)
    proposal_id, landlord_id, unit = pending.public_id, pending.unit.landlord_id, pending.unit
    with app.app_context():
        svc.erase_household(db, household, actor=referent)
    assert db.scalar(sa.select(Household.id).where(Household.public_id == household.public_id)) is None
    assert unit.status == "published"
    db.commit()  # as a view would: the caller's commit writes the audit trail
    actions = list(db.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_id.in_((proposal_id, household.public_id))).order_by(AuditEvent.id)))
    assert actions == ["proposal.cancel", "household.erase"]
    # The landlord hears the proposal is cancelled, never that she was erased or who she is.
    notes = [n.message for n in db.scalars(sa.select(Notification).where(
        Notification.organisation_id == landlord_id))]
    assert notes == [f"La proposition {proposal_id} est annulée."]


def test_a_housed_household_is_not_edited(db, association, referent):
    household = factories.create_household(db, association=association, status="housed")
    with pytest.raises(Conflict):
        svc.update_household(db, household, {"urgency": 1}, actor=referent)


def test_update_changes_only_given_fields(db, association, referent):
    household = factories.create_household(db, association=association, urgency=1)
    svc.update_household(db, household, {"urgency": 3, "exclusion_zones": [{"department": "62"}]}, actor=referent)
    assert household.urgency == 3 and household.exclusion_zones == [{"department": "62"}]
    assert household.adults == 1
    assert audit_actions(db, household.public_id) == ["household.update"]


def test_erase_removes_the_household_and_its_proposals_and_keeps_an_anonymous_audit_row(db, association, referent):
    household = factories.create_household(db, association=association, status="housed",
                                           notes="Ne pas appeler le soir")
    unit = factories.create_unit(db)
    run = MatchRun(departments=["59"], status="succeeded")
    db.add(run)
    db.flush()
    db.add(Proposal(run=run, unit=unit, household=household, rank=1, score=1.0, components={}, status="leased"))
    db.flush()
    public_id = household.public_id
    assert svc.erase_household(db, household, actor=referent) == public_id
    db.expire_all()
    assert db.scalar(sa.select(sa.func.count()).select_from(Household).where(Household.public_id == public_id)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    db.commit()  # as a view would: the caller's commit writes the audit trail
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "household.erase"))
    assert event.object_type == "household" and event.object_id == public_id and event.actor_id == referent.id
    row = db.execute(sa.select(AuditEvent.__table__).where(AuditEvent.id == event.id)).one()
    assert not any(isinstance(v, str) and ("Ne pas appeler" in v or household.reference in v) for v in row)


def test_sensitive_fields_are_ciphertext_in_the_database(db, association):
    household = factories.create_household(
        db, association=association, notes="Le conjoint travaille à la gare",
        exclusion_zones=[{"lat": 50.7236, "lon": 3.161, "radius_km": 10.0}, {"commune": "59599"},
                         {"department": "80"}],
        preferred_points=[{"lat": 50.6201, "lon": 3.0512, "label": "école"}],
    )
    db.commit()
    row = db.execute(sa.text("SELECT exclusion_zones, preferred_points, notes FROM households WHERE id = :id"),
                     {"id": household.id}).one()
    raw = " ".join(row)
    for plaintext in ("50.7236", "3.161", "59599", "department", "radius", "gare", "conjoint", "école",
                      "50.6201", "ecole"):
        assert plaintext not in raw
    db.expire_all()
    assert db.get(Household, household.id).exclusion_zones[1] == {"commune": "59599"}


def test_get_household_outside_the_association_is_not_found(db, association):
    household = factories.create_household(db, association=association)
    other = factories.create_organisation(db, "association")
    assert svc.get_household(db, household.public_id, association=association) is household
    with pytest.raises(NotFound):
        svc.get_household(db, household.public_id, association=other)
    with pytest.raises(NotFound):
        svc.get_household(db, "H-nope", association=None)


def test_list_filters_by_association_status_and_department(db, association):
    other = factories.create_organisation(db, "association")
    a = factories.create_household(db, association=association, urgency=1)
    b = factories.create_household(db, association=association, urgency=3, status="draft", consent_recorded_on=None,
                                   search_area={"communes": ["80021"], "departments": []})
    c = factories.create_household(db, association=other, search_area={})
    assert [h.id for h in svc.list_households(db, association=association).items] == [b.id, a.id]
    assert [h.id for h in svc.list_households(db, association=association, statuses=["active"]).items] == [a.id]
    in_80 = svc.list_households(db, department="80").items
    assert {h.id for h in in_80} >= {b.id, c.id} and a.id not in {h.id for h in in_80}


def test_waiting_days(db, association):
    household = factories.create_household(db, association=association,
                                           requested_on=TODAY - dt.timedelta(days=42))
    assert svc.waiting_days(household) == 42
    household.status = "withdrawn"
    assert svc.waiting_days(household) is None


def test_a_shared_home_file_is_never_active_without_an_exclusion_zone(db, association, referent):
    """She still lives with him: with no zone, a unit next door could be proposed to her."""
    shared = valid(priority_categories=["violence", "shared_home"], exclusion_zones=[])
    household = svc.create_household(db, association, shared, actor=referent)
    assert household.status == "draft"  # a draft may wait for its zones
    with pytest.raises(ValidationError) as info:
        svc.activate_household(db, household, actor=referent, data={"consent_recorded_on": "2026-11-20"})
    assert list(info.value.errors) == ["exclusion_zones"]
    assert "zone d'exclusion" in str(info.value.errors["exclusion_zones"][0])
    assert household.status == "draft"
    # Nor can an active file lose its last zone while she shares the home.
    other = factories.create_household(db, association=association,
                                       priority_categories=["violence", "shared_home"])
    with pytest.raises(ValidationError) as info:
        svc.update_household(db, other, {"exclusion_zones": []}, actor=referent)
    assert list(info.value.errors) == ["exclusion_zones"]
    assert other.exclusion_zones  # unchanged
    # Nor an import that activates its rows: every row or none, the faulty one named.
    before = db.scalar(sa.select(sa.func.count()).select_from(Household))
    with pytest.raises(ValidationError) as info:
        svc.import_households(db, association, [valid(reference="DOS-A", consent_recorded_on="2026-11-20"),
                                                dict(shared, reference="DOS-B", consent_recorded_on="2026-11-20")],
                              actor=referent, activate=True)
    assert list(info.value.errors) == ["rows[1].exclusion_zones"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Household)) == before
    # With a zone around her current home, the file is activated.
    svc.update_household(db, household, {"exclusion_zones": [{"lat": 50.63, "lon": 3.06, "radius_km": 5}]},
                         actor=referent)
    svc.activate_household(db, household, actor=referent, data={"consent_recorded_on": "2026-11-20"})
    assert household.status == "active"
