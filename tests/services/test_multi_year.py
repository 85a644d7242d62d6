"""The yearly and multi-year report (issue 17): each year as frozen with its fourth quarter,
the range's totals, and the small-count rule in the totals."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from models import AuditEvent, crypto
from services import households, multi_year, privacy, reports, snapshots
from services.stats import COUNT, SHOWN, Cell, Group, Quarter, Row, Table, suppress_table
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import build_quarter_world, paris

DEPS = ["59", "62"]
AFTER = dt.date(2027, 1, 20)


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def _world_over_two_years(db):
    """build_quarter_world's 2026 (6 households rehoused in Q4) and 7 rehoused in 2025 in the Nord."""
    world, parts = build_quarter_world(db)
    for i in range(7):
        h = world.household(paris(2025, 2, 1 + i, 10), children=1)
        u = world.unit(paris(2025, 3, 1, 9))
        world.house(h, u, paris(2025, 5, 1 + i, 9), paris(2025, 6, 2 + i, 9))
    return world, parts


def _figures(content: bytes) -> dict[tuple[str, str, str], str]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    return {(r[0], r[1], r[2]): r[3] for r in rows[1:]}


def test_the_range_adds_up_the_frozen_years_and_does_not_move_after_a_purge(app, db, client, login_as):
    _world, parts = _world_over_two_years(db)
    committee = factories.create_organisation(db, "committee", departments=DEPS)
    with app.test_request_context("/"):
        snapshots.freeze(db, Quarter(2025, 4), DEPS, today=dt.date(2026, 1, 20))
        snapshots.freeze(db, Quarter(2026, 4), DEPS, today=AFTER)
        before = reports.build_multi_year(db, "csv", DEPS, 2025, 2026).content
    db.commit()
    figures = _figures(before)
    head = "Le trimestre en chiffres"
    assert figures[(head, "Ménages relogés (bail signé)", "2025")] == "7"
    assert figures[(head, "Ménages relogés (bail signé)", "2026")] == "6"
    assert figures[(head, "Ménages relogés (bail signé)", "Total")] == "13"
    assert figures[(head, "Enfants relogés", "2025")] == "7"
    # A household active in both years is one household: no total for a state.
    assert figures[(head, "Ménages actifs pendant la période", "Total")] == "—"

    assert privacy.purge(db, 12, now=dt.datetime(2028, 6, 1, tzinfo=dt.UTC))
    households.erase_household(db, parts["q4_59"][3], actor=None)
    db.commit()
    with app.test_request_context("/"):
        assert reports.build_multi_year(db, "csv", DEPS, 2025, 2026).content == before

    # The committee reads it on its page and downloads it; every download is audited.
    login_as("committee", organisation=committee)
    page = client.get("/comite/bilan?from=2025&to=2026").get_data(as_text=True)
    assert "Bilan pluriannuel" in page and "2025 : chiffres figés le" in page, page[page.find("<main"):][:3000]
    assert "/comite/bilan.ods?from=2025&amp;to=2026" in page
    pdf = client.get("/comite/bilan.pdf?from=2025&to=2026&language=en")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Multi-year report 2025–2026" in text and "Total" in text
    assert 'filename="bilan-2025-2026-59-62-en.pdf"' in pdf.headers["Content-Disposition"]
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "committee.multi_year_report.export")).all()
    assert [e.object_id for e in events] == ["2025-2026:pdf:59,62"]


def test_a_year_not_closed_is_recomputed_and_said_so(app, db):
    _world_over_two_years(db)
    with app.test_request_context("/"):
        report = multi_year.build(db, DEPS, 2025, 2026)
        notes = reports.multi_year_notes(report)
    assert [y.frozen_at for y in report.years] == [None, None]
    assert notes[0].startswith("2025 : 4e trimestre non clos")


def test_a_hidden_year_hides_its_total(app, db):
    """2026 has 2 households submitted in the Pas-de-Calais: hidden that year, so in the total too."""
    _world_over_two_years(db)
    with app.test_request_context("/"):
        table = next(t for t in multi_year.build(db, ["62"], 2025, 2026).tables if t.key == "years-headline")
    row = table.row_by_key("submitted")
    assert row.cells[1].status != SHOWN and row.cells[2].status != SHOWN
    assert row.cells[2].value is None  # the hidden total is not even computed


def _year_table(rng: random.Random, key: str) -> Table:
    """A quarter-shaped table (quarter, previous, year to date) of refusals by reason with a subtotal."""
    t = Table(key, "Refus", ["T", "T-1", "Année"])
    n = rng.randint(2, 5)
    for r in range(n):
        q, p = rng.choice([0, 0, 1, 2, 3, 6, 9]), rng.choice([0, 1, 4, 8])
        t.add(f"motif {r}", [q, p, q + p], key=f"r{r}")
        t.groups.append(Group([(r, 0), (r, 1)], (r, 2), prefer_total=True))
    t.add_total_row("total")
    t.rows[-1].key = "total"
    return suppress_table(t)


def test_no_hidden_cell_can_be_worked_out_from_the_totals():
    """In every group that adds up (a row across the years and its total, the rows of the totals
    column and their subtotal), none or at least two cells are hidden: never exactly one."""
    rng = random.Random(17)
    for _case in range(300):
        sources = [_year_table(rng, "refusals") for _year in range(rng.randint(2, 4))]
        table = multi_year._table("refusals", list(range(2020, 2020 + len(sources))), list(sources))
        total_col = len(sources)
        groups = [[(r, c) for c in range(total_col + 1)] for r in range(len(table.rows))]
        groups.append([(r, total_col) for r in range(len(table.rows))])
        for g in groups:
            hidden = [at for at in g if table.cell(at).status != SHOWN]
            assert len(hidden) != 1, (table, g)
        for r, row in enumerate(table.rows):
            shown = [c.value for c in row.cells[:total_col]]
            if row.cells[total_col].status == SHOWN:
                assert row.cells[total_col].value == sum(shown), r


def test_the_range_is_clipped_to_what_exists():
    assert multi_year.year_range(None, None, today=dt.date(2026, 12, 3)) == (2024, 2026)
    assert multi_year.year_range(2030, 2031, today=dt.date(2026, 12, 3)) == (2026, 2026)
    assert multi_year.year_range(1990, 2026, today=dt.date(2026, 12, 3)) == (2017, 2026)


def test_delays_have_no_total():
    t = Table("delays", "Délais", ["T", "T-1", "Année"])
    t.rows.append(Row("médiane", [Cell(30.0, "days"), Cell(20.0, "days"), Cell(25.0, "days")], key="median"))
    out = multi_year._table("delays", [2025, 2026], [t, t])
    assert out.rows[0].cells[2].kind != COUNT and out.rows[0].cells[2].value is None
