"""Frozen quarterly figures: a closed quarter never changes after purges and erasures."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from models import Household, crypto
from services import households, privacy, reports, snapshots, stats
from services.errors import Conflict, ValidationError
from services.stats import Quarter
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import build_quarter_world

Q4 = Quarter(2026, 4)
DEPS = ["59", "62"]
AFTER = dt.date(2027, 1, 20)


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def _pdf_figures(content: bytes) -> str:
    """The PDF's text without what is not a figure (the generation date)."""
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"\d{2}/\d{2}/\d{4}( \d{2}:\d{2})?", "<date>", text)


def _xlsx_figures(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content))
    return [[ws.title, *[c.value for row in ws.iter_rows() for c in row]] for ws in book.worksheets]


def _cells(values: list[object]) -> list[object]:
    """A sheet's filled cells in reading order, numbers as floats (both readers agree on these)."""
    return [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for v in values if v not in (None, "")]


def _sheets_xlsx(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content))
    return [[ws.title, *_cells([c.value for row in ws.iter_rows() for c in row])] for ws in book.worksheets]


def _sheets_ods(content: bytes) -> list[list[object]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    return [[name, *_cells([v for row in book.get_sheet_by_name(name).to_python() for v in row])]
            for name in book.sheet_names]


def _page_figures(page: str) -> list[str]:
    return re.findall(r'<td class="num" data-kind="[a-z]+" data-status="[a-z]+">([^<]*)</td>', page)


def test_a_frozen_quarter_is_unchanged_after_a_purge_and_an_erasure(app, db, client, login_as):
    _world, parts = build_quarter_world(db)
    committee = factories.create_organisation(db, "committee", departments=DEPS)
    with app.test_request_context("/"):
        snapshots.freeze(db, Q4, DEPS, today=AFTER)
        before = {fmt: reports.build(db, fmt, Q4, DEPS, lang=lang).content
                  for fmt, lang in (("pdf", "fr"), ("xlsx", "fr"), ("csv", "fr"), ("ods", "en"), ("xlsx", "en"))}
        live_before = snapshots.dump(stats.quarter_figures(db, Q4, DEPS))
    db.commit()
    login_as("committee", organisation=committee)
    page_before = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    assert "Trimestre clos" in page_before and "les chiffres sont identiques" in page_before

    # One household purged (closed long ago by the time the purge runs), another erased.
    erased = privacy.purge(db, 12, now=dt.datetime(2028, 6, 1, tzinfo=dt.UTC))
    assert erased
    households.erase_household(db, parts["q4_59"][3], actor=None)
    db.commit()

    with app.test_request_context("/"):
        after = {fmt: reports.build(db, fmt, Q4, DEPS, lang=lang).content
                 for fmt, lang in (("pdf", "fr"), ("xlsx", "fr"), ("csv", "fr"), ("ods", "en"), ("xlsx", "en"))}
        live_after = snapshots.dump(stats.quarter_figures(db, Q4, DEPS))
    # The figures recomputed today did change: without the snapshot the quarter would move.
    assert live_after != live_before
    assert after["csv"] == before["csv"]
    assert _xlsx_figures(after["xlsx"]) == _xlsx_figures(before["xlsx"])
    # The ODS holds the XLSX's sheets and cells, one for one, and is frozen with them.
    assert _sheets_ods(after["ods"]) == _sheets_ods(before["ods"]) == _sheets_xlsx(before["xlsx"])
    assert _pdf_figures(after["pdf"]) == _pdf_figures(before["pdf"])
    page_after = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    assert _page_figures(page_after) == _page_figures(page_before) and _page_figures(page_after)
    # The difference is counted, never listed.
    assert re.search(r"Recalculés aujourd&#39;hui, \d+ chiffres diffèrent|Recalculés aujourd'hui, \d+ chiffres",
                     page_after)
    assert db.scalar(sa.select(sa.func.count()).select_from(Household)) < 14


def test_the_snapshot_holds_no_hidden_value(app, db):
    build_quarter_world(db)
    with app.test_request_context("/"):
        snap = snapshots.freeze(db, Q4, DEPS, today=AFTER)
    for lang in ("fr", "en"):
        for table in snap.figures[lang]["tables"]:
            for row in table["rows"]:
                for cell in row["cells"]:
                    if cell["s"] != stats.SHOWN:
                        assert cell["v"] is None, (table["key"], row["label"])
    assert {t["title"] for t in snap.figures["en"]["tables"]} != {t["title"] for t in snap.figures["fr"]["tables"]}


def test_a_quarter_closes_once_and_only_after_its_end(app, db):
    with app.test_request_context("/"):
        with pytest.raises(ValidationError):
            snapshots.freeze(db, Q4, DEPS, today=dt.date(2026, 12, 20))
        snapshots.freeze(db, Q4, DEPS, today=AFTER)
        with pytest.raises(Conflict):
            snapshots.freeze(db, Q4, DEPS, today=AFTER)


def test_the_nightly_job_closes_the_quarter_some_days_after_its_end(app, db):
    factories.create_organisation(db, "committee", departments=["62", "59"])
    with app.test_request_context("/"):
        assert snapshots.committee_scopes(db) == [DEPS]
        made = snapshots.freeze_due(db, snapshots.committee_scopes(db), today=dt.date(2027, 1, 16), after_days=15)
        assert [(s.quarter, s.scope) for s in made] == [("2026-Q4", "departments:59,62")]
        assert snapshots.freeze_due(db, [DEPS], today=dt.date(2027, 1, 17), after_days=15) == []
    assert snapshots.due_quarters(dt.date(2027, 1, 10), 15) == Quarter(2026, 3)


def _commitment_world(db):  # type: ignore[no-untyped-def]
    """The quarter world, plus a 2026 convention on the 59 where Bailleur Nord committed to units
    and to moves out of a shared home: the six Q4 leases are of women leaving a shared home."""
    from services import conventions

    world, parts = build_quarter_world(db)
    for h in [*parts["q3"], parts["early"]]:
        h.priority_categories = ["violence", "shared_home"]
    coordinator = factories.create_user(db, role="coordinator", organisation=factories.create_organisation(
        db, "coordinator", departments=DEPS))
    convention = conventions.create_convention(
        db, user=coordinator, title="Pass'Logement Nord 2026", parties="URH\nFNSF", funders="DREETS",
        departments="59", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2027, 1, 1))
    for kind, target in (("units_posted", 20), ("shared_home_moves", 10)):
        conventions.set_commitment(db, convention, organisation_id=world.l59.id, year=2026, kind=kind,
                                   target=target)
    db.flush()
    return world, parts, convention


