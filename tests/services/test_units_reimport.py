"""A landlord's units exported (CSV, XLSX, ODS) and sent back to update them by reference: all
lines or none, errors by line and column in French."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from matching import geo
from models import AuditEvent
from services import imports, units
from services.imports import ImportRejected
from tests import factories


@pytest.fixture
def landlord(db):  # type: ignore[no-untyped-def]
    return factories.create_organisation(db, "landlord")


@pytest.fixture
def user(db, landlord):  # type: ignore[no-untyped-def]
    return factories.create_user(db, "landlord", organisation=landlord)


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("kind", units.EXPORT_FORMATS)
def test_an_export_sent_back_unchanged_changes_nothing(db, landlord, user, kind):
    a = factories.create_unit(db, landlord, reference="A-1", status="draft")
    place = geo.commune("59512")  # placed at its commune's point: exported without coordinates
    factories.create_unit(db, landlord, reference="B-2", commune="59512", lat=place.lat, lon=place.lon,
                          location_uncertainty_km=place.radius_km, financing=None, surface_m2=None)
    factories.create_unit(db, landlord, reference="C-3", status="proposed")
    factories.create_unit(db, reference="OTHER-1")  # another landlord's: not exported
    data = units.export_units(db, landlord, kind)
    table = imports.read_table(f"x.{kind}", data, units.IMPORT_COLUMNS)
    assert [r.cells["reference"] for r in table.rows] == ["A-1", "B-2", "C-3"]
    assert imports.is_blank(table.rows[1].cells.get("lat"))
    before = {n: getattr(a, n) for n in units.FIELDS}
    summary = units.update_units_from_file(db, landlord, f"x.{kind}", data, actor=user)
    assert (summary.count, summary.unchanged) == (0, 3)
    assert {n: getattr(a, n) for n in units.FIELDS} == before


def test_the_xlsx_export_holds_numbers_and_dates(db, landlord):
    factories.create_unit(db, landlord, reference="A-1")
    sheet = load_workbook(io.BytesIO(units.export_units(db, landlord, "xlsx"))).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert header == list(units.TEMPLATE_HEADERS)
    assert row["loyer"] == 412.5 and row["ascenseur"] == "oui"
    assert row["disponible_le"] == dt.datetime(2026, 12, 1)


def test_the_csv_export_writes_french_numbers(db, landlord):
    factories.create_unit(db, landlord, reference="A-1")
    text = units.export_units(db, landlord, "csv").decode("utf-8-sig")
    assert "A-1;59350;" in text and ";412,5;85;" in text and ";01/12/2026" in text


def test_edited_lines_update_their_units_and_only_the_columns_given(db, landlord, user):
    a = factories.create_unit(db, landlord, reference="A-1", rent=Decimal("400.00"), floor=2)
    b = factories.create_unit(db, landlord, reference="B-2", rent=Decimal("500.00"))
    summary = units.update_units_from_file(db, landlord, "maj.csv", _csv(
        "reference;loyer;charges", "A-1;420,50;", "B-2;500;85"), actor=user)
    assert [u.reference for u in summary.units] == ["A-1"] and summary.unchanged == 1
    assert a.rent == Decimal("420.50") and a.charges == Decimal("0.00")  # an empty cell empties it
    assert a.floor == 2  # no "etage" column: kept
    assert b.rent == Decimal("500.00")


def test_one_bad_line_changes_nothing_and_every_error_is_named(db, landlord, user):
    a = factories.create_unit(db, landlord, reference="A-1", rent=Decimal("400.00"))
    factories.create_unit(db, landlord, reference="P-1", status="proposed", rent=Decimal("300.00"))
    factories.create_unit(db, reference="OTHER-1")
    with pytest.raises(ImportRejected) as info:
        units.update_units_from_file(db, landlord, "maj.csv", _csv(
            "reference;loyer;pieces",
            "A-1;450;3",          # fine, but not applied: another line is wrong
            "INCONNU;400;3",      # no such unit
            "OTHER-1;400;3",      # another landlord's: the same answer
            "A-1;460;3",          # twice
            "P-1;999;3",          # proposed: read-only
            "A-1b;;",
        ), actor=user)
    got = [(e.line, e.column, str(e.message)) for e in info.value.rows]
    assert got == [
        (3, "reference", "Aucun de vos logements n'a la référence INCONNU."),
        (4, "reference", "Aucun de vos logements n'a la référence OTHER-1."),
        (5, "reference", "Référence A-1 déjà présente ligne 2."),
        (6, "reference", "Le logement P-1 est proposé : il ne peut plus être modifié."),
        (7, "reference", "Aucun de vos logements n'a la référence A-1b."),
    ]
    assert a.rent == Decimal("400.00")


def test_a_bad_value_is_reported_at_its_line_and_column_as_written(db, landlord, user):
    factories.create_unit(db, landlord, reference="A-1")
    with pytest.raises(ImportRejected) as info:
        units.update_units_from_file(db, landlord, "maj.csv", _csv("Référence;Loyer;Pièces", "A-1;beaucoup;99"),
                                     actor=user)
    assert [(e.line, e.column) for e in info.value.rows] == [(2, "Loyer"), (2, "Pièces")]
    assert "Entre 1 et 20 pièces." in [str(e.message) for e in info.value.rows]


def test_the_reference_column_is_required(db, landlord, user):
    factories.create_unit(db, landlord, reference="A-1")
    with pytest.raises(ImportRejected) as info:
        units.update_units_from_file(db, landlord, "maj.csv", _csv("loyer", "400"), actor=user)
    assert [(e.line, str(e.message)) for e in info.value.rows] == [(1, "Colonne obligatoire absente : reference.")]


def test_an_update_is_in_the_audit_trail(db, landlord, user):
    import sqlalchemy as sa

    a = factories.create_unit(db, landlord, reference="A-1")
    units.update_units_from_file(db, landlord, "maj.ods", imports.write_ods(["reference", "loyer"], [["A-1", 433]]),
                                 actor=user)
    db.commit()
    events = db.execute(sa.select(AuditEvent.action, AuditEvent.object_id)
                        .where(AuditEvent.action.in_(["unit.update", "unit.import_update"]))).all()
    assert sorted(events) == [("unit.import_update", landlord.code), ("unit.update", a.public_id)]
    assert a.rent == Decimal("433.00")
