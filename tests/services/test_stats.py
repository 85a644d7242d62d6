"""The committee's quarter figures against hand-built quarters with known answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models import Decision, crypto
from services import stats
from services.errors import ValidationError
from services.stats import COUNT, MASKED, SHOWN, SMALL_COUNT, Cell, Group, Quarter, Table
from tests import factories
from tests.conftest import DATA_KEY

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(autouse=True)
def _data_key():
    """Households' safety fields are encrypted: the services need the data key."""
    crypto.configure(DATA_KEY)


def paris(*args: int) -> dt.datetime:
    """A Paris wall-clock time as an aware UTC datetime (what the database holds)."""
    return dt.datetime(*args, tzinfo=PARIS).astimezone(dt.UTC)


def decide(db, proposal, step, outcome, at, reason=None):
    decision = Decision(proposal=proposal, step=step, outcome=outcome, reason=reason, decided_at=at)
    db.add(decision)
    db.flush()
    return decision


class World:
    """A small partnership: two landlords (59, 62), two associations, helpers for life events."""

    def __init__(self, db):
        self.db = db
        self.l59 = factories.create_organisation(db, "landlord", name="Bailleur Nord", departments=["59"])
        self.l62 = factories.create_organisation(db, "landlord", name="Bailleur Artois", departments=["62"])
        self.a1 = factories.create_organisation(db, "association", name="Asso Lille", departments=["59"])
        self.a2 = factories.create_organisation(db, "association", name="Asso Arras", departments=["62"])

    def household(self, activated_at, association=None, department="59", **kw):
        kw.setdefault("search_area", {"communes": [], "departments": [department]})
        return factories.create_household(self.db, association=association or self.a1,
                                          activated_at=activated_at, created_at=activated_at, **kw)

    def unit(self, published_at, landlord=None, department="59", **kw):
        commune = {"59": "59350", "62": "62041"}[department]
        return factories.create_unit(self.db, landlord=landlord or self.l59, department=department,
                                     commune=commune, published_at=published_at, **kw)

    def run(self, released_at):
        return factories.create_run(self.db, released_at=released_at)

    def house(self, household, unit, released_at, lease_at):
        """Proposed at `released_at`, accepted by both sides, lease signed at `lease_at`."""
        p = factories.create_proposal(self.db, unit=unit, household=household, run=self.run(released_at),
                                      status="leased")
        decide(self.db, p, "household", "accept", released_at + dt.timedelta(days=3))
        decide(self.db, p, "commission", "accept", released_at + dt.timedelta(days=8))
        decide(self.db, p, "lease", "accept", lease_at)
        household.status, household.closed_at = "housed", lease_at
        unit.status = "allocated"
        self.db.flush()
        return p


def values(table: Table, key: str) -> list:
    return [c.value for c in table.row_by_key(key).cells]


def shown(table: Table, key: str) -> list:
    return [stats.display(c) for c in table.row_by_key(key).cells]


# --------------------------------------------------------------------------- periods


def test_quarters_and_their_neighbours_across_a_year_end():
    q = Quarter.parse("2027-Q1")
    assert str(q.previous()) == "2026-Q4"
    assert str(Quarter.parse("2026-q4").next()) == "2027-Q1"
    assert (q.start, q.end) == (dt.date(2027, 1, 1), dt.date(2027, 4, 1))
    ytd = q.year_to_date()
    assert (ytd.start, ytd.end) == (dt.date(2027, 1, 1), dt.date(2027, 4, 1))
    assert Quarter.parse("2026-Q4").year_to_date().start == dt.date(2026, 1, 1)
    # Paris midnight, in UTC: 1 January 2027 00:00 Paris is 31 December 23:00 UTC.
    assert q.period().start_utc == dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)
    for bad in ("2026-Q5", "2026Q4", "", "Q4-2026", "1999-Q1"):
        with pytest.raises(ValidationError):
            Quarter.parse(bad)


def test_departments_are_checked_against_the_organisation():
    assert stats.resolve_departments("62,59", ["59", "62", "80"]) == ["59", "62"]
    assert stats.resolve_departments(None, ["80", "59"]) == ["59", "80"]
    with pytest.raises(ValidationError):
        stats.resolve_departments("75", ["59", "62"])
    with pytest.raises(ValidationError):
        stats.resolve_departments("99", None)


# --------------------------------------------------------------------------- figures


