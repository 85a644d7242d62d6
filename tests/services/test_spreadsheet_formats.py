"""XLS and ODS read like XLSX (python-calamine), within the same limits; ODS written next to XLSX.

The `.xls` files in tests/services/data/ were made once with xlwt (not a dependency):
small.xls (header, two rows with a blank line between, a date, a second sheet), wide.xls
(a value in column 151), far.xls (one value at IV65536: 1 GB for calamine if let through).
"""

from __future__ import annotations

import datetime as dt
import io
import resource
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from services import imports
from services.errors import ValidationError
from services.imports import Column, ImportRejected

DATA = Path(__file__).parent / "data"
COLUMNS = (Column("name", ("nom",), required=True), Column("size", ("taille",)),
           Column("date", ("date",)), Column("ok", ("ok",)))

TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


def _ods(rows_xml: str) -> bytes:
    """A minimal ODS whose first table holds `rows_xml`, as LibreOffice lays it out."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        f' xmlns:table="{TABLE_NS}" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' office:version="1.2"><office:body><office:spreadsheet><table:table table:name="S">'
        f"{rows_xml}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
            ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/"'
            ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            '</manifest:manifest>'))
        archive.writestr("content.xml", content)
    return out.getvalue()


def _text(value: str, repeat: int = 1) -> str:
    return (f'<table:table-cell table:number-columns-repeated="{repeat}" office:value-type="string">'
            f"<text:p>{value}</text:p></table:table-cell>")


HEADER = f"<table:table-row>{_text('nom')}</table:table-row>"


def test_an_xls_file_is_read_like_an_xlsx():
    table = imports.read_table("logements.xls", (DATA / "small.xls").read_bytes(), COLUMNS)
    assert [(r.line, r.cells) for r in table.rows] == [
        (2, {"name": "Été", "size": 48.5, "date": dt.date(2026, 3, 1), "ok": True}),
        (4, {"name": "Gare", "size": 3.0, "date": None, "ok": None}),  # line 3 is blank: numbers kept
    ]


def test_an_xls_is_recognised_whatever_its_name():
    assert len(imports.read_table("export", (DATA / "small.xls").read_bytes(), COLUMNS).rows) == 2


def test_an_xls_too_wide_is_refused_before_calamine_reads_it():
    with pytest.raises(ValidationError) as info:
        imports.read_table("x.xls", (DATA / "wide.xls").read_bytes(), COLUMNS)
    assert str(info.value.message) == "Le fichier a plus de 100 colonnes : gardez seulement celles du modèle."


def test_a_5kb_xls_reaching_iv65536_is_refused_cheaply():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValidationError, match="plus de 100 colonnes"):
        imports.read_table("x.xls", (DATA / "far.xls").read_bytes(), COLUMNS)
    # calamine would have built a 65,536 × 256 grid (about 1 GB).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024


def test_a_damaged_xls_is_refused():
    with pytest.raises(ValidationError) as info:
        imports.read_table("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, COLUMNS)
    assert str(info.value.message) == "Ce fichier XLS est illisible."


def test_an_ods_written_here_reads_back_with_its_types():
    data = imports.write_ods(["nom", "taille", "date", "ok"],
                             [["Été", Decimal("48.50"), dt.date(2026, 3, 1), True], ["Gare", 3, None, False]],
                             notes=["aide"])
    assert data[30:38] == b"mimetype"  # LibreOffice's layout: the mimetype first, stored
    table = imports.read_table("logements.ods", data, COLUMNS)
    assert [r.cells for r in table.rows] == [
        {"name": "Été", "size": 48.5, "date": dt.date(2026, 3, 1), "ok": True},
        {"name": "Gare", "size": 3.0, "date": None, "ok": False},
    ]
    # Recognised by its mimetype member, whatever the name.
    assert len(imports.read_table("export.xlsx", data, COLUMNS).rows) == 2


def test_ods_text_that_would_run_as_a_formula_is_made_inert():
    data = imports.write_ods(["nom"], [['=HYPERLINK("https://evil.example","x")'], ["-12,5"]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = archive.read("content.xml").decode()
    assert "table:formula" not in content
    assert "<text:p>'=HYPERLINK" in content
    assert [r.cells["name"] for r in imports.read_table("x.ods", data, COLUMNS).rows] == [
        "'=HYPERLINK(\"https://evil.example\",\"x\")", "-12,5"]


def test_empty_repeated_cells_of_a_real_libreoffice_file_are_fine():
    # LibreOffice pads every row to the sheet's width and the sheet to its million rows.
    data = _ods(
        f'<table:table-row>{_text("nom")}<table:table-cell table:number-columns-repeated="16383"/></table:table-row>'
        f'<table:table-row>{_text("Gare")}<table:table-cell table:number-columns-repeated="16383"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048574">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    assert [r.cells for r in imports.read_table("x.ods", data, COLUMNS).rows] == [{"name": "Gare"}]


def test_an_ods_cell_repeated_far_right_is_refused():
    data = _ods(HEADER + f"<table:table-row>{_text('x', 16384)}</table:table-row>")
    with pytest.raises(ValidationError, match="plus de 100 colonnes"):
        imports.read_table("x.ods", data, COLUMNS)


def test_an_ods_row_repeated_a_million_times_is_refused_without_expanding_it():
    # 50,000 × 1,000 made calamine abort the whole process: it must never see this file.
    data = _ods(HEADER + f'<table:table-row table:number-rows-repeated="1000000">{_text("x", 50)}</table:table-row>')
    with pytest.raises(ValidationError) as info:
        imports.read_table("x.ods", data, COLUMNS)
    assert str(info.value.message) == "Le fichier dépasse 5000 lignes : découpez-le en plusieurs fichiers."


def test_an_ods_with_an_entity_is_refused():
    with zipfile.ZipFile(io.BytesIO(_ods(HEADER))) as archive:
        content = archive.read("content.xml").decode()
    content = content.replace('<?xml version="1.0" encoding="UTF-8"?>',
                              '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]>')
    content = content.replace("<text:p>nom</text:p>", "<text:p>&a;</text:p>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    with pytest.raises(ValidationError) as info:
        imports.read_table("x.ods", out.getvalue(), COLUMNS)
    assert str(info.value.message) == "Ce fichier ODS est illisible."


def test_an_ods_that_unpacks_to_gigabytes_is_refused(monkeypatch):
    monkeypatch.setattr(imports, "MAX_XLSX_UNPACKED", 1000)
    with pytest.raises(ValidationError) as info:
        imports.read_table("x.ods", _ods(HEADER + "<table:table-row>" + _text("a" * 3000) + "</table:table-row>"),
                           COLUMNS)
    assert str(info.value.message) == "Ce fichier ODS est trop volumineux une fois décompressé."


def test_a_file_named_ods_that_is_not_a_spreadsheet_is_refused():
    with pytest.raises(ValidationError) as info:
        imports.read_table("x.ods", b"nom\nGare\n", COLUMNS)
    assert "n'est pas un tableur lisible" in str(info.value.message)


def test_unknown_columns_of_an_ods_are_named_on_line_1():
    data = imports.write_ods(["nom", "couleur"], [["Gare", "bleu"]])
    with pytest.raises(ImportRejected) as info:
        imports.read_table("x.ods", data, COLUMNS)
    assert [(e.line, e.column) for e in info.value.rows] == [(1, "couleur")]
