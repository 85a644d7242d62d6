"""The committee's figures by origin (issue 15): proposals made and leases signed per origin.

A run's proposal is made when its run is released (set aside or unreleased ones never
count), the offer board's and the coordinator's when created; a lease when the lease
decision is accepted; both in the unit's department.
"""

from __future__ import annotations

import datetime as dt
import html as html_lib

import pytest

from models import Proposal, crypto
from services import stats
from services.stats import SHOWN, SMALL_COUNT, Quarter, Table
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import World, decide, paris

Q4 = Quarter(2026, 4)
ORIGINS = ("run", "candidacy", "request", "direct")
TITLE = "Propositions et relogements par voie d'accès"


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def offer(w: World, origin: str, at: dt.datetime, department: str = "59", leased_at: dt.datetime | None = None):
    """A proposal of the offer board or of the coordinator (no run), created at `at`."""
    landlord = w.l59 if department == "59" else w.l62
    association = w.a1 if department == "59" else w.a2
    unit = w.unit(at - dt.timedelta(days=20), landlord=landlord, department=department)
    household = w.household(at - dt.timedelta(days=30), association=association, department=department)
    p = Proposal(unit=unit, household=household, origin=origin, run=None, rank=1, score=0.0, components={},
                 status="leased" if leased_at else "pending", created_at=at,
                 deadline=at.date() + dt.timedelta(days=14),
                 origin_reason="Mise en danger" if origin == "direct" else None)
    w.db.add(p)
    w.db.flush()
    if leased_at is not None:
        decide(w.db, p, "household", "accept", at if origin == "candidacy" else at + dt.timedelta(days=2))
        decide(w.db, p, "commission", "accept", at + dt.timedelta(days=5))
        decide(w.db, p, "lease", "accept", leased_at)
        household.status, household.closed_at, unit.status = "housed", leased_at, "allocated"
    else:
        household.status, unit.status = "proposed", "proposed"
    w.db.flush()
    return p


def run_proposals(w: World, released_at: dt.datetime | None, n: int, status: str = "pending",
                  department: str = "59"):
    run = (factories.create_run(w.db, released_at=released_at) if released_at is not None
           else factories.create_run(w.db, status="succeeded", released_at=None))
    landlord = w.l59 if department == "59" else w.l62
    for _ in range(n):
        base = released_at or paris(2026, 11, 1, 9)
        unit = w.unit(base - dt.timedelta(days=10), landlord=landlord, department=department)
        household = w.household(base - dt.timedelta(days=40), department=department)
        factories.create_proposal(w.db, unit=unit, household=household, run=run, status=status)


def build(db) -> World:
    """2026-Q4 in 59 (and a little in 62), with the answers below."""
    w = World(db)
    # Runs: 6 released in Q4 (5 of them leased in Q4), 2 released in Q3; set aside and
    # unreleased proposals never count.
    for i in range(5):
        unit = w.unit(paris(2026, 9, 1, 9))
        household = w.household(paris(2026, 8, 1, 9))
        w.house(household, unit, paris(2026, 10, 5 + i, 9), paris(2026, 11, 20 + i, 14))
    run_proposals(w, paris(2026, 10, 12, 9), 1)
    run_proposals(w, paris(2026, 10, 12, 9), 1, status="dropped")
    run_proposals(w, paris(2026, 10, 12, 9), 1, status="review")
    run_proposals(w, None, 2, status="review")
    run_proposals(w, paris(2026, 8, 3, 9), 2)
    # Candidacies: 5 in Q4 (one leased in Q4), 1 in Q3, 1 in February.
    for i in range(5):
        offer(w, "candidacy", paris(2026, 10, 20 + i, 11),
              leased_at=paris(2026, 12, 10, 15) if i == 0 else None)
    offer(w, "candidacy", paris(2026, 9, 30, 23, 30))  # Paris time: still Q3
    offer(w, "candidacy", paris(2026, 2, 3, 10))
    # Requests answered by an offer: 2 in Q4 (a small count).
    for i in range(2):
        offer(w, "request", paris(2026, 11, 2 + i, 10))
    # Department 62: 3 direct matches in Q4, one leased; counted in 62 only.
    for i in range(3):
        offer(w, "direct", paris(2026, 10, 7 + i, 10), department="62",
              leased_at=paris(2026, 11, 30, 10) if i == 0 else None)
    db.flush()
    return w