def _section_figures(page: str, marker: str) -> list[str]:
    """The figures of the page's part that starts at `marker` (the commitments' section)."""
    start = page.index(marker)
    return _page_figures(page[start:page.index("</section>", page.index("</table>", start))])


def test_frozen_commitments_are_unchanged_after_a_purge_and_an_erasure(app, db, client, login_as):
    from services import conventions

    _world, parts, convention = _commitment_world(db)
    committee = factories.create_organisation(db, "committee", departments=DEPS)
    with app.test_request_context("/"):
        snapshot = snapshots.freeze(db, Q4, DEPS, today=AFTER)
        (frozen,) = snapshot.figures["fr"]["conventions"]
        assert frozen["title"] == "Pass'Logement Nord 2026"
        live_before = [[stats.display(c, "fr") for r in t.rows for c in r.cells]
                       for t in conventions.committee_tables(db, convention, Q4)]
        csv_before = reports.build(db, "csv", Q4, DEPS).content
        xlsx_before = _xlsx_figures(reports.build(db, "xlsx", Q4, DEPS, lang="en").content)
    # Six moves out of a shared home in the quarter against ten committed: 60 % kept.
    assert live_before[1] == ["10", "6", "6", "60\u00a0%", "10", "6", "6", "—"]
    db.commit()
    login_as("committee", organisation=committee)
    page_before = client.get("/comite/conventions?quarter=2026-Q4").get_data(as_text=True)
    home_before = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    assert "Trimestre clos" in page_before and "les chiffres sont identiques" in page_before
    assert _section_figures(page_before, 'id="convention-') == _section_figures(home_before, 'id="convention-')
    assert _section_figures(page_before, 'id="convention-')[:8] == ["20", "7", "9", "45 %", "20", "7", "9", "—"]

    # Every rehoused household purged (closed long ago by then), another erased.
    assert privacy.purge(db, 12, now=dt.datetime(2028, 6, 1, tzinfo=dt.UTC))
    households.erase_household(db, parts["q4_59"][3], actor=None)
    db.commit()

    with app.test_request_context("/"):
        live_after = [[stats.display(c, "fr") for r in t.rows for c in r.cells]
                      for t in conventions.committee_tables(db, convention, Q4)]
        assert live_after != live_before  # recomputed today, the commitments would have moved
        assert reports.build(db, "csv", Q4, DEPS).content == csv_before
        assert _xlsx_figures(reports.build(db, "xlsx", Q4, DEPS, lang="en").content) == xlsx_before
        assert snapshots.convention_differences(db, snapshot) > 0
    page_after = client.get("/comite/conventions?quarter=2026-Q4").get_data(as_text=True)
    home_after = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    assert _section_figures(page_after, 'id="convention-') == _section_figures(page_before, 'id="convention-')
    assert _section_figures(home_after, 'id="convention-') == _section_figures(home_before, 'id="convention-')
    assert "Pass'Logement Nord 2026" in html.unescape(page_after)
    # The difference is counted, never listed.
    assert re.search(r"Recalculés aujourd.{1,5}hui, \d+ chiffres? diff", page_after)
    # The exports carry the commitments, first.
    rows = csv_before.decode("utf-8-sig").splitlines()
    assert rows[1].startswith("Pass'Logement Nord 2026 — ")
    assert ";Bailleur Nord;T4 2026;6" in csv_before.decode("utf-8-sig")