def test_empty_quarter_has_zero_everywhere_and_no_delay(db):
    figures = stats.quarter_figures(db, Quarter(2026, 4), ["59", "62"])
    head = figures.table("headline")
    for row in head.rows:
        assert [c.value for c in row.cells] == [0, 0, 0], row.label
        assert all(c.status == SHOWN for c in row.cells)
    delays = figures.table("delays")
    assert all(stats.display(c) == "—" for r in delays.rows for c in r.cells[1:])
    assert figures.table("by_department").row_by_key("total").cells[0].value == 0


@pytest.fixture
def quarter_world(db):
    return build_quarter_world(db)


def build_quarter_world(db):
    """2026-Q4 in 59 and 62, with known answers (see the assertions of the tests below)."""
    w = World(db)
    # Submitted: 6 in 59 during Q4, 2 in 62 during Q4, 5 in 59 during Q3, 1 in January 2026.
    q4_59 = [w.household(paris(2026, 10, 1 + i, 10), adults=1, children=i % 3) for i in range(6)]
    q4_62 = [w.household(paris(2026, 11, 3 + i, 10), association=w.a2, department="62") for i in range(2)]
    q3 = [w.household(paris(2026, 7, 2 + i, 10), monthly_income=Decimal(900 + 100 * i)) for i in range(5)]
    early = w.household(paris(2026, 1, 15, 10), monthly_income=Decimal("2500"))
    # Units: 7 published in Q4 in 59 (Bailleur Nord), 1 in 62 (Bailleur Artois), 2 in Q3.
    units = [w.unit(paris(2026, 10, 10, 9)) for _ in range(7)]
    u62 = w.unit(paris(2026, 10, 12, 9), landlord=w.l62, department="62")
    old_units = [w.unit(paris(2026, 8, 1, 9)) for _ in range(2)]
    # Housed in Q4: the five Q3 households and `early`, all in units of Bailleur Nord, outside QPV.
    # Their first proposal was released 100 days after activation, the lease 40 days after that
    # (the early one: released 1 October, lease 2 November).
    for h, u in zip(q3, units[:5], strict=True):
        released = h.activated_at + dt.timedelta(days=100)
        w.house(h, u, released, released + dt.timedelta(days=40))
    w.house(early, old_units[0], paris(2026, 10, 1, 9), paris(2026, 11, 2, 9))
    # Refusals in Q4: two households decline (too expensive, too far from school), the commission
    # refuses one (incomplete file).
    run = w.run(paris(2026, 12, 1, 9))
    p1 = factories.create_proposal(db, unit=units[5], household=q4_59[0], run=run, status="household_declined")
    decide(db, p1, "household", "decline", paris(2026, 12, 5, 9), "too_expensive")
    p2 = factories.create_proposal(db, unit=units[6], household=q4_59[1], run=run, status="household_declined")
    decide(db, p2, "household", "decline", paris(2026, 12, 6, 9), "too_far_from_school")
    p3 = factories.create_proposal(db, unit=u62, household=q4_62[0], run=run, status="commission_refused")
    decide(db, p3, "household", "accept", paris(2026, 12, 3, 9))
    decide(db, p3, "commission", "decline", paris(2026, 12, 10, 9), "incomplete_file")
    return w, dict(q4_59=q4_59, q4_62=q4_62, q3=q3, early=early, units=units, old_units=old_units)


