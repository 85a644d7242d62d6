"""The three exports and the charts, opened and read back: right figures, no small count."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from models import crypto
from services import charts, reports, stats
from services.stats import Quarter
from tests.conftest import DATA_KEY
from tests.services.test_stats import build_quarter_world

SMALL_VALUES = {"1", "2", "3", "4"}


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


@pytest.fixture
def quarter_world(db):
    return build_quarter_world(db)


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


def test_csv_is_semicolon_utf8_with_bom_and_has_no_small_count(db, ctx, quarter_world):
    report = reports.build(db, "csv", Quarter(2026, 4), ["59", "62"])
    assert report.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["tableau", "ligne", "colonne", "valeur"]
    by_key = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert by_key[("Le trimestre en chiffres", "Demandes déposées (ménages activés)", "T4 2026")] == "(s)"
    # 62's 2 is hidden, and so is every count of the selection that includes it (see test_differencing).
    assert by_key[("Par département (trimestre)", "62 Pas-de-Calais", "Demandes déposées")] == "(s)"
    assert by_key[("Par département (trimestre)", "59 Nord", "Demandes déposées")] == "6"  # as 59 alone shows it
    # French decimals: the year-to-date P90 lease delay is 215,5 days.
    p90 = by_key[("Délais depuis l'activation de la demande", "Jusqu'au bail signé — T4 2026",
                  "90e centile (jours)")]
    assert p90 == "215,5"
    for r in rows[1:]:
        assert r[3] not in SMALL_VALUES, r


def test_csv_in_english_uses_english_numbers(db, ctx, quarter_world):
    report = reports.build(db, "csv", Quarter(2026, 4), ["59", "62"], lang="en")
    text = report.content.decode("utf-8-sig")
    assert "215.5" in text and "215,5" not in text


def test_xlsx_has_one_sheet_per_table_and_no_small_count(db, ctx, quarter_world):
    report = reports.build(db, "xlsx", Quarter(2026, 4), ["59", "62"])
    wb = load_workbook(io.BytesIO(report.content))
    figures = stats.quarter_figures(db, Quarter(2026, 4), ["59", "62"])
    assert len(wb.sheetnames) == 1 + len(figures.tables)
    head = wb[wb.sheetnames[1]]
    assert head["A1"].value == "Le trimestre en chiffres"
    assert [c.value for c in head[3]] == ["Demandes déposées (ménages activés)", "(s)", 5, "(s)"]
    deps = next(wb[n] for n in wb.sheetnames if n.startswith("Par département"))
    values = {row[0].value: [c.value for c in row[1:]] for row in deps.iter_rows(min_row=3)}
    assert values["62 Pas-de-Calais"][0] == "(s)"
    for name in wb.sheetnames[1:]:
        for row in wb[name].iter_rows(min_row=3, min_col=2):
            for c in row:
                assert not (isinstance(c.value, int) and 1 <= c.value <= 4), (name, c.coordinate, c.value)


def test_pdf_has_pages_contents_charts_and_no_small_count(db, ctx, quarter_world):
    report = reports.build(db, "pdf", Quarter(2026, 4), ["59", "62"])
    assert report.content.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(report.content))
    pages = [p.extract_text() for p in reader.pages]
    text = "\n".join(pages)
    assert "Sommaire" in pages[0]
    assert "Rapport trimestriel — T4 2026" in pages[0]
    assert re.search(r"1 / \d+", pages[0])
    assert "Par département (trimestre)" in text
    # The table beside the flow chart: "Demandes déposées (ménages activés) (s) 5 (s)" (62's 2 is in 8 and 14).
    assert re.search(r"Demandes déposées \(ménages activés\)\s+\(s\)\s+5\s+\(s\)", text)
    flat = re.sub(r"\s+", " ", text)
    # The 62 row of the departments table: every small count hidden (in a selection: "(s)").
    assert re.search(r"62 Pas-de- ?Calais \(s\) \(s\) 0 \(s\)", flat)
    assert "Actions encore ouvertes des trimestres précédents" in text


def test_pdf_html_cells_have_no_small_count(db, ctx, quarter_world):
    figures = stats.quarter_figures(db, Quarter(2026, 4), ["59", "62"])
    review = reports.quarter_review(db, Quarter(2026, 4), None)
    html = reports.pdf_html(figures, review)
    cells = re.findall(r'<td class="num" data-kind="count" data-status="(\w+)">([^<]*(?:<[^/][^<]*)?)</td>', html)
    assert len(cells) > 100
    assert ("masked", "(s)") in cells
    for status, text in cells:
        assert text not in SMALL_VALUES, (status, text)


def test_pdf_in_english_is_a_pdf(db, ctx):
    report = reports.build(db, "pdf", Quarter(2027, 1), ["59"], lang="en")
    reader = PdfReader(io.BytesIO(report.content))
    assert len(reader.pages) >= 3


def test_charts_are_svg_without_the_hidden_numbers(db, ctx, quarter_world):
    figures = stats.quarter_figures(db, Quarter(2026, 4), ["59", "62"])
    for name in charts.CHARTS:
        svg = charts.render(name, figures).decode()
        assert svg.lstrip().startswith(("<?xml", "<svg")), name
        assert "http://" not in svg.replace("http://www.w3.org", "").replace("http://purl.org", "") \
            .replace("http://creativecommons.org", ""), name
        assert charts.alt_text(name, figures)
    svg = charts.render("map_waiting", figures).decode()
    assert "&lt; 5" in svg  # department 62: two households waiting, shown as "< 5"
    with pytest.raises(stats.NotSuppressed):
        charts.render("flow", stats.compute(db, Quarter(2026, 4), ["59"]))