def test_an_open_quarter_reads_live_commitments_and_an_old_snapshot_without_them_too(app, db):
    _world, _parts, convention = _commitment_world(db)
    with app.test_request_context("/"):
        (live,) = snapshots.convention_sections(db, Q4, DEPS)
        assert live.id == convention.id and [t.key for t in live.tables] == [
            "commitments-units_posted-landlord", "commitments-shared_home_moves-landlord"]
        snapshot = snapshots.freeze(db, Q4, DEPS, today=AFTER)
        # A quarter closed before the commitments were frozen with it: read live, no difference counted.
        snapshot.figures = {lang: {k: v for k, v in data.items() if k != "conventions"}
                            for lang, data in snapshot.figures.items()}
        db.flush()
        (again,) = snapshots.convention_sections(db, Q4, DEPS)
        assert again.tables[1].rows[0].cells[1].value == 6
        assert snapshots.convention_differences(db, snapshot) == 0


def test_the_yearly_report_reads_a_closed_year_from_its_snapshot_in_both_languages(app, db, client, login_as):
    import csv

    from models import AuditEvent

    _world, _parts, convention = _commitment_world(db)
    committee = factories.create_organisation(db, "committee", departments=DEPS)
    with app.test_request_context("/"):
        open_year = reports.build_yearly(db, "csv", convention, DEPS, today=AFTER).content.decode("utf-8-sig")
        assert "recalculés aujourd'hui" not in open_year  # notes are in the XLSX; the CSV holds figures
        snapshots.freeze(db, Q4, DEPS, today=AFTER)
        (year,) = reports.yearly(db, convention, DEPS, today=AFTER)
        assert year.year == 2026 and year.frozen_at is not None
        before = {(fmt, lang): reports.build_yearly(db, fmt, convention, DEPS, lang=lang, today=AFTER).content
                  for fmt in ("csv", "xlsx", "ods") for lang in ("fr", "en")}
    rows = list(csv.reader(io.StringIO(before[("csv", "fr")].decode("utf-8-sig")), delimiter=";"))
    by_key = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    title = "2026 — Décohabitations (sorties d'un logement partagé avec l'auteur) — bailleurs"
    assert by_key[(title, "Bailleur Nord", "Engagement 2026")] == "10"
    assert by_key[(title, "Bailleur Nord", "Réalisé en 2026")] == "6"
    assert by_key[(title, "Bailleur Nord", "Part de l'engagement tenue")] == "60 %"
    assert "Achieved in 2026" in before[("csv", "en")].decode("utf-8-sig")
    assert before[("csv", "fr")].decode("utf-8-sig") == open_year  # nothing changed before the freeze
    db.commit()

    assert privacy.purge(db, 12, now=dt.datetime(2028, 6, 1, tzinfo=dt.UTC))
    db.commit()
    with app.test_request_context("/"):
        after = {(fmt, lang): reports.build_yearly(db, fmt, convention, DEPS, lang=lang, today=AFTER).content
                 for fmt in ("csv", "xlsx", "ods") for lang in ("fr", "en")}
    assert after[("csv", "fr")] == before[("csv", "fr")] and after[("csv", "en")] == before[("csv", "en")]
    for lang in ("fr", "en"):
        assert _xlsx_figures(after[("xlsx", lang)]) == _xlsx_figures(before[("xlsx", lang)])
        assert _sheets_ods(after[("ods", lang)]) == _sheets_xlsx(after[("xlsx", lang)])
    book = load_workbook(io.BytesIO(after[("xlsx", "en")]))
    assert book.sheetnames == ["Overview", "2026"]
    assert any("frozen" in str(c.value) for row in book["2026"].iter_rows() for c in row)

    # The committee downloads it from its page of commitments; the export is audited.
    login_as("committee", organisation=committee)
    page = client.get("/comite/conventions?quarter=2026-Q4").get_data(as_text=True)
    assert f"/comite/conventions/{convention.id}/bilan.xlsx" in page
    r = client.get(f"/comite/conventions/{convention.id}/bilan.csv?language=en")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "Achieved in 2026" in r.get_data(as_text=True)
    assert 'filename="convention-' in r.headers["Content-Disposition"] and "-en.csv" in r.headers[
        "Content-Disposition"]
    assert db.scalar(sa.select(AuditEvent.object_id).where(
        AuditEvent.action == "committee.convention_report.export")) == f"{convention.id}:csv"
    # The yearly report in PDF too: the same figures, frozen ones with their date.
    r = client.get(f"/comite/conventions/{convention.id}/bilan.pdf?language=en")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "Achieved in 2026" in text and "Figures frozen on" in text and "Period: 2026-01-01" in text
    assert re.search(r"Bailleur Nord 10 6 60\s?%", text)
    assert client.get(f"/comite/conventions/{convention.id}/bilan.docx").status_code == 404


def test_a_committee_cannot_download_another_territorys_convention(app, db, client, login_as):
    _world, _parts, convention = _commitment_world(db)
    login_as("committee", organisation=factories.create_organisation(db, "committee", departments=["75"]))
    assert client.get(f"/comite/conventions/{convention.id}/bilan.csv").status_code == 404