def test_headline_figures_of_a_hand_built_quarter(db, quarter_world):
    raw = stats.compute(db, Quarter(2026, 4), ["59", "62"])
    head = raw.table("headline")
    # columns: 2026-Q4, 2026-Q3, year to date 2026
    assert values(head, "submitted") == [8, 5, 14]
    # Active in Q4: the 8 new, the 5 of Q3 and `early` (housed during Q4, so active in it).
    assert values(head, "active") == [14, 6, 14]
    # First proposals in Q4: the 5 Q3 households (released 100 days after early July), `early`, and the
    # three Q4 households of the 1 December run.
    assert values(head, "proposed") == [9, 0, 9]
    assert values(head, "housed") == [6, 0, 6]
    # Women: one per housed violence household (the person supported); children: 2 each.
    assert values(head, "women") == [6, 0, 6]
    assert values(head, "children") == [12, 0, 12]
    assert values(head, "units_published") == [8, 2, 10]
    assert values(head, "units_allocated") == [6, 0, 6]

    dec = raw.table("decisions")
    assert values(dec, "sent") == [9, 0, 9]
    assert values(dec, "household:accept") == [7, 0, 7]
    assert values(dec, "household:decline") == [2, 0, 2]
    assert values(dec, "commission:decline") == [1, 0, 1]
    assert values(dec, "lease:accept") == [6, 0, 6]
    ref = raw.table("refusals")
    assert values(ref, "household:too_expensive") == [1, 0, 1]
    assert values(ref, "commission:incomplete_file") == [1, 0, 1]

    by_dep = raw.table("by_department")
    assert values(by_dep, "dep:59")[:3] == [6, 6, 6]  # submitted, waiting at the end, housed
    assert values(by_dep, "dep:62")[:3] == [2, 2, 0]
    assert values(by_dep, "dep:59")[3] == 7 and values(by_dep, "dep:62")[3] == 1
    by_landlord = raw.table("by_landlord")
    nord = next(r for r in by_landlord.rows if r.label == "Bailleur Nord")
    assert [c.value for c in nord.cells] == [7, 8, 2, 0, 6]
    by_asso = raw.table("by_association")
    arras = next(r for r in by_asso.rows if r.label == "Asso Arras")
    assert [c.value for c in arras.cells] == [2, 2, 0, 1, 0]

    delays = raw.table("delays")
    first = delays.row_by_key("first_proposal_at:2026-Q4")
    assert first.cells[0].value == 9
    lease = delays.row_by_key("leased_at:2026-Q4")
    # Leases: five after 140 days, `early` after 291 days (15 January to 2 November, one hour
    # less for the change to winter time).
    assert lease.cells[0].value == 6
    assert lease.cells[1].value == pytest.approx(140.0)
    assert lease.cells[2].value == pytest.approx(140 + 0.5 * (290.96 - 140), abs=0.01)


def test_small_counts_are_suppressed_with_their_recomputable_neighbours(db, quarter_world):
    # 62 alone: it submitted 2 (< 5) in Q4, and its total would give it away: masked too.
    alone = stats.quarter_figures(db, Quarter(2026, 4), ["62"])
    assert shown(alone.table("by_department"), "dep:62")[0] == "< 5"
    assert shown(alone.table("by_department"), "total")[0] == "< 5"
    assert shown(stats.quarter_figures(db, Quarter(2026, 4), ["59"]).table("headline"), "submitted")[0] == "6"
    # 59 and 62: the total 8 minus 59's 6 (shown when 59 is selected alone) would give 62's 2
    # away, so every count that includes a hidden department count is hidden, as "(s)".
    figures = stats.quarter_figures(db, Quarter(2026, 4), ["59", "62"])
    by_dep = figures.table("by_department")
    assert shown(by_dep, "dep:62")[0] == "(s)"
    assert shown(by_dep, "total")[0] == "(s)"
    head = figures.table("headline")
    assert shown(head, "submitted") == ["(s)", "5", "(s)"]
    # Refusals: every 1 is "< 5", and the totals they would be recomputed from are hidden.
    ref = stats.quarter_figures(db, Quarter(2026, 4), ["59"]).table("refusals")
    assert shown(ref, "household:too_expensive")[0] == "< 5"
    assert shown(ref, "household:total")[0] == "< 5"
    assert shown(figures.table("refusals"), "household:too_expensive")[0] == "(s)"
    for table in figures.tables:
        for row in table.rows:
            for cell in row.cells:
                if cell.kind == COUNT and cell.status == SHOWN:
                    assert not 1 <= cell.value <= 4, (table.key, row.label)


def test_secondary_suppression_rule_on_a_table():
    t = Table("t", "T", ["a", "b", "total"])
    t.add("x", [10, 3, 13])
    t.add("y", [7, 9, 16])
    t.groups.append(Group([(0, 0), (0, 1)], (0, 2)))
    t.groups.append(Group([(1, 0), (1, 1)], (1, 2)))
    t.add_total_row("total", columns=[0, 1, 2])
    stats.suppress_table(t)
    # 3 is small; its row partner 10 is masked; column b then has one hidden cell (3) and
    # column a one (10): their smallest partners (9, then 7) are masked in turn.
    assert t.cell((0, 1)).status == SMALL_COUNT
    assert t.cell((0, 0)).status == MASKED
    assert t.cell((1, 1)).status == MASKED and t.cell((1, 0)).status == MASKED
    assert t.cell((1, 2)).status == SHOWN and t.cell((2, 2)).status == SHOWN
    # No group is left with exactly one hidden member.
    for g in t.groups:
        assert sum(not t.cell(m).shown for m in [*g.parts, g.total]) != 1


