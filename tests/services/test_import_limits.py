"""A crafted XLSX cannot cost seconds of CPU and hundreds of MB (issue 13, finding 4).

The sheet claims A1:XFD1048576 in its <dimension>: openpyxl padded every row to 16,384
cells. Now the claim is ignored, and a row reaching far to the right is refused at once.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from services.errors import ValidationError
from services.imports import MAX_ROWS, _xlsx_cells

_NS = "http://schemas.openxmlformats.org/"


def _crafted(rows: int, last_cell: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", f'<Types xmlns="{_NS}package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.spreadsheetml.worksheet+xml"/></Types>')
        z.writestr("_rels/.rels", f'<Relationships xmlns="{_NS}package/2006/relationships"><Relationship Id="rId1" '
                   f'Type="{_NS}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{_NS}spreadsheetml/2006/main" '
                   f'xmlns:r="{_NS}officeDocument/2006/relationships"><sheets>'
                   '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{_NS}package/2006/relationships">'
                   f'<Relationship Id="rId1" Type="{_NS}officeDocument/2006/relationships/worksheet" '
                   'Target="worksheets/sheet1.xml"/></Relationships>')
        body = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>x</t></is></c></row>'
                       for i in range(1, rows + 1))
        if last_cell:
            body += f'<row r="{rows + 1}"><c r="{last_cell}" t="inlineStr"><is><t>x</t></is></c></row>'
        z.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{_NS}spreadsheetml/2006/main">'
                   f'<dimension ref="A1:XFD1048576"/><sheetData>{body}</sheetData></worksheet>')
    return buf.getvalue()


def test_a_sheet_claiming_a_huge_size_is_read_as_the_cells_it_has():
    data = _crafted(MAX_ROWS)
    started = time.process_time()
    rows = _xlsx_cells(data)
    assert time.process_time() - started < 3  # was minutes: 5,000 rows x 16,384 cells
    assert len(rows) == MAX_ROWS and max(len(r) for r in rows) == 1


def test_a_cell_far_to_the_right_is_refused_with_a_clear_message():
    data = _crafted(3, last_cell="XFD4")
    assert len(data) < 2000
    with pytest.raises(ValidationError) as refused:
        _xlsx_cells(data)
    assert "plus de 100 colonnes" in str(refused.value.errors["file"][0])


@pytest.fixture
def app_config():  # type: ignore[no-untyped-def]
    return {"RATELIMIT_ENABLED": True}


def test_the_import_page_is_rate_limited(client, login_as):
    login_as("landlord")
    answers = [client.post("/bailleur/logements/importer",
                           data={"file": (io.BytesIO(b"reference;commune\n"), "logements.csv")},
                           content_type="multipart/form-data").status_code
               for _ in range(31)]
    assert 429 not in answers[:30]
    assert answers[30] == 429
