"""The yearly and multi-year report for the préfecture and the départements (issue 17).

"2021–2023: 203 women and 333 children rehoused": for each year of a range, the year's figures
as the committee published them, then the total of the range. A year is its fourth quarter's
year to date: read from that quarter's snapshot when it was closed (purges and erasures since
change nothing), else recomputed today through the same suppression (a note says which).

The small-count rule holds in the totals too. Every year's cells come already suppressed; a
total is the sum of published cells only, so it is hidden as soon as one of its years is (or
a hidden cell would be the total minus the other years). The totals column then goes through
:func:`services.stats.suppress_table` with the groups that add up in it (each subtotal row and
the rows above it), so that no hidden total can be worked out from the others either. Delays
(medians) have no total: a sum of medians means nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import QuarterSnapshot
from services import clock, snapshots, stats
from services.stats import COUNT, MASKED, SHOWN, TEXT, Cell, Group, Quarter, Row, Table

# The tables a yearly review reads, in its order: who was rehoused, how units reached her,
# what was refused and why, how long it took.
TABLES = ("headline", "by_origin", "decisions", "refusals", "delays")
# Rows that are a state during the period, not events in it: a household active in two years
# is one household, so they have no total.
NOT_ADDITIVE = {("headline", "active")}
YTD = 2  # the year-to-date column of a quarter's period tables
MAX_YEARS = 10


@dataclass
class YearSource:
    year: int
    frozen_at: dt.datetime | None  # None: recomputed today


@dataclass
class MultiYear:
    first: int
    last: int
    departments: list[str]
    years: list[YearSource]
    tables: list[Table]

    @property
    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"


def year_range(first: int | None, last: int | None, *, today: dt.date | None = None) -> tuple[int, int]:
    """The asked range, clipped to what can be read: no future year, at most MAX_YEARS years."""
    this_year = (today or clock.today()).year
    last = min(last or this_year, this_year)
    first = first or last - 2
    first = max(min(first, last), last - MAX_YEARS + 1)
    return first, last


def build(session: so.Session, departments: list[str], first: int, last: int, *,
          lang: str | None = None) -> MultiYear:
    """The range's tables, each with one column per year and the range's total, suppressed."""
    years: list[YearSource] = []
    per_year: list[dict[str, Table]] = []
    for year in range(first, last + 1):
        q4 = Quarter(year, 4)
        snapshot = snapshots.find(session, q4, departments)
        figures = snapshots.quarter_figures(session, q4, departments, lang=lang)
        stats.require_suppressed(figures)
        years.append(YearSource(year, snapshot.frozen_at if snapshot is not None else None))
        per_year.append({t.key: t for t in figures.tables if t.key in TABLES})
    tables = [_table(key, [y.year for y in years], [p.get(key) for p in per_year]) for key in TABLES
              if any(key in p for p in per_year)]
    return MultiYear(first, last, departments, years, tables)


def _table(key: str, years: list[int], sources: list[Table | None]) -> Table:
    """One table of the range: a row per row key met in any year, a column per year, the total."""
    first = next(t for t in sources if t is not None)
    out = Table(f"years-{key}", first.title, [str(y) for y in years] + [str(_l("Total"))],
                row_header=first.row_header)
    keys: list[str] = []
    labels: dict[str, Row] = {}
    for t in sources:
        for row in t.rows if t is not None else []:
            if row.key not in labels:
                keys.append(row.key)
                labels[row.key] = row
    total_col = len(years)
    for row_key in keys:
        cells = []
        for t in sources:
            src = next((r for r in t.rows if r.key == row_key), None) if t is not None else None
            cell = src.cells[YTD] if src is not None else Cell(0)
            # A copy without the basis: it pointed into the quarter's table, not this one.
            cells.append(Cell(cell.value if cell.status == SHOWN else None, cell.kind, cell.status))
        cells.append(_total(key, row_key, cells))
        index = out.add(labels[row_key].label, cells, key=row_key)
        out.rows[index].is_total = labels[row_key].is_total
        if cells[-1].kind == COUNT:
            out.groups.append(Group([(index, c) for c in range(total_col)], (index, total_col)))
    # Each subtotal row adds up the rows above it, back to the previous subtotal (refusals by side).
    start = 0
    for index, row in enumerate(out.rows):
        if row.is_total:
            parts = [(r, total_col) for r in range(start, index) if out.rows[r].cells[total_col].kind == COUNT]
            if parts and out.rows[index].cells[total_col].kind == COUNT:
                out.groups.append(Group(parts, (index, total_col)))
            start = index + 1
    stats.suppress_table(out)
    return out


def _total(table_key: str, row_key: str, cells: list[Cell]) -> Cell:
    if (table_key, row_key) in NOT_ADDITIVE or any(c.kind != COUNT for c in cells):
        return Cell(None, TEXT)
    if any(c.status != SHOWN for c in cells):
        return Cell(None, COUNT, MASKED)
    return Cell(sum(int(c.value or 0) for c in cells))


def frozen_years(session: so.Session, departments: list[str]) -> list[int]:
    """The years whose fourth quarter was closed for this scope (the years a report can cite as final)."""
    quarters = session.scalars(sa.select(QuarterSnapshot.quarter).where(
        QuarterSnapshot.scope == snapshots.scope_of(departments), QuarterSnapshot.quarter.like("%-Q4"))).all()
    return sorted(int(q[:4]) for q in quarters)