def test_a_share_built_on_a_small_count_is_hidden():
    t = Table("t", "T", ["n", "of", "share"])
    t.add("x", [Cell(3), Cell(20), Cell(0.15, stats.SHARE, basis=((0, 0), (0, 1)))])
    stats.suppress_table(t)
    assert stats.display(t.cell((0, 2))) == "—"


def test_renderers_refuse_raw_figures(db):
    raw = stats.compute(db, Quarter(2026, 4), ["59"])
    with pytest.raises(stats.NotSuppressed):
        stats.to_dict(raw)


def test_year_end_boundary_puts_each_lease_in_its_quarter(db):
    w = World(db)
    a = w.household(paris(2026, 9, 1, 10))
    b = w.household(paris(2026, 9, 2, 10))
    ua, ub = w.unit(paris(2026, 9, 1, 9)), w.unit(paris(2026, 9, 1, 9))
    # 31 December 23:30 Paris is still 2026-Q4; 1 January 00:30 Paris is 2027-Q1 (both are
    # 31 December in UTC).
    w.house(a, ua, paris(2026, 12, 1, 9), paris(2026, 12, 31, 23, 30))
    w.house(b, ub, paris(2026, 12, 1, 9), paris(2027, 1, 1, 0, 30))
    q1 = stats.compute(db, Quarter(2027, 1), ["59"])
    head = q1.table("headline")
    assert [p.key for p in q1.periods] == ["2027-Q1", "2026-Q4", "2027-YTD1"]
    assert values(head, "housed") == [1, 1, 1]
    q4 = stats.compute(db, Quarter(2026, 4), ["59"])
    assert values(q4.table("headline"), "housed") == [1, 0, 1]


def test_poorest_quartile_share_outside_qpv(db):
    w = World(db)
    incomes = [600, 700, 800, 1500, 1600, 1700, 1800, 1900]
    homes = [w.household(paris(2026, 10, 1, 10), monthly_income=Decimal(x)) for x in incomes]
    for i, h in enumerate(homes):
        u = w.unit(paris(2026, 10, 1, 9), in_qpv=(i == 7))
        w.house(h, u, paris(2026, 11, 1, 9), paris(2026, 12, 1, 9))
    raw = stats.compute(db, Quarter(2026, 4), ["59"])
    # First quartile of the 8 incomes (inclusive method): 775; 600 and 700 are under it.
    assert raw.facts["lowest_quartile_income"] == pytest.approx(775)
    qpv = raw.table("qpv")
    row = qpv.row_by_key("2026-Q4")
    assert [c.value for c in row.cells[:3]] == [2, 5, 7]
    assert row.cells[3].value == pytest.approx(2 / 7)
    figures = stats.suppress(raw)
    row = figures.table("qpv").row_by_key("2026-Q4")
    # 2 is small, so the others (5) is masked and the share hidden; the total (7) stays.
    assert [stats.display(c) for c in row.cells[:4]] == ["< 5", "(s)", "7", "—"]
    # A setting replaces the computed threshold.
    raw = stats.compute(db, Quarter(2026, 4), ["59"], lowest_quartile_setting=1550)
    assert [c.value for c in raw.table("qpv").row_by_key("2026-Q4").cells[:3]] == [4, 3, 7]


def test_women_rehoused_are_the_persons_supported_not_every_adult(db, app):
    """Two housed households with more than one adult, another not marked "violence": the
    committee reads one woman per rehoused violence household."""
    _world, parts = build_quarter_world(db)
    parts["q3"][0].adults, parts["q3"][1].adults = 2, 3
    parts["early"].priority_categories = ["dalo"]
    db.flush()
    with app.test_request_context("/"):
        head = stats.quarter_figures(db, Quarter(2026, 4), ["59", "62"]).table("headline")
        assert shown(head, "housed") == ["6", "0", "6"]
        # Counting every adult would read 8: five women, as the committee reads them.
        assert shown(head, "women") == ["5", "0", "5"]
    assert stats.women_rehoused([["violence"], ["violence", "shared_home"], ["dalo"], []]) == 2