def values(table: Table, key: str) -> list[int]:
    return [c.value for c in table.row_by_key(key).cells]


RAW_59 = {
    # key: [quarter, previous quarter, year to date]
    "proposals:run": [6, 2, 8],
    "proposals:candidacy": [5, 1, 7],
    "proposals:request": [2, 0, 2],
    "proposals:direct": [0, 0, 0],
    "proposals:total": [13, 3, 17],
    "leases:run": [5, 0, 5],
    "leases:candidacy": [1, 0, 1],
    "leases:request": [0, 0, 0],
    "leases:direct": [0, 0, 0],
    "leases:total": [6, 0, 6],
}


def test_raw_counts_per_origin_and_period(db):
    build(db)
    table = stats.compute(db, Q4, ["59"]).table("by_origin")
    assert table.title == TITLE
    assert {r.key: [c.value for c in r.cells] for r in table.rows} == RAW_59
    labels = [r.label for r in table.rows]
    for words in ("Rapprochement de la coordination", "Candidature d'une association",
                  "Demande de relogement (offre d'un bailleur)", "Proposition directe de la coordination"):
        assert sum(words in label for label in labels) == 2  # proposals and leases
    assert [r.key for r in table.rows if r.is_total] == ["proposals:total", "leases:total"]


def test_the_origin_rows_add_up_to_the_totals_and_the_groups_say_so(db):
    build(db)
    for departments in (["59"], ["62"], ["59", "62"]):
        table = stats.compute(db, Q4, departments).table("by_origin")
        for measure in ("proposals", "leases"):
            for col in range(3):
                parts = sum(values(table, f"{measure}:{o}")[col] for o in ORIGINS)
                assert parts == values(table, f"{measure}:total")[col]
        # Each block's column group (origins -> total) and each row's time group are declared.
        keyed = {(tuple(sorted(g.parts)), g.total) for g in table.groups}
        for block in (range(0, 4), range(5, 9)):
            for col in range(3):
                assert (tuple(sorted((r, col) for r in block)), (block[-1] + 1, col)) in keyed
        for r in range(len(table.rows)):
            assert ((tuple(sorted([(r, 0), (r, 1)]))), (r, 2)) in keyed
        # The leases by origin are the headline's units allocated.
        head = stats.compute(db, Q4, departments).table("headline")
        assert values(head, "units_allocated") == values(table, "leases:total")


def test_another_department_counts_none_of_them(db):
    build(db)
    t62 = stats.compute(db, Q4, ["62"]).table("by_origin")
    assert values(t62, "proposals:direct") == [3, 0, 3] and values(t62, "leases:direct") == [1, 0, 1]
    assert values(t62, "proposals:total") == [3, 0, 3] and values(t62, "leases:total") == [1, 0, 1]
    t59 = stats.compute(db, Q4, ["59"]).table("by_origin")
    assert values(t59, "proposals:direct") == [0, 0, 0]
    assert stats.compute(db, Q4, ["80"]).table("by_origin").rows[-1].cells[0].value == 0
    # A selection is the sum of its departments; each part holds its own department only.
    both = stats.compute(db, Q4, ["59", "62"])
    assert values(both.table("by_origin"), "proposals:total") == [16, 3, 20]
    for dep, raw in (("59", t59), ("62", t62)):
        part = both.parts[dep].table("by_origin")
        assert {r.key: values(part, r.key) for r in part.rows} == {r.key: values(raw, r.key) for r in raw.rows}


