"""Reading spreadsheets and French cells: generic, shared by every import."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest

from services import imports
from services.errors import ValidationError
from services.imports import Column, ImportRejected

COLUMNS = (Column("name", ("nom",), required=True), Column("size", ("taille", "surface_m2")))


@pytest.mark.parametrize(("text", "expected"), [
    ("48,5", Decimal("48.5")), ("48.5", Decimal("48.5")), ("1 234,50", Decimal("1234.50")),
    ("1\u00a0234,50 €", Decimal("1234.50")), ("1.234,50", Decimal("1234.50")), ("1,234.50", Decimal("1234.50")),
    ("-3", Decimal("-3")), ("64 m²", Decimal("64")), (12, Decimal(12)), (48.5, Decimal("48.5")),
])
def test_parse_decimal(text, expected):
    assert imports.parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "", "4,5,6", "1e5", "nan", "inf", True, "12,5%"])
def test_parse_decimal_refuses(text):
    with pytest.raises(ValueError):
        imports.parse_decimal(text)


def test_parse_int():
    assert imports.parse_int("3") == imports.parse_int(3.0) == imports.parse_int("3,0") == 3
    with pytest.raises(ValueError):
        imports.parse_int("2,5")


@pytest.mark.parametrize(("text", "expected"), [
    ("oui", True), ("OUI", True), ("Non", False), ("yes", True), ("no", False), ("1", True), ("0", False),
    ("vrai", True), ("Faux", False), ("true", True), ("FALSE", False), (True, True), (0, False),
])
def test_parse_bool(text, expected):
    assert imports.parse_bool(text) is expected


@pytest.mark.parametrize("text", ["peut-être", "2", "", "ouais"])
def test_parse_bool_refuses(text):
    with pytest.raises(ValueError):
        imports.parse_bool(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("01/12/2026", dt.date(2026, 12, 1)), ("2026-12-01", dt.date(2026, 12, 1)),
    ("1/2/2027", dt.date(2027, 2, 1)), ("2026-12-01T00:00:00", dt.date(2026, 12, 1)),
    (dt.datetime(2026, 12, 1, 0, 0), dt.date(2026, 12, 1)), (dt.date(2026, 12, 1), dt.date(2026, 12, 1)),
])
def test_parse_date(text, expected):
    assert imports.parse_date(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "30/02/2026", "31/04/2026", "12/31/2026", "demain", "2026"])
def test_parse_date_refuses_dates_that_do_not_exist(text):
    with pytest.raises(ValueError):
        imports.parse_date(text)


def test_headers_are_matched_whatever_their_case_and_accents():
    table = imports.read_table("x.csv", "NOM;Taille\nÉté;3\n".encode(), COLUMNS)
    assert table.fields == {"name": "NOM", "size": "Taille"}
    assert [(r.line, r.cells) for r in table.rows] == [(2, {"name": "Été", "size": "3"})]
    assert table.header_of("size") == "Taille"


def test_delimiter_and_encoding_are_detected():
    cp1252 = "nom;surface_m2\r\nCité Jardin;48,5\r\n".encode("cp1252")
    assert imports.read_table("x.csv", cp1252, COLUMNS).rows[0].cells == {"name": "Cité Jardin", "size": "48,5"}
    comma = '\ufeffnom,taille\n"Rue, Bât A","48,5"\n'.encode()
    assert imports.read_table("x.csv", comma, COLUMNS).rows[0].cells == {"name": "Rue, Bât A", "size": "48,5"}


def test_blank_lines_are_skipped_but_counted():
    table = imports.read_table("x.csv", b"nom\n\na\n;\nb\n\n", COLUMNS)
    assert [(r.line, r.cells["name"]) for r in table.rows] == [(3, "a"), (5, "b")]


def test_bad_headers_are_all_reported_on_line_1():
    with pytest.raises(ImportRejected) as info:
        imports.read_table("x.csv", b"taille;surface_m2;couleur\n1;2;3\n", COLUMNS)
    assert [(e.line, e.column, str(e.message)) for e in info.value.rows] == [
        (1, "couleur", "Colonne inconnue : couleur."),
        (1, "nom", "Colonne obligatoire absente : nom."),
        (1, "surface_m2", "Colonne en double : surface_m2."),
    ]


def test_values_outside_any_column_are_reported():
    with pytest.raises(ImportRejected) as info:
        imports.read_table("x.csv", b"nom;taille\na;1;surplus\n", COLUMNS)
    assert [(e.line, e.column) for e in info.value.rows] == [(2, None)]
    assert info.value.rows[0].as_dict() == {"line": 2, "column": None,
                                            "message": "Valeur hors de toute colonne (colonne n° 3)."}


def test_an_xlsx_that_unpacks_to_gigabytes_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_XLSX_UNPACKED", 1000)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", "a" * 5000)
    with pytest.raises(ValidationError) as info:
        imports.read_table("x.xlsx", out.getvalue(), COLUMNS)
    assert str(info.value.message) == "Ce fichier XLSX est trop volumineux une fois décompressé."


def test_written_templates_read_back():
    csv_bytes = imports.write_csv(["nom", "taille"], [["Été", "48,5"]])
    assert csv_bytes.startswith(b"\xef\xbb\xbf") and b"\r\n" in csv_bytes
    assert imports.read_table("t.csv", csv_bytes, COLUMNS).rows[0].cells == {"name": "Été", "size": "48,5"}
    xlsx = imports.write_xlsx(["nom", "taille"], [["Été", 48.5]], notes=["aide"])
    assert imports.read_table("t.xlsx", xlsx, COLUMNS).rows[0].cells == {"name": "Été", "size": 48.5}
