"""Units: the one validation of their fields, their life cycle, their spreadsheet import."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matching import geo
from models import AuditEvent, Unit
from services import units
from services.errors import Conflict, NotFound, ValidationError
from services.imports import ImportRejected
from tests import factories

TODAY = dt.date(2026, 11, 23)
LILLE = geo.commune("59350")


def good(**kw):  # type: ignore[no-untyped-def]
    data = {"reference": "LMH-001", "commune": "59350", "rooms": 3, "rent": 412.5,
            "available_from": "2026-12-01"}
    data.update(kw)
    return data


def errors_of(data, **kw):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        units.validate_unit_fields(data, today=TODAY, **kw)
    return {name: [str(m) for m in messages] for name, messages in info.value.errors.items()}


# -- validate_unit_fields ------------------------------------------------------------------


def test_minimal_unit_takes_defaults_and_its_communes_point():
    clean = units.validate_unit_fields(good(), today=TODAY)
    assert clean["commune"] == "59350" and clean["department"] == "59"
    assert (clean["lat"], clean["lon"]) == (LILLE.lat, LILLE.lon)
    # Anywhere in Lille: an exclusion zone is checked against the whole commune.
    assert clean["location_uncertainty_km"] == LILLE.radius_km
    assert clean["rent"] == Decimal("412.50") and clean["charges"] == Decimal("0.00")
    assert clean["floor"] == 0 and clean["elevator"] is False and clean["financing"] is None
    assert clean["available_from"] == dt.date(2026, 12, 1)


def test_text_as_people_type_it_is_understood():
    clean = units.validate_unit_fields(
        good(commune="Villeneuve d'Ascq", rooms="T4", rent="1 234,50", charges="85,5",
             surface_m2="48,5", floor="2", elevator="oui", wheelchair_accessible="Non",
             in_qpv="vrai", financing="plai", available_from="15/01/2027", lat="50,6233", lon="3,1450"),
        today=TODAY)
    assert clean["commune"] == "59009" and clean["rooms"] == 4
    assert clean["rent"] == Decimal("1234.50") and clean["charges"] == Decimal("85.50")
    assert clean["surface_m2"] == 48.5 and clean["floor"] == 2
    assert (clean["elevator"], clean["wheelchair_accessible"], clean["in_qpv"]) == (True, False, True)
    assert clean["financing"] == "PLAI" and clean["available_from"] == dt.date(2027, 1, 15)
    assert (clean["lat"], clean["lon"], clean["location_uncertainty_km"]) == (50.6233, 3.145, 0.0)


def test_given_coordinates_keep_the_given_uncertainty():
    clean = units.validate_unit_fields(good(lat=50.63, lon=3.05, location_uncertainty_km=0.5), today=TODAY)
    assert clean["location_uncertainty_km"] == 0.5


def test_at_the_communes_point_the_uncertainty_is_never_below_its_radius():
    clean = units.validate_unit_fields(good(location_uncertainty_km=1), today=TODAY)
    assert clean["location_uncertainty_km"] == LILLE.radius_km
    clean = units.validate_unit_fields(good(location_uncertainty_km=20), today=TODAY)
    assert clean["location_uncertainty_km"] == 20


@pytest.mark.parametrize("field", units.REQUIRED)
def test_required_fields(field):
    assert errors_of(good(**{field: None}))[field] == ["Ce champ est obligatoire."]
    assert errors_of(good(**{field: "  "}))[field] == ["Ce champ est obligatoire."]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("rooms", 0, "Entre 1 et 20 pièces."),
    ("rooms", 21, "Entre 1 et 20 pièces."),
    ("rooms", "2,5", "Nombre entier attendu."),
    ("rooms", "trois", "Nombre entier attendu."),
    ("rent", -1, "Le loyer doit être compris entre 0 et 5000 €."),
    ("rent", "41250", "Le loyer doit être compris entre 0 et 5000 €."),
    ("rent", "abc", "Nombre attendu (par exemple 412,50)."),
    ("rent", True, "Nombre attendu (par exemple 412,50)."),
    ("charges", -0.01, "Les charges doivent être comprises entre 0 et 2000 €."),
    ("surface_m2", 0, "Entre 9 et 1000 m²."),
    ("surface_m2", "5", "Entre 9 et 1000 m²."),
    ("floor", 81, "Entre -5 et 80 (0 = rez-de-chaussée)."),
    ("elevator", "peut-être", "Oui ou non attendu."),
    ("financing", "HLM", "Financement inconnu : choisissez PLAI, PLUS, PLS, PLI."),
    ("available_from", "2026-02-30", "Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ, et une date qui existe."),
    ("available_from", "30/02/2026", "Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ, et une date qui existe."),
    ("available_from", "demain", "Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ, et une date qui existe."),
    ("available_from", "01/01/1999", "Date hors des limites (du 01/01/2000 au 31/12/2031)."),
    ("available_from", "01/01/2032", "Date hors des limites (du 01/01/2000 au 31/12/2031)."),
    ("reference", "x" * 81, "80 caractères au plus."),
    ("location_uncertainty_km", -1, "Entre 0 et 100 km."),
])
def test_bad_values_are_refused_with_a_message_on_their_field(field, value, message):
    assert errors_of(good(**{field: value})) == {field: [message]}


def test_every_bad_field_is_named_at_once():
    errors = errors_of(good(rooms=0, rent=-5, lat=123, lon=3, available_from="2026-02-30", id="U-1",
                            status="published"))
    assert set(errors) == {"rooms", "rent", "lat", "available_from", "id", "status"}
    assert errors["lat"] == ["Entre -90 et 90 degrés."]
    assert errors["id"] == ["Champ inconnu ou fixé par la plateforme."]


def test_unknown_commune_codes_and_names_are_refused():
    assert errors_of(good(commune="99999")) == {"commune": ["Code INSEE inconnu : 99999."]}
    assert errors_of(good(commune="Xyzzyville")) == {"commune": ["Commune inconnue : Xyzzyville."]}


def test_an_ambiguous_name_is_refused_with_the_candidates():
    message = errors_of(good(commune="Saint-Denis"))["commune"][0]
    assert "93066 (Saint-Denis, Seine-Saint-Denis)" in message
    assert "97411 (Saint-Denis, La Réunion)" in message
    assert "Indiquez le code INSEE" in message
    clean = units.validate_unit_fields(good(commune="Saint-Denis (93)"), today=TODAY)
    assert clean["commune"] == "93066" and clean["department"] == "93"


def test_an_approximate_name_is_never_guessed():
    message = errors_of(good(commune="Lil"))["commune"][0]
    assert message.startswith("Aucune commune ne s'appelle exactement « Lil »")
    assert "59350 (Lille, Nord)" in message


def test_overseas_and_corsican_departments_are_derived():
    assert units.validate_unit_fields(good(commune="97411"), today=TODAY)["department"] == "974"
    assert units.validate_unit_fields(good(commune="2A004"), today=TODAY)["department"] == "2A"


def test_latitude_without_longitude_is_refused():
    assert errors_of(good(lat=50.63)) == {
        "lon": ["Latitude et longitude vont ensemble : donnez les deux, ou aucune."]}


def test_coordinates_outside_the_commune_are_refused():
    # Latitude and longitude swapped: the point is in the Indian Ocean, not in Lille.
    errors = errors_of(good(lat=3.05, lon=50.63))
    assert set(errors) == {"lat", "lon"}
    assert "de Lille (59)" in errors["lat"][0] and "inversées" in errors["lat"][0]
    # Roubaix's coordinates with Lille's code: 10 km off, outside Lille.
    roubaix = geo.commune("59512")
    assert set(errors_of(good(lat=roubaix.lat + 0.02, lon=roubaix.lon + 0.03))) == {"lat", "lon"}


# -- life cycle ----------------------------------------------------------------------------


@pytest.fixture
def landlord(db):  # type: ignore[no-untyped-def]
    return factories.create_organisation(db, "landlord")


@pytest.fixture
def user(db, landlord):  # type: ignore[no-untyped-def]
    return factories.create_user(db, "landlord", organisation=landlord)


def actions(db, public_id):  # type: ignore[no-untyped-def]
    db.commit()  # as a view would: the caller's commit writes the audit trail
    return list(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id == public_id)
                           .order_by(AuditEvent.id)))


def test_create_publish_withdraw_are_audited(db, landlord, user):
    unit = units.create_unit(db, landlord, good(), actor=user)
    assert unit.status == "draft" and unit.landlord_id == landlord.id and unit.public_id.startswith("U-")
    units.publish_unit(db, unit, actor=user)
    assert unit.status == "published" and unit.published_at is not None
    units.withdraw_unit(db, unit, actor=user)
    assert unit.status == "withdrawn"
    units.publish_unit(db, unit, actor=user)
    assert unit.status == "published"
    assert actions(db, unit.public_id) == ["unit.create", "unit.publish", "unit.withdraw", "unit.publish"]


def test_reference_is_unique_per_landlord(db, landlord):
    units.create_unit(db, landlord, good())
    with pytest.raises(ValidationError) as info:
        units.create_unit(db, landlord, good())
    assert str(info.value.errors["reference"][0]) == "Vous avez déjà un logement de référence LMH-001."
    other = factories.create_organisation(db, "landlord")
    assert units.create_unit(db, other, good()).reference == "LMH-001"


@pytest.mark.parametrize("status", ["published", "proposed", "allocated"])
def test_only_draft_or_withdrawn_units_are_published(db, landlord, status):
    unit = factories.create_unit(db, landlord=landlord, status=status)
    with pytest.raises(Conflict):
        units.publish_unit(db, unit)
    assert unit.status == status


def _accepted(db, proposal, status, rank=None):  # type: ignore[no-untyped-def]
    """Move a proposal along as the decisions would (the household said yes first)."""
    from models import Decision

    proposal.status, proposal.commission_rank = status, rank
    db.add(Decision(proposal=proposal, step="household", outcome="accept"))
    db.flush()


def test_withdrawing_a_proposed_unit_cancels_its_open_proposals(app, db, landlord):
    from models import Notification
    from services import proposals

    unit = factories.create_unit(db, landlord=landlord)
    run = factories.create_run(db)
    pending = factories.create_proposal(db, unit=unit, run=run, rank=1)
    offered = factories.create_proposal(db, unit=unit, run=run, rank=2)
    waiting = factories.create_proposal(db, unit=unit, run=run, rank=3)
    _accepted(db, offered, "commission_accepted", 1)
    _accepted(db, waiting, "commission_ranked", 2)
    elsewhere = factories.create_proposal(db, household=waiting.household, run=run, rank=1)
    user = factories.create_user(db, "landlord", organisation=landlord)
    assert len(proposals.cancellable(db, unit=unit)) == 3
    with app.app_context():
        units.withdraw_unit(db, unit, actor=user)
    assert unit.status == "withdrawn"
    db.commit()  # as a view would: the caller's commit writes the audit trail
    for p in (pending, offered, waiting):
        db.refresh(p)
        assert p.status == "cancelled" and p.household.status in ("active", "proposed")
        # One audit event each, and both sides told, naming only the proposal.
        assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "proposal.cancel", AuditEvent.object_id == p.public_id)) == 1
        for org in (p.household.association, landlord):
            notes = [n.message for n in db.scalars(sa.select(Notification).where(
                Notification.organisation_id == org.id))]
            assert f"La proposition {p.public_id} est annulée." in notes
    # Nobody is offered a lease on a unit that is gone; her other offer is untouched.
    assert not db.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "proposal.lease_offer"))
    assert (elsewhere.status, waiting.household.status) == ("pending", "proposed")
    for note in db.scalars(sa.select(Notification)):
        assert "59350" not in note.message and "Lille" not in note.message and unit.reference not in note.message
    assert db.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_id == unit.public_id)
                     .order_by(AuditEvent.id.desc()).limit(1)) == "unit.withdraw"


def test_a_let_unit_is_not_withdrawn_and_keeps_its_lease(app, db, landlord):
    unit = factories.create_unit(db, landlord=landlord)
    leased = factories.create_proposal(db, unit=unit)
    _accepted(db, leased, "leased", 1)
    unit.status = "allocated"
    with app.app_context(), pytest.raises(Conflict):
        units.withdraw_unit(db, unit)
    assert (unit.status, leased.status) == ("allocated", "leased")


def test_publish_units_is_all_or_nothing(db, landlord):
    drafts = [factories.create_unit(db, landlord=landlord, status="draft", reference=f"D-{i}") for i in range(3)]
    published = factories.create_unit(db, landlord=landlord, status="published", reference="P-1")
    foreign = factories.create_unit(db, status="draft")
    with pytest.raises(Conflict) as info:
        units.publish_units(db, landlord, [u.public_id for u in drafts] + [published.public_id])
    assert info.value.field == "units" and "P-1" in str(info.value.message)
    with pytest.raises(NotFound):
        units.publish_units(db, landlord, [drafts[0].public_id, foreign.public_id])
    with pytest.raises(ValidationError) as empty:
        units.publish_units(db, landlord, [])
    assert empty.value.field == "units"
    assert {u.status for u in drafts} == {"draft"} and foreign.status == "draft"
    done = units.publish_units(db, landlord, [u.public_id for u in drafts] + [drafts[0].public_id])
    assert sorted(u.reference for u in done) == ["D-0", "D-1", "D-2"]
    assert {u.status for u in drafts} == {"published"} and all(u.published_at for u in drafts)
    db.commit()  # as a view would: the caller's commit writes the audit trail
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "unit.publish")) == 3


@pytest.mark.parametrize("status", ["allocated", "withdrawn"])
def test_allocated_or_withdrawn_units_are_not_withdrawn(db, landlord, status):
    unit = factories.create_unit(db, landlord=landlord, status=status)
    with pytest.raises(Conflict):
        units.withdraw_unit(db, unit)


@pytest.mark.parametrize("status", ["proposed", "allocated"])
def test_proposed_and_allocated_units_are_read_only(db, landlord, status):
    unit = factories.create_unit(db, landlord=landlord, status=status)
    with pytest.raises(Conflict):
        units.update_unit(db, unit, {"rent": 300})
    db.refresh(unit)
    assert unit.rent == Decimal("412.50")


def test_update_checks_every_rule_again_and_keeps_other_fields(db, landlord, user):
    unit = units.create_unit(db, landlord, good(lat=50.63, lon=3.05, surface_m2=64))
    units.update_unit(db, unit, {"rent": "450,00", "elevator": True}, actor=user)
    assert unit.rent == Decimal("450.00") and unit.elevator is True and unit.surface_m2 == 64
    with pytest.raises(ValidationError) as info:
        units.update_unit(db, unit, {"rent": -1, "rooms": 0})
    assert set(info.value.errors) == {"rent", "rooms"}
    assert actions(db, unit.public_id) == ["unit.create", "unit.update"]


def test_new_commune_moves_a_unit_placed_at_its_communes_point(db, landlord):
    unit = units.create_unit(db, landlord, good())
    units.update_unit(db, unit, {"commune": "59512"})
    roubaix = geo.commune("59512")
    assert (unit.commune, unit.lat, unit.lon) == ("59512", roubaix.lat, roubaix.lon)
    assert unit.location_uncertainty_km == roubaix.radius_km  # not Lille's larger radius


def test_new_commune_with_given_coordinates_asks_for_new_coordinates(db, landlord):
    unit = units.create_unit(db, landlord, good(lat=50.63, lon=3.05))
    with pytest.raises(ValidationError) as info:
        units.update_unit(db, unit, {"commune": "62041"})  # Arras
    assert set(info.value.errors) == {"lat", "lon"}


def test_exact_coordinates_replace_the_communes_uncertainty(db, landlord):
    unit = units.create_unit(db, landlord, good())
    units.update_unit(db, unit, {"lat": 50.63, "lon": 3.05})
    assert unit.location_uncertainty_km == 0.0
    units.update_unit(db, unit, {"lat": None, "lon": None})
    assert unit.location_uncertainty_km == LILLE.radius_km


def test_reference_change_to_an_existing_one_is_refused(db, landlord):
    units.create_unit(db, landlord, good(reference="A"))
    unit = units.create_unit(db, landlord, good(reference="B"))
    with pytest.raises(ValidationError):
        units.update_unit(db, unit, {"reference": "A"})
    units.update_unit(db, unit, {"reference": "B"})  # its own reference is fine


def test_another_landlords_unit_is_not_found(db, landlord):
    unit = factories.create_unit(db)
    with pytest.raises(NotFound):
        units.get_unit(db, landlord, unit.public_id)
    with pytest.raises(NotFound):
        units.get_unit(db, landlord, "U-does-not-exist")


def test_list_filters_and_counts(db, landlord):
    factories.create_unit(db, landlord=landlord, rooms=2, status="draft")
    factories.create_unit(db, landlord=landlord, rooms=3, commune="59512", department="59")
    factories.create_unit(db, landlord=landlord, rooms=7)
    factories.create_unit(db, landlord=landlord, rooms=6, status="withdrawn")
    factories.create_unit(db, rooms=2)  # another landlord's
    page = units.list_units(db, landlord)
    assert page.total == 4
    assert units.list_units(db, landlord, rooms=2).total == 1
    assert {u.rooms for u in units.list_units(db, landlord, rooms=6).items} == {6, 7}
    assert units.list_units(db, landlord, commune="59512").total == 1
    assert units.list_units(db, landlord, status="published").total == 2
    assert units.list_units(db, landlord, per_page=3, page=2).items[0].rooms == 2  # oldest last
    assert units.count_by_status(db, landlord) == {"draft": 1, "published": 2, "proposed": 0,
                                                   "allocated": 0, "withdrawn": 1}
    assert units.list_units(db, None, rooms=2).total >= 2


# -- import --------------------------------------------------------------------------------

HEADER = "reference;commune;latitude;longitude;pieces;surface_m2;etage;ascenseur;accessible_fauteuil;" \
         "loyer;charges;financement;qpv;disponible_le"


def count_units(db, landlord):  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(sa.func.count()).select_from(Unit).where(Unit.landlord_id == landlord.id))


def test_the_template_imports_as_is(db, landlord, user):
    summary = units.import_units(db, landlord, "modele.csv", units.template_csv(), actor=user)
    assert summary.count == 2
    assert {u.status for u in summary.units} == {"draft"}
    assert summary.by_commune() == [("59350", "Lille (59)", 1), ("59512", "Roubaix (59)", 1)]
    assert summary.by_typology() == [("T2", 1), ("T3", 1)]
    summary = units.import_units(
        db, factories.create_organisation(db, "landlord"), "modele.xlsx", units.template_xlsx())
    assert summary.count == 2
    db.commit()  # as a view would: the caller's commit writes the audit trail
    events = list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "unit.import")))
    assert [(e.object_id, e.actor_id) for e in events][0] == (landlord.code, user.id)


def test_windows_1252_semicolon_csv_with_french_decimals_is_stored_right(db, landlord):
    text = (HEADER + "\r\n"
            "LMH-Été-1;Marcq-en-Barœul;;;3;64,5;2;oui;non;412,50;85,00;PLUS;non;01/12/2026\r\n"
            "LMH-Été-2;Villeneuve-d'Ascq;50,6233;3,1450;2;48;0;non;oui;356,2;60;PLAI;oui;2027-01-15\r\n")
    summary = units.import_units(db, landlord, "logements.csv", text.encode("cp1252"))
    first, second = summary.units
    db.expire_all()
    first = db.get(Unit, first.id)
    second = db.get(Unit, second.id)
    assert first.reference == "LMH-Été-1" and first.commune == "59378"
    assert first.surface_m2 == 64.5 and first.rent == Decimal("412.50") and first.charges == Decimal("85.00")
    assert first.elevator is True and first.wheelchair_accessible is False and first.floor == 2
    assert first.location_uncertainty_km == geo.commune("59378").radius_km
    assert first.available_from == dt.date(2026, 12, 1) and first.financing == "PLUS"
    assert second.commune == "59009" and (second.lat, second.lon) == (50.6233, 3.145)
    assert second.rent == Decimal("356.20") and second.in_qpv is True and second.wheelchair_accessible is True
    assert second.available_from == dt.date(2027, 1, 15) and second.location_uncertainty_km == 0


def test_utf8_with_bom_comma_csv_and_english_headers(db, landlord):
    text = ("\ufeffreference,commune,rooms,rent,available_from,elevator,charges\n"
            'A-1,Lille,3,"412,5",2026-12-01,yes,0\n'
            "A-2,59512,T2,300.10,02/12/2026,no,\n")
    summary = units.import_units(db, landlord, "units.csv", text.encode("utf-8"))
    assert [(u.reference, u.commune, u.rooms, u.rent, u.elevator) for u in summary.units] == [
        ("A-1", "59350", 3, Decimal("412.50"), True), ("A-2", "59512", 2, Decimal("300.10"), False)]


def test_one_bad_row_among_good_ones_stores_nothing(db, landlord):
    factories.create_unit(db, landlord=landlord, reference="EXISTE")
    before = count_units(db, landlord)
    text = (HEADER + "\n"
            "A-1;59350;;;3;64;2;oui;non;412,50;85;PLUS;non;01/12/2026\n"
            "A-2;99999;;;0;64;2;oui;non;-5;85;PLUS;non;30/02/2026\n"
            "\n"
            "A-1;59350;;;3;64;2;oui;non;412,50;85;PLUS;non;01/12/2026\n"
            "EXISTE;Saint-Denis;;;3;64;2;peut-être;non;412,50;85;PLUS;non;01/12/2026\n")
    with pytest.raises(ImportRejected) as info:
        units.import_units(db, landlord, "logements.csv", text.encode())
    report = [(e.line, e.column, str(e.message)) for e in info.value.rows]
    assert (3, "commune", "Code INSEE inconnu : 99999.") in report
    assert (3, "pieces", "Entre 1 et 20 pièces.") in report
    assert (3, "loyer", "Le loyer doit être compris entre 0 et 5000 €.") in report
    assert (3, "disponible_le", "Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ, et une date qui existe.") in report
    assert (5, "reference", "Référence A-1 déjà présente ligne 2.") in report
    assert (6, "ascenseur", "Oui ou non attendu.") in report
    assert any(line == 6 and column == "commune" and "Plusieurs communes" in m for line, column, m in report)
    assert not any(line == 2 for line, _c, _m in report)
    assert count_units(db, landlord) == before


def test_a_reference_the_landlord_already_has_is_an_error(db, landlord):
    factories.create_unit(db, landlord=landlord, reference="EXISTE")
    text = "reference;commune;pieces;loyer;disponible_le\nEXISTE;59350;3;400;01/12/2026\n"
    with pytest.raises(ImportRejected) as info:
        units.import_units(db, landlord, "x.csv", text.encode())
    assert [(e.line, e.column, str(e.message)) for e in info.value.rows] == [
        (2, "reference", "Vous avez déjà un logement de référence EXISTE.")]


def test_unknown_and_missing_columns_are_reported_on_line_1(db, landlord):
    text = "reference;commune;pieces;loyers;disponible_le\nA;59350;3;400;01/12/2026\n"
    with pytest.raises(ImportRejected) as info:
        units.import_units(db, landlord, "x.csv", text.encode())
    assert [(e.line, e.column, str(e.message)) for e in info.value.rows] == [
        (1, "loyer", "Colonne obligatoire absente : loyer."),
        (1, "loyers", "Colonne inconnue : loyers."),
    ]


def xlsx_bytes(rows):  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_with_native_numbers_dates_and_booleans(db, landlord):
    data = xlsx_bytes([
        ["Référence", "Commune", "Pièces", "Surface_m2", "Loyer", "Charges", "Ascenseur", "Disponible_le",
         "Latitude", "Longitude"],
        ["X-1", "59350", 3, 64.5, 412.5, 85, True, dt.datetime(2026, 12, 1), 50.63, 3.05],
        ["X-2", "Roubaix", 2, None, "356,20", None, "non", "15/12/2026", None, None],
    ])
    summary = units.import_units(db, landlord, "logements.xlsx", data)
    one, two = summary.units
    assert (one.rooms, one.surface_m2, one.rent, one.charges, one.elevator) == (
        3, 64.5, Decimal("412.50"), Decimal("85.00"), True)
    assert one.available_from == dt.date(2026, 12, 1) and (one.lat, one.lon) == (50.63, 3.05)
    assert (two.commune, two.rent, two.available_from) == ("59512", Decimal("356.20"), dt.date(2026, 12, 15))


def test_xlsx_bad_row_is_reported_with_its_line(db, landlord):
    data = xlsx_bytes([
        ["reference", "commune", "pieces", "loyer", "disponible_le"],
        ["X-1", "59350", 3, 412.5, dt.datetime(2026, 12, 1)],
        [None, None, None, None, None],
        ["X-2", "59350", 2.5, 300, dt.datetime(2026, 12, 1)],
    ])
    with pytest.raises(ImportRejected) as info:
        units.import_units(db, landlord, "logements.xlsx", data)
    assert [(e.line, e.column) for e in info.value.rows] == [(4, "pieces")]
    assert count_units(db, landlord) == 0


@pytest.mark.parametrize(("name", "data", "message"), [
    ("vide.csv", b"", "Le fichier est vide."),
    ("entete.csv", b"reference;commune;pieces;loyer;disponible_le\n",
     "Le fichier ne contient aucune ligne après l'en-tête."),
    ("ancien.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
     "Ce fichier XLS est illisible."),
    ("casse.xlsx", b"PK\x03\x04 not really a zip", "Ce fichier XLSX est illisible."),
])
def test_unreadable_files_are_refused(db, landlord, name, data, message):
    with pytest.raises(ValidationError) as info:
        units.import_units(db, landlord, name, data)
    assert str(info.value.message) == message


def test_too_many_rows_are_refused(db, landlord, monkeypatch):
    from services import imports

    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    text = "reference;commune;pieces;loyer;disponible_le\n" + "".join(
        f"R{i};59350;3;400;01/12/2026\n" for i in range(4))
    with pytest.raises(ValidationError) as info:
        units.import_units(db, landlord, "x.csv", text.encode())
    assert "dépasse 3 lignes" in str(info.value.message)
    assert count_units(db, landlord) == 0