def test_small_counts_are_hidden_after_suppress(db):
    build(db)
    for departments in (["59"], ["62"], ["59", "62"]):
        table = stats.quarter_figures(db, Q4, departments).table("by_origin")
        texts = [stats.display(c) for r in table.rows for c in r.cells]
        assert not {"1", "2", "3", "4"} & set(texts)
        # No group has exactly one hidden member: nothing can be recomputed.
        for g in table.groups:
            hidden = [m for m in [*g.parts, g.total] if not table.cell(m).shown]
            assert len(hidden) != 1, (departments, g)
        for cell in (c for r in table.rows for c in r.cells):
            assert cell.status == SHOWN or cell.public_value() is None
    t59 = stats.quarter_figures(db, Q4, ["59"]).table("by_origin")
    request = t59.row_by_key("proposals:request").cells
    assert request[0].status == SMALL_COUNT and stats.display(request[0]) == "< 5"
    assert [stats.display(c) for c in request] == ["< 5", "0", "< 5"]
    # Another of the quarter's proposals is masked too (the smallest), so that the total does
    # not tell the requests'.
    assert [stats.display(t59.row_by_key(f"proposals:{o}").cells[0]) for o in ORIGINS] == ["6", "(s)", "< 5", "0"]
    assert stats.display(t59.row_by_key("proposals:total").cells[0]) == "13"
    t62 = stats.quarter_figures(db, Q4, ["62"]).table("by_origin")
    assert [stats.display(c) for c in t62.row_by_key("proposals:direct").cells] == ["< 5", "0", "< 5"]
    # In the selection, whatever 62 hides reads "(s)".
    both = stats.quarter_figures(db, Q4, ["59", "62"]).table("by_origin")
    assert stats.display(both.row_by_key("proposals:direct").cells[0]) == "(s)"
    assert stats.to_dict(stats.quarter_figures(db, Q4, ["59"]))["tables"][3]["key"] == "by_origin"


@pytest.fixture
def member(db, login_as):
    committee = factories.create_organisation(db, "committee", departments=["59", "62"])
    return login_as("committee", organisation=committee)


def test_the_committee_page_and_the_csv_show_the_table(client, db, member):
    build(db)
    db.commit()
    page = html_lib.unescape(client.get("/comite/?quarter=2026-Q4&departments=59").get_data(as_text=True))
    assert TITLE in page
    assert "Propositions faites — Rapprochement de la coordination" in page
    assert "Baux signés — Proposition directe de la coordination" in page
    csv = client.get("/comite/rapport.csv?quarter=2026-Q4&departments=59")
    assert csv.status_code == 200
    lines = [line.split(";") for line in csv.data.decode("utf-8-sig").splitlines()[1:]]
    ours = {(row, col): value for title, row, col, value in lines if title == TITLE}
    assert len(ours) == 10 * 3
    assert ours[("Propositions faites — Demande de relogement (offre d'un bailleur)", "T4 2026")] == "< 5"
    assert ours[("Baux signés — total", "T4 2026")] == "6"
    assert not {"1", "2", "3", "4"} & set(ours.values())


def test_every_origin_counts_as_a_proposal_sent_and_a_first_proposal(db):
    """'Propositions envoyées', the households proposed, the landlords' proposals and the delay
    to a first proposal count the offer board's and the coordinator's proposals too, not only
    the runs' (issue 15: the committee counts every way in)."""
    build(db)
    figures = stats.compute(db, Q4, ["59"])
    made = values(figures.table("by_origin"), "proposals:total")
    assert values(figures.table("decisions"), "sent") == made == [13, 3, 17]
    # Every proposal of build() goes to a household of its own: each is a first proposal.
    assert values(figures.table("headline"), "proposed") == made
    by_landlord = figures.table("by_landlord")
    assert sum(r.cells[1].value for r in by_landlord.rows if not r.is_total) == 13
    assert values(figures.table("delays"), "first_proposal_at:2026-Q4")[0] == 13
    # In 62 the direct matches alone.
    t62 = stats.compute(db, Q4, ["62"])
    assert values(t62.table("decisions"), "sent") == [3, 0, 3]
    assert values(t62.table("headline"), "proposed") == [3, 0, 3]
