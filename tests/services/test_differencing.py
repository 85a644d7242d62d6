"""Issue 13, finding 3: no hidden count can be recomputed by comparing département selections.

A realistic quarter in four départements (a few hundred events, small counts in every
table), then every selection of départements, as a committee member could ask them, and
an attacker who compares every pair of them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal

import pytest

from models import crypto
from services import stats
from services.stats import COUNT, Quarter
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import decide, paris

DEPARTMENTS = ["02", "59", "62", "80"]
COMMUNES = {"02": "02691", "59": "59350", "62": "62041", "80": "80021"}
WEIGHTS = [1, 5, 3, 2]
REASONS = ["too_expensive", "too_far_from_school", "unsafe_area", "too_small"]
QUARTER = Quarter(2026, 4)


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def build_region(db, seed: int = 13) -> None:
    """2026 in four départements: households activated all year, some proposed, refused, housed."""
    rng = random.Random(seed)
    landlords = {d: [factories.create_organisation(db, "landlord", name=f"Bailleur {d}-{i}", departments=[d])
                     for i in range(2)] for d in DEPARTMENTS}
    associations = {d: factories.create_organisation(db, "association", name=f"Asso {d}", departments=[d])
                    for d in DEPARTMENTS}
    for _ in range(90):
        d = rng.choices(DEPARTMENTS, WEIGHTS)[0]
        activated = paris(2026, 1, 1, 9) + dt.timedelta(days=rng.randrange(360), hours=rng.randrange(8))
        h = factories.create_household(
            db, association=associations[d], activated_at=activated, created_at=activated,
            adults=1, children=rng.randrange(4), monthly_income=Decimal(rng.randrange(700, 2200)),
            priority_categories=["violence"] if rng.random() < 0.8 else [],
            search_area={"communes": [], "departments": [d]})
        published = activated + dt.timedelta(days=rng.randrange(-60, 60))
        unit = factories.create_unit(db, landlord=rng.choice(landlords[d]), department=d, commune=COMMUNES[d],
                                     published_at=published, in_qpv=rng.random() < 0.3)
        if rng.random() < 0.35:
            continue  # still waiting, never proposed
        released = activated + dt.timedelta(days=rng.randrange(20, 120))
        if released >= paris(2027, 1, 1, 0):
            continue
        run = factories.create_run(db, released_at=released, departments=[d])
        fate = rng.random()
        if fate < 0.3:
            p = factories.create_proposal(db, unit=unit, household=h, run=run, status="household_declined")
            decide(db, p, "household", "decline", released + dt.timedelta(days=5), rng.choice(REASONS))
        elif fate < 0.4:
            p = factories.create_proposal(db, unit=unit, household=h, run=run, status="commission_refused")
            decide(db, p, "household", "accept", released + dt.timedelta(days=3))
            decide(db, p, "commission", "decline", released + dt.timedelta(days=9), "incomplete_file")
        else:
            lease = released + dt.timedelta(days=rng.randrange(15, 60))
            p = factories.create_proposal(db, unit=unit, household=h, run=run, status="leased")
            decide(db, p, "household", "accept", released + dt.timedelta(days=3))
            decide(db, p, "commission", "accept", released + dt.timedelta(days=8))
            decide(db, p, "lease", "accept", lease)
            h.status, h.closed_at, unit.status = "housed", lease, "allocated"
    db.flush()


def _published(figures: stats.Figures) -> dict[tuple[str, str, int], int | None]:
    """What a reader sees of every count: its number, or None when hidden."""
    return {(t.key, r.key, c): cell.public_value()
            for t in figures.tables for r in t.rows for c, cell in enumerate(r.cells) if cell.kind == COUNT}


def test_no_pair_of_selections_recovers_a_hidden_count(db):
    build_region(db)
    selections = [frozenset(s) for n in range(1, len(DEPARTMENTS) + 1)
                  for s in itertools.combinations(DEPARTMENTS, n)]
    seen = {s: _published(stats.quarter_figures(db, QUARTER, sorted(s))) for s in selections}
    truth = {d: _published(stats.suppress(stats.compute(db, QUARTER, [d]))) for d in DEPARTMENTS}
    raw = {d: {(t.key, r.key, c): cell.value for t in stats.compute(db, QUARTER, [d]).tables
               for r in t.rows for c, cell in enumerate(r.cells) if cell.kind == COUNT} for d in DEPARTMENTS}
    hidden = {(d, pos) for d in DEPARTMENTS for pos, v in truth[d].items() if v is None and raw[d][pos]}
    assert len(hidden) >= 30, "the data must have small counts to protect"

    recovered = []
    for a, b in itertools.permutations(selections, 2):
        for pos, va in seen[a].items():
            vb = seen[b].get(pos, 0 if pos[1].startswith(("org:", "dep:")) else None)  # absent row: 0
            if va is None or vb is None:
                continue
            # The pair tells va - vb = sum(a - b) - sum(b - a): fine only if every one of those
            # départements' own count is published anyway.
            for d in a ^ b:
                if (d, pos) in hidden:
                    recovered.append((sorted(a), sorted(b), pos, d, va - vb))
            if b < a and 1 <= va - vb < stats.SMALL:
                recovered.append((sorted(a), sorted(b), pos, "small difference", va - vb))
    # A selection's row of one département never shows what that département alone hides.
    for s in selections:
        for (key, row, c), v in seen[s].items():
            if v is not None and key == "by_department" and row.startswith("dep:"):
                d = row.removeprefix("dep:")
                if (d, ("by_department", row, c)) in hidden:
                    recovered.append((sorted(s), row, c, v))
    assert recovered == []


def test_a_selection_adds_up_its_departments(db):
    """The fixed partition: a household counts in one département whatever the selection."""
    build_region(db)
    both = _published(stats.suppress(stats.compute(db, QUARTER, ["59", "62"])))
    raw_both = {(t.key, r.key, c): cell.value for t in stats.compute(db, QUARTER, ["59", "62"]).tables
                for r in t.rows for c, cell in enumerate(r.cells) if cell.kind == COUNT}
    parts = [{(t.key, r.key, c): cell.value for t in stats.compute(db, QUARTER, [d]).tables
              for r in t.rows for c, cell in enumerate(r.cells) if cell.kind == COUNT} for d in ("59", "62")]
    for pos, value in raw_both.items():
        assert value == sum(p.get(pos, 0) or 0 for p in parts), pos
    assert any(v is not None for v in both.values())
