"""The quarter's figures for the monitoring committee, with small counts suppressed.

Everything a committee member (or a coordinator through the API) can read about a
quarter comes from :func:`quarter_figures`, which computes the raw tables and passes
them through :func:`suppress` before anything is rendered. Renderers
(:mod:`services.charts`, :mod:`services.reports`, the pages and the API) refuse figures
that have not been suppressed (:func:`require_suppressed`).

Periods
    A quarter ``2026-Q4`` runs from 1 October 2026 00:00 to 1 January 2027 00:00,
    Paris time (the boundaries are converted to UTC before comparing timestamps). Each
    report shows the quarter, the previous quarter (the previous of 2027-Q1 is 2026-Q4)
    and the year to date (1 January of the quarter's year to the end of the quarter).

Which event puts a household, a proposal or a unit in a period
    - submitted: the household's ``activated_at`` (the day her association activated
      the request with her consent; a draft is not a request yet, and may be erased);
    - active: activated before the end of the period and not closed before its start;
    - waiting at the end: activated before the end, neither closed nor housed by then;
    - made: a proposal, whatever its origin (``Proposal.origin``): a run's when its run is
      released (``MatchRun.released_at``; proposals set aside before release do not count),
      a candidacy's, a request's or a direct match's when it is created
      (``Proposal.created_at``: they start ``pending``). "Proposals sent" counts them, the
      "by_origin" table splits them by origin, and a household is *proposed* in the period
      of her first one (the delay to a first proposal starts there);
    - decisions (acceptances, refusals, their reasons): ``Decision.decided_at``;
    - housed: her first ``lease`` decision accepted (``decided_at``; an urgent transfer and a
      later lease move no published figure); unit allocated: every such decision;
    - urgent transfer: ``Transfer.created_at``, in the department of the home she left;
    - unit published: ``Unit.published_at``.

Persons
    Women housed (:func:`women_rehoused`) are the persons supported: one woman per housed
    household whose ``priority_categories`` contain ``"violence"`` (the file is about her,
    the victim; the other adults of the household are not counted); children housed are
    the children of every housed household.

Departments
    Counts of households use the household's department: the housed unit's department
    when she is housed, otherwise the departments of her search area (its departments
    and its communes' departments), otherwise her association's departments. She counts
    in exactly one department, the first of hers in code order, whatever the selection
    (a fixed partition): a selection's count is the sum of its departments' counts.
    Counts of proposals, decisions and units use the unit's department.

The poorest quartile
    ``lowest_quartile_income`` (setting ``LOWEST_QUARTILE_INCOME``, euros per month)
    decides who is in the poorest quartile. When it is not set, it is the first
    quartile of the monthly incomes of the households active during the quarter in all
    departments (statistics.quantiles, "inclusive" method: one threshold for every
    selection, so that the counts stay additive); a household whose
    income is strictly below it is in the poorest quartile. The target (setting
    ``QPV_LOWEST_QUARTILE_TARGET``, default 25 %) applies to leases of units outside QPV.

Small counts (see :func:`suppress`)
    1. Primary: any count from 1 to 4 is shown as "< 5".
    2. Secondary: tables declare additive groups (cells that add up to a total: a
       table's total row, a row's total column, and the previous quarter plus the
       quarter within the year to date). When exactly one member of a group is hidden,
       it could be recomputed from the others: another member is masked too ("(s)"),
       the smallest positive part first, else the total, else a zero part; repeated
       until no group has exactly one hidden member.
    3. Derived figures (shares, medians, percentiles) are hidden when a count they are
       computed from is hidden, and delays when fewer than 5 households are behind them.
    4. Selections of several departments: rules 1-3 are applied to each department's own
       figures first; then a selection's count is shown only when every one of its
       departments' counts is shown, and when hidden it reads "(s)" whatever its size. Every
       count any selection shows is thus a sum of counts that the single departments show,
       so comparing selections (or a selection with its departments) recomputes nothing
       that is hidden (docs/SECURITY.md, tests/services/test_differencing.py).
    Known limit: reports of successive quarters of a year can be compared (year to
    date minus the previous report's year to date); the committee keeps its reports
    among its members.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import (
    Checkpoint,
    Decision,
    Household,
    MatchRun,
    Organisation,
    Placement,
    Proposal,
    Referral,
    Transfer,
    Unit,
)
from models.runs import COMMISSION_REFUSAL_REASONS, HOUSEHOLD_DECLINE_REASONS
from services import labels
from services.errors import ValidationError

PARIS = ZoneInfo("Europe/Paris")
SMALL = 5  # counts from 1 to SMALL - 1 are never shown
DEFAULT_QPV_TARGET = 0.25

# Cell kinds and statuses.
COUNT, DAYS, SHARE, MONEY, TEXT, DELTA = "count", "days", "share", "money", "text", "delta"
SHOWN, SMALL_COUNT, MASKED, HIDDEN = "shown", "small", "masked", "hidden"

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, written ``2026-Q4``."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str | None) -> Quarter:
        """Read ``2026-Q4``; a clear 422 otherwise."""
        m = _QUARTER.match((text or "").strip().upper())
        if not m or not 2000 <= int(m.group(1)) <= 2100:
            raise ValidationError(_l("Trimestre attendu sous la forme 2026-Q4."), field="quarter")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        """The quarter a day falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> dt.date:
        """First day after the quarter."""
        return self.next().start

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    @property
    def label(self) -> str:
        return str(_l("T%(n)s %(year)s", n=self.number, year=self.year))

    def period(self) -> Period:
        return Period(str(self), self.label, self.start, self.end)

    def year_to_date(self) -> Period:
        return Period(f"{self.year}-YTD{self.number}",
                      str(_l("Cumul %(year)s au T%(n)s", year=self.year, n=self.number)),
                      dt.date(self.year, 1, 1), self.end)


@dataclass(frozen=True)
class Period:
    """Days ``start`` (included) to ``end`` (excluded), Paris time."""

    key: str
    label: str
    start: dt.date
    end: dt.date

    @property
    def start_utc(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), PARIS).astimezone(dt.UTC)

    @property
    def end_utc(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time(), PARIS).astimezone(dt.UTC)

    def contains(self, moment: dt.datetime | None) -> bool:
        return moment is not None and self.start_utc <= moment < self.end_utc


# --------------------------------------------------------------------------- figures


@dataclass
class Cell:
    """One figure. Derived cells (shares, delays) name the count cells they come from."""

    value: Any
    kind: str = COUNT
    status: str = SHOWN
    # (row, column) of the count cells a derived figure is computed from.
    basis: tuple[tuple[int, int], ...] = ()
    # A derived figure is hidden when its first basis count is under this.
    min_n: int = 0

    @property
    def shown(self) -> bool:
        return self.status == SHOWN

    def public_value(self) -> Any:
        """The value anyone may read: None unless shown (never the hidden number)."""
        return self.value if self.status == SHOWN else None


@dataclass
class Row:
    label: str
    cells: list[Cell]
    key: str = ""
    is_total: bool = False


@dataclass
class Group:
    """Cells that add up: ``sum(parts) == total`` (up to parts not shown in the table but
    known elsewhere). ``prefer_total``: mask the total first (year-to-date cells)."""

    parts: list[tuple[int, int]]
    total: tuple[int, int]
    prefer_total: bool = False


@dataclass
class Table:
    """A titled table; the one structure every output renders."""

    key: str
    title: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    note: str = ""
    row_header: str = ""

    def cell(self, at: tuple[int, int]) -> Cell:
        return self.rows[at[0]].cells[at[1]]

    def add(self, label: Any, values: Sequence[Any], kind: str = COUNT, key: str = "") -> int:
        """Append a row of plain cells; returns its index."""
        self.rows.append(Row(str(label), [v if isinstance(v, Cell) else Cell(v, kind) for v in values],
                             key=key))
        return len(self.rows) - 1

    def add_total_row(self, label: Any, columns: Iterable[int] | None = None) -> None:
        """A total row of the count columns, and the column groups it creates."""
        n = len(self.rows)
        cols = list(columns) if columns is not None else [
            c for c in range(len(self.columns)) if all(r.cells[c].kind == COUNT for r in self.rows)]
        cells = []
        for c in range(len(self.columns)):
            if c in cols:
                cells.append(Cell(sum(int(r.cells[c].value or 0) for r in self.rows)))
            else:
                cells.append(Cell(None, TEXT))
        self.rows.append(Row(str(label), cells, key="total", is_total=True))
        for c in cols:
            self.groups.append(Group([(r, c) for r in range(n)], (n, c)))

    def row_by_key(self, key: str) -> Row:
        return next(r for r in self.rows if r.key == key)


@dataclass
class Figures:
    """A quarter's tables for a set of departments; ``suppressed`` once through :func:`suppress`."""

    quarter: Quarter
    departments: list[str]
    periods: list[Period]
    tables: list[Table]
    facts: dict[str, Any] = field(default_factory=dict)
    suppressed: bool = False
    # Raw figures of each department of a multi-department selection (dropped by suppress).
    parts: dict[str, Figures] = field(default_factory=dict)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


class NotSuppressed(RuntimeError):
    """Raw figures reached a renderer: a programming error, never shown to anyone."""


def require_suppressed(figures: Figures) -> Figures:
    """Every renderer calls this first: raw counts never leave the service layer."""
    if not figures.suppressed:
        raise NotSuppressed("figures must go through services.stats.suppress before rendering")
    return figures


# --------------------------------------------------------------------------- suppression


def suppress(figures: Figures) -> Figures:
    """A copy of the figures with small counts hidden (rules in the module docstring)."""
    parts = [suppress(p) for p in figures.parts.values()]
    out = copy.deepcopy(dataclasses.replace(figures, parts={}))
    for table in out.tables:
        hidden = _hidden_in_parts(table, parts)
        suppress_table(table, inherited=hidden)
    out.suppressed = True
    return out


def _hidden_in_parts(table: Table, parts: list[Figures]) -> set[tuple[str, int]] | None:
    """(row key, column) of the counts hidden in at least one department (None: not a selection)."""
    if not parts:
        return None
    hidden: set[tuple[str, int]] = set()
    for part in parts:
        own = part.table(table.key)
        for row in own.rows:
            for c, cell in enumerate(row.cells):
                if cell.kind == COUNT and not cell.shown:
                    hidden.add((row.key, c))
    return hidden


def suppress_table(table: Table, inherited: set[tuple[str, int]] | None = None) -> Table:
    """Apply primary, secondary and derived suppression to one table, in place.

    ``inherited`` (a selection of several departments): the (row key, column) of the counts
    hidden in one of its departments. Each of the selection's counts is the sum of its
    departments' (a fixed partition); it is shown only when all of them are, and a hidden one
    reads "(s)" whatever its size, so that a selection never tells more than its departments.
    """
    for row in table.rows:
        for c, cell in enumerate(row.cells):
            if cell.kind != COUNT or not isinstance(cell.value, int):
                continue
            if inherited is not None:
                if (row.key, c) in inherited or 0 < cell.value < SMALL:
                    cell.status = MASKED
            elif 0 < cell.value < SMALL:
                cell.status = SMALL_COUNT
    changed = True
    while changed:
        changed = False
        for group in table.groups:
            members = [*group.parts, group.total]
            hidden = [m for m in members if not table.cell(m).shown]
            if len(hidden) != 1:
                continue
            victim = _second_victim(table, group)
            if victim is not None:
                table.cell(victim).status = MASKED
                changed = True
    for row in table.rows:
        for cell in row.cells:
            if not cell.basis or cell.status != SHOWN:
                continue
            basis = [table.cell(b) for b in cell.basis]
            if any(not b.shown for b in basis) or (cell.min_n and int(basis[0].value or 0) < cell.min_n):
                cell.status = HIDDEN
    return table


def _second_victim(table: Table, group: Group) -> tuple[int, int] | None:
    parts = [p for p in group.parts if table.cell(p).shown]
    positive = sorted((p for p in parts if int(table.cell(p).value or 0) > 0),
                      key=lambda p: (int(table.cell(p).value), p))
    zeros = [p for p in parts if not int(table.cell(p).value or 0)]
    total_ok = table.cell(group.total).shown
    if group.prefer_total and total_ok:
        return group.total
    if positive:
        return positive[0]
    if total_ok:
        return group.total
    return zeros[0] if zeros else None


# --------------------------------------------------------------------------- display


def display(cell: Cell, locale: str | None = None) -> str:
    """The text of a cell in pages, PDF and CSV: "< 5", "(s)", "—" or the number.

    In `locale`, or else the current one (the request's; charts and what-if sentences do not
    pass one), or else French.
    """
    from babel.numbers import format_decimal, format_percent
    from flask_babel import get_locale

    locale = locale or str(get_locale() or "fr")

    if cell.status == SMALL_COUNT:
        return "< 5"
    if cell.status == MASKED:
        return "(s)"
    if cell.status == HIDDEN or cell.value is None:
        return "—"
    if cell.kind == COUNT:
        return format_decimal(int(cell.value), locale=locale)
    if cell.kind == DAYS:
        return format_decimal(round(float(cell.value), 1), format="#,##0.#", locale=locale)
    if cell.kind == SHARE:
        return format_percent(float(cell.value), format="#,##0.#\u00a0%", locale=locale)
    if cell.kind == DELTA:
        n = int(cell.value)
        if 0 < abs(n) < SMALL:
            # The change is a number of households too: never a figure from 1 to 4.
            return str(_l("entre +1 et +4") if n > 0 else _l("entre −1 et −4"))
        return ("+" if n > 0 else "−" if n < 0 else "") + format_decimal(abs(n), locale=locale)
    if cell.kind == MONEY:
        return format_decimal(round(float(cell.value)), locale=locale) + "\u00a0€"
    return str(cell.value)


def legend() -> str:
    return str(_l("« < 5 » : effectif de 1 à 4, masqué. « (s) » : masqué pour qu'un petit effectif ne "
                  "puisse pas être recalculé. « — » : sans objet ou non diffusé."))


def to_dict(figures: Figures) -> dict[str, Any]:
    """JSON form of suppressed figures: hidden numbers are absent, their status says why."""
    require_suppressed(figures)
    tables = []
    for t in figures.tables:
        rows = []
        for r in t.rows:
            rows.append({
                "key": r.key or None,
                "label": r.label,
                "total": r.is_total,
                "cells": [{"value": _jsonable(c.public_value()), "kind": c.kind,
                           **({"suppressed": c.status} if c.status != SHOWN else {})}
                          for c in r.cells],
            })
        tables.append({"key": t.key, "title": str(t.title), "columns": [str(c) for c in t.columns],
                       "note": str(t.note) or None, "rows": rows})
    return {
        "quarter": str(figures.quarter),
        "departments": figures.departments,
        "periods": [{"key": p.key, "label": p.label, "start": p.start.isoformat(),
                     "end": (p.end - dt.timedelta(days=1)).isoformat()} for p in figures.periods],
        "small_count_threshold": SMALL,
        "tables": tables,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 4)
    return value


# --------------------------------------------------------------------------- loading


@dataclass
class _H:
    id: int
    association_id: int
    children: int
    income: float
    urgency: int
    categories: list[str]
    departments: list[str]
    activated_at: dt.datetime | None
    closed_at: dt.datetime | None
    home: str | None = None
    first_proposal_at: dt.datetime | None = None
    leased_at: dt.datetime | None = None


@dataclass
class _Dec:
    step: str
    outcome: str
    reason: str | None
    at: dt.datetime
    unit_department: str
    landlord_id: int
    association_id: int
    household_id: int
    in_qpv: bool
    origin: str = "run"


def _search_departments(search_area: dict[str, list[str]] | None) -> list[str]:
    from matching.geo import department_of

    area = search_area or {}
    found = set(area.get("departments") or [])
    for commune in area.get("communes") or []:
        try:
            found.add(department_of(commune))
        except (KeyError, ValueError):
            continue
    return sorted(found)


class _Data:
    """What a report needs, read once: households, released proposals, decisions, units."""

    def __init__(self, session: so.Session, departments: list[str]) -> None:
        self.departments = departments
        selected = set(departments)
        orgs = {o.id: o for o in session.scalars(sa.select(Organisation))}
        self.org_names = {i: o.name for i, o in orgs.items()}
        rows = session.execute(
            sa.select(Household.id, Household.association_id, Household.children,
                      Household.monthly_income, Household.urgency, Household.priority_categories,
                      Household.search_area, Household.activated_at, Household.closed_at)
            .where(Household.activated_at.is_not(None))
        ).all()
        households: dict[int, _H] = {}
        for r in rows:
            deps = _search_departments(r.search_area) or sorted(orgs[r.association_id].departments or [])
            households[r.id] = _H(r.id, r.association_id, r.children, float(r.monthly_income),
                                  r.urgency, list(r.priority_categories or []), deps, r.activated_at,
                                  r.closed_at)
        # Proposals made, whatever their origin (issue 15): a run's when its run is released
        # (proposals set aside before release do not count), the offer board's and the
        # coordinator's when created (they start `pending`). (at, origin, department,
        # household, landlord); each household's first one is her first proposal.
        self.made: list[tuple[dt.datetime, str, str, int, int]] = []
        q = (sa.select(MatchRun.released_at, Proposal.household_id, Unit.department, Unit.landlord_id)
             .join(MatchRun, Proposal.run_id == MatchRun.id).join(Unit, Proposal.unit_id == Unit.id)
             .where(Proposal.origin == "run", MatchRun.released_at.is_not(None),
                    Proposal.status.not_in(("review", "dropped"))))
        for released_at, household_id, department, landlord_id in session.execute(q):
            assert released_at is not None  # the query keeps released runs only (released_at IS NOT NULL)
            self.made.append((released_at, "run", department, household_id, landlord_id))
        q3 = (sa.select(Proposal.created_at, Proposal.origin, Unit.department, Proposal.household_id,
                        Unit.landlord_id)
              .join(Unit, Proposal.unit_id == Unit.id)
              .where(Proposal.origin != "run", Proposal.status.not_in(("review", "dropped"))))
        for created_at, origin, department, household_id, landlord_id in session.execute(q3):
            self.made.append((created_at, origin, department, household_id, landlord_id))
        for at, _origin, _dep, household_id, _lid in self.made:
            h = households.get(household_id)
            if h is not None and (h.first_proposal_at is None or at < h.first_proposal_at):
                h.first_proposal_at = at
        self.decisions: list[_Dec] = []
        lease_unit_dept: dict[int, tuple[dt.datetime, str]] = {}
        q2 = (sa.select(Decision.step, Decision.outcome, Decision.reason, Decision.decided_at,
                        Unit.department, Unit.landlord_id, Unit.in_qpv, Household.association_id,
                        Household.id, Proposal.origin)
              .join(Proposal, Decision.proposal_id == Proposal.id)
              .join(Unit, Proposal.unit_id == Unit.id).join(Household, Proposal.household_id == Household.id))
        for step, outcome, reason, at, dep, landlord_id, in_qpv, assoc_id, hid, origin in session.execute(q2):
            self.decisions.append(_Dec(step, outcome, reason, at, dep, landlord_id, assoc_id, hid, in_qpv,
                                       origin))
            if step == "lease" and outcome == "accept":
                # Her first lease: she is housed once, so that an urgent transfer and a second
                # lease later move none of the figures already published.
                prev = lease_unit_dept.get(hid)
                if prev is None or at < prev[0]:
                    lease_unit_dept[hid] = (at, dep)
        for hid, (at, dep) in lease_unit_dept.items():
            h = households.get(hid)
            if h is not None:
                h.leased_at = at
                h.departments = [dep]
        for h in households.values():
            # A fixed partition: her department does not depend on the selection (the first of
            # hers in code order), so that a selection's counts are the sums of its departments'.
            h.home = h.departments[0] if h.departments else None
        # Everyone, whatever the selection: the poorest quartile's threshold is the platform's.
        self.everyone = list(households.values())
        self.households = [h for h in households.values() if h.home in selected]
        self.decisions = [d for d in self.decisions if d.unit_department in selected]
        self.made = [m for m in self.made if m[2] in selected]
        # Permanent homes: emergency and temporary places are counted apart (`_shelter`).
        self.units = session.execute(
            sa.select(Unit.id, Unit.landlord_id, Unit.department, Unit.published_at)
            .where(Unit.department.in_(departments), Unit.temporary.is_(False))
        ).all()
        # Stays in emergency and temporary places (issue 18), in the department of the place.
        self.stays = session.execute(
            sa.select(Placement.started_on, Placement.ended_on, Placement.end_reason, Placement.department)
            .where(Placement.department.in_(departments))
        ).all()
        # Before and after the lease (issue 18): referrals by the department of her current home,
        # checkpoints by the department of the unit she was rehoused in (both fixed).
        self.referrals = session.execute(
            sa.select(Referral.landlord_id, Referral.department, Referral.status, Referral.created_at,
                      Referral.decided_at, Referral.household_id)
            .where(Referral.department.in_(departments))
        ).all()
        referred = set(session.scalars(sa.select(Referral.household_id).where(Referral.household_id.is_not(None))))
        self.referred_leases = [(d.at, d.unit_department) for d in self.decisions
                                if d.step == "lease" and d.outcome == "accept" and d.household_id in referred]
        # Urgent transfers (issue 18), in the department of the home she had to leave.
        self.transfers = session.execute(
            sa.select(Transfer.created_at, Transfer.department).where(Transfer.department.in_(departments))
        ).all()
        self.checkpoints = session.execute(
            sa.select(Checkpoint.months, Checkpoint.status, Checkpoint.recorded_at, Unit.department)
            .join(Proposal, Proposal.id == Checkpoint.proposal_id).join(Unit, Unit.id == Proposal.unit_id)
            .where(Unit.department.in_(departments), Checkpoint.recorded_at.is_not(None))
        ).all()

    def only(self, department: str) -> _Data:
        """The same data restricted to one department of the selection (no new query)."""
        part = copy.copy(self)
        part.departments = [department]
        part.households = [h for h in self.households if h.home == department]
        part.decisions = [d for d in self.decisions if d.unit_department == department]
        part.made = [m for m in self.made if m[2] == department]
        part.units = [u for u in self.units if u.department == department]
        part.referrals = [r for r in self.referrals if r.department == department]
        part.referred_leases = [r for r in self.referred_leases if r[1] == department]
        part.checkpoints = [c for c in self.checkpoints if c.department == department]
        part.transfers = [t for t in self.transfers if t.department == department]
        part.stays = [s for s in self.stays if s.department == department]
        return part


# --------------------------------------------------------------------------- computing


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[int(q * 100) - 1]


def _days(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def resolve_departments(departments: Iterable[str] | str | None, allowed: Iterable[str] | None) -> list[str]:
    """The selected departments: the requested ones (within ``allowed`` when given), else all allowed."""
    from matching.geo import departments as all_departments

    known = all_departments()
    if isinstance(departments, str):
        departments = [d for d in re.split(r"[,\s]+", departments) if d]
    wanted = sorted({d.strip().upper() for d in departments or [] if d.strip()})
    unknown = [d for d in wanted if d not in known]
    if unknown:
        raise ValidationError(_l("Département inconnu : %(codes)s.", codes=", ".join(unknown)),
                              field="departments")
    allowed_set = set(allowed) if allowed else None
    if allowed_set is not None:
        outside = [d for d in wanted if d not in allowed_set]
        if outside:
            raise ValidationError(_l("Hors du périmètre de votre organisation : %(codes)s.",
                                     codes=", ".join(outside)), field="departments")
    if not wanted:
        wanted = sorted(allowed_set) if allowed_set else []
    if not wanted:
        raise ValidationError(_l("Choisissez au moins un département."), field="departments")
    return wanted


def lowest_quartile_income(data: _Data, period: Period, setting: float | None) -> tuple[float | None, int]:
    """The poorest-quartile threshold (setting, else first quartile of active households' incomes)."""
    active = [h.income for h in data.everyone if _active(h, period)]
    if setting is not None:
        return float(setting), len(active)
    if not active:
        return None, 0
    if len(active) == 1:
        return active[0], 1
    return statistics.quantiles(active, n=4, method="inclusive")[0], len(active)


def _active(h: _H, p: Period) -> bool:
    return (h.activated_at is not None and h.activated_at < p.end_utc
            and (h.closed_at is None or h.closed_at >= p.start_utc))


def _waiting_at_end(h: _H, p: Period) -> bool:
    return (h.activated_at is not None and h.activated_at < p.end_utc
            and (h.closed_at is None or h.closed_at >= p.end_utc)
            and (h.leased_at is None or h.leased_at >= p.end_utc))


def women_rehoused(categories_of_housed: Iterable[Iterable[str]]) -> int:
    """"Femmes relogées", from the priority categories of each rehoused household: one woman per
    household marked "violence", the person supported (the household's other adults are not
    women rehoused). The one definition: the committee's figures and the conventions' count."""
    return sum(1 for categories in categories_of_housed if "violence" in categories)


def _flow(data: _Data, p: Period) -> dict[str, Any]:
    hs = data.households
    housed = [h for h in hs if p.contains(h.leased_at)]
    return {
        "submitted": sum(1 for h in hs if p.contains(h.activated_at)),
        "active": sum(1 for h in hs if _active(h, p)),
        "proposed": sum(1 for h in hs if p.contains(h.first_proposal_at)),
        "housed": len(housed),
        "women": women_rehoused(h.categories for h in housed),
        "children": sum(h.children for h in housed),
        "units_published": sum(1 for u in data.units if p.contains(u.published_at)),
        "units_allocated": sum(1 for d in data.decisions
                               if d.step == "lease" and d.outcome == "accept" and p.contains(d.at)),
    }


HEADLINE_ROWS = [
    ("submitted", _l("Demandes déposées (ménages activés)"), True),
    ("active", _l("Ménages actifs pendant la période"), False),
    ("proposed", _l("Ménages ayant reçu une première proposition"), True),
    ("housed", _l("Ménages relogés (bail signé)"), True),
    ("women", _l("Femmes relogées"), True),
    ("children", _l("Enfants relogés"), True),
    ("units_published", _l("Logements publiés"), True),
    ("units_allocated", _l("Logements attribués (bail signé)"), True),
]


def _time_groups(table: Table, row: int, quarter: Quarter) -> None:
    """Previous quarter + quarter lie within the year to date (columns 1, 0 and 2)."""
    if quarter.number >= 2:
        table.groups.append(Group([(row, 1), (row, 0)], (row, 2), prefer_total=True))
    else:
        table.groups.append(Group([(row, 0)], (row, 2), prefer_total=True))


def _decision_counts(data: _Data, p: Period) -> Counter[str]:
    c: Counter[str] = Counter()
    c["sent"] = sum(1 for m in data.made if p.contains(m[0]))
    for d in data.decisions:
        if not p.contains(d.at):
            continue
        c[f"{d.step}:{d.outcome}"] += 1
        if d.outcome == "decline":
            c[f"{d.step}:reason:{d.reason}"] += 1
    return c


def reason_label(side: str, code: str) -> str:
    """The same words as the proposal pages (services.labels)."""
    return str(labels.reason(side, code))


def quarter_figures(session: so.Session, quarter: Quarter, departments: list[str], *,
                    lowest_quartile_setting: float | None = None,
                    qpv_target: float = DEFAULT_QPV_TARGET) -> Figures:
    """The quarter's tables for these departments, small counts suppressed (ready to render)."""
    return suppress(compute(session, quarter, departments, lowest_quartile_setting=lowest_quartile_setting,
                            qpv_target=qpv_target))


def compute(session: so.Session, quarter: Quarter, departments: list[str], *,
            lowest_quartile_setting: float | None = None, qpv_target: float = DEFAULT_QPV_TARGET) -> Figures:
    """The raw tables (NOT for display: :func:`quarter_figures` suppresses them).

    For a selection of several departments, ``parts`` holds each department's raw figures:
    :func:`suppress` hides a selection's count whenever one of its departments' is hidden.
    """
    data = _Data(session, departments)
    figures = _compute(data, quarter, departments, lowest_quartile_setting, qpv_target)
    if len(departments) > 1:
        figures.parts = {d: _compute(data.only(d), quarter, [d], lowest_quartile_setting, qpv_target)
                         for d in departments}
    return figures


def _compute(data: _Data, quarter: Quarter, departments: list[str], lowest_quartile_setting: float | None,
             qpv_target: float) -> Figures:
    q, prev, ytd = quarter.period(), quarter.previous().period(), quarter.year_to_date()
    periods = [q, prev, ytd]
    cols = [p.label for p in periods]
    tables: list[Table] = []

    # 1. Headline.
    flows = [_flow(data, p) for p in periods]
    head = Table("headline", str(_l("Le trimestre en chiffres")), cols, row_header=str(_l("Indicateur")))
    for key, label, additive in HEADLINE_ROWS:
        r = head.add(label, [f[key] for f in flows], key=key)
        if additive:
            _time_groups(head, r, quarter)
    tables.append(head)

    # 2. Proposals and decisions by side.
    counts = [_decision_counts(data, p) for p in periods]
    dec = Table("decisions", str(_l("Propositions et décisions")), cols, row_header=str(_l("Étape")))
    for key, label in [
        ("sent", _l("Propositions envoyées")),
        ("household:accept", _l("Acceptées par le ménage")),
        ("household:decline", _l("Refusées par le ménage")),
        ("commission:accept", _l("Retenues par la commission d'attribution")),
        ("commission:decline", _l("Refusées par la commission d'attribution")),
        ("lease:accept", _l("Baux signés")),
    ]:
        r = dec.add(label, [c[key] for c in counts], key=key)
        _time_groups(dec, r, quarter)
    tables.append(dec)

    # 3. Refusals by side and reason.
    ref = Table("refusals", str(_l("Refus par motif")), cols, row_header=str(_l("Motif")))
    for side, reasons, side_label in [
        ("household", HOUSEHOLD_DECLINE_REASONS, _l("Ménage")),
        ("commission", COMMISSION_REFUSAL_REASONS, _l("Commission")),
    ]:
        first = len(ref.rows)
        for code in reasons:
            r = ref.add(f"{side_label} — {reason_label(side, code)}",
                        [c[f"{side}:reason:{code}"] for c in counts], key=f"{side}:{code}")
            _time_groups(ref, r, quarter)
        total = ref.add(_l("%(side)s — total des refus", side=side_label),
                        [c[f"{side}:decline"] for c in counts], key=f"{side}:total")
        ref.rows[total].is_total = True
        _time_groups(ref, total, quarter)
        for col in range(3):
            ref.groups.append(Group([(r, col) for r in range(first, total)], (total, col)))
    tables.append(ref)

    # 3b. Proposals and leases by origin (issue 15).
    tables.append(_by_origin(data, periods, quarter))

    # 4-6. By landlord, association, department (the quarter only).
    tables.append(_by_landlord(data, q))
    tables.append(_by_association(data, q))
    tables.append(_by_department(data, q))

    # 7. Delays.
    tables.append(_delays(data, periods, quarter))

    # 8. QPV.
    threshold, population = lowest_quartile_income(data, q, lowest_quartile_setting)
    tables.append(_qpv(data, periods, threshold, qpv_target, quarter))

    # 9-10. Referrals by landlords' staff and the follow-up after the lease.
    tables.append(_followup(data, periods, quarter))
    tables.append(_referrals_by_landlord(data, quarter))

    # 11. Emergency and temporary places.
    tables.append(_shelter(data, periods, quarter))

    facts = {
        "lowest_quartile_income": threshold if (lowest_quartile_setting is not None or population >= SMALL)
        else None,
        "lowest_quartile_source": "setting" if lowest_quartile_setting is not None else "computed",
        "qpv_target": qpv_target,
    }
    return Figures(quarter, departments, periods, tables, facts=facts)


# How a unit reached the household, in the committee's words (the pages' words).
ORIGIN_ROWS = list(labels.PROPOSAL_ORIGIN.items())


def _by_origin(data: _Data, periods: list[Period], quarter: Quarter) -> Table:
    """Proposals made and leases signed, per origin; each block's origins add up to its total."""
    t = Table("by_origin", str(_l("Propositions et relogements par voie d'accès")), [p.label for p in periods],
              row_header=str(_l("Voie d'accès")),
              note=str(_l("Une proposition issue d'un rapprochement compte à la diffusion de son rapprochement, "
                          "les autres à leur création ; un bail, à sa signature. Dans le département du "
                          "logement.")))
    made = [Counter(origin for at, origin, *_rest in data.made if p.contains(at)) for p in periods]
    leased = [Counter(d.origin for d in data.decisions
                      if d.step == "lease" and d.outcome == "accept" and p.contains(d.at)) for p in periods]
    for measure, counts, measure_label in [("proposals", made, _l("Propositions faites")),
                                           ("leases", leased, _l("Baux signés"))]:
        first = len(t.rows)
        for origin, origin_label in ORIGIN_ROWS:
            r = t.add(f"{measure_label} — {origin_label}", [c[origin] for c in counts], key=f"{measure}:{origin}")
            _time_groups(t, r, quarter)
        total = t.add(_l("%(measure)s — total", measure=measure_label),
                      [sum(c[o] for o, _label in ORIGIN_ROWS) for c in counts], key=f"{measure}:total")
        t.rows[total].is_total = True
        _time_groups(t, total, quarter)
        for col in range(len(periods)):
            t.groups.append(Group([(r, col) for r in range(first, total)], (total, col)))
    return t


FOLLOWUP_ROWS = [
    ("referrals_received", _l("Orientations reçues des bailleurs")),
    ("referrals_accepted", _l("Orientations acceptées par une association")),
    ("referrals_declined", _l("Orientations déclinées")),
    ("referrals_rehoused", _l("Ménages orientés par un bailleur et relogés (bail signé)")),
    ("checkpoints_fine", _l("Points de suivi : tout va bien")),
    ("checkpoints_difficulties", _l("Points de suivi : difficultés")),
    ("checkpoints_left", _l("Points de suivi : a quitté le logement")),
    ("housed_at_12_months", _l("Toujours logées au point de suivi à 12 mois")),
    ("transfers", _l("Mutations urgentes (dossier rouvert après le relogement)")),
]


def _followup_counts(data: _Data, p: Period) -> dict[str, int]:
    c = {key: 0 for key, _label in FOLLOWUP_ROWS}
    for r in data.referrals:
        if p.contains(r.created_at):
            c["referrals_received"] += 1
        if p.contains(r.decided_at) and r.status in ("accepted", "declined"):
            c[f"referrals_{r.status}"] += 1
    c["referrals_rehoused"] = sum(1 for at, _dep in data.referred_leases if p.contains(at))
    for k in data.checkpoints:
        if p.contains(k.recorded_at):
            c[f"checkpoints_{k.status}"] += 1
            if k.months == 12 and k.status != "left":
                c["housed_at_12_months"] += 1
    c["transfers"] = sum(1 for t in data.transfers if p.contains(t.created_at))
    return c


def _followup(data: _Data, periods: list[Period], quarter: Quarter) -> Table:
    """Referrals by landlords' staff, what became of them, and the checkpoints after the lease."""
    counts = [_followup_counts(data, p) for p in periods]
    t = Table("followup", str(_l("Orientations des bailleurs et suivi après le bail")), [p.label for p in periods],
              row_header=str(_l("Indicateur")),
              note=str(_l("Une orientation compte dans le département de son logement actuel, un point de suivi "
                          "et une mutation urgente dans celui du logement où elle a été relogée.")))
    for key, label in FOLLOWUP_ROWS:
        r = t.add(label, [c[key] for c in counts], key=key)
        _time_groups(t, r, quarter)
    return t


SHELTER_ROWS = [
    ("stays_started", _l("Mises à l'abri commencées")),
    ("stays_rehoused", _l("Séjours terminés : relogée (bail signé)")),
    ("stays_stay_ended", _l("Séjours terminés : durée maximale atteinte")),
    ("stays_left", _l("Séjours terminés : départ de la place")),
    ("stays_other", _l("Séjours terminés : autre motif")),
    ("stays_open_at_end", _l("Places occupées à la fin de la période")),
]


def _shelter(data: _Data, periods: list[Period], quarter: Quarter) -> Table:
    """Stays in emergency and temporary places, counted apart from the permanent homes: how
    many began, how they ended, how many places were still occupied at the period's end."""
    def counts(p: Period) -> dict[str, int]:
        c = {key: 0 for key, _label in SHELTER_ROWS}
        for stay in data.stays:
            if p.start <= stay.started_on < p.end:
                c["stays_started"] += 1
            if stay.ended_on is not None and p.start <= stay.ended_on < p.end:
                c[f"stays_{stay.end_reason}"] += 1
            if stay.started_on < p.end and (stay.ended_on is None or stay.ended_on >= p.end):
                c["stays_open_at_end"] += 1
        return c

    per_period = [counts(p) for p in periods]
    t = Table("shelter", str(_l("Places d'urgence et temporaires")), [p.label for p in periods],
              row_header=str(_l("Indicateur")),
              note=str(_l("Dans le département de la place. Une femme mise à l'abri reste candidate à un "
                          "logement durable : ses propositions et son bail comptent avec les autres.")))
    for key, label in SHELTER_ROWS:
        r = t.add(label, [c[key] for c in per_period], key=key)
        if key != "stays_open_at_end":  # a stock at a date, not a flow: no year-to-date sum
            _time_groups(t, r, quarter)
    return t


def _referrals_by_landlord(data: _Data, quarter: Quarter) -> Table:
    """Referrals received, per landlord and month of the quarter (what the convention counts)."""
    from babel.dates import format_date
    from flask_babel import get_locale

    months = [dt.date(quarter.year, 3 * quarter.number - 2 + i, 1) for i in range(3)]
    locale = str(get_locale() or "fr")
    t = Table("referrals_by_landlord", str(_l("Orientations par bailleur et par mois (trimestre)")),
              [format_date(m, "LLLL yyyy", locale=locale) for m in months], row_header=str(_l("Bailleur")))
    stats: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in data.referrals:
        local = r.created_at.astimezone(PARIS).date()
        if local.year == quarter.year and Quarter.of(local) == quarter:
            stats[r.landlord_id][local.month - months[0].month] += 1
    for org_id in sorted(stats, key=lambda i: data.org_names.get(i, "")):
        t.add(data.org_names.get(org_id, "?"), stats[org_id], key=f"org:{org_id}")
    t.add_total_row(_l("Total"))
    return t


def _by_landlord(data: _Data, p: Period) -> Table:
    cols = [_l("Logements publiés"), _l("Propositions envoyées"), _l("Refus du ménage"),
            _l("Refus de la commission"), _l("Baux signés")]
    t = Table("by_landlord", str(_l("Par bailleur (trimestre)")), [str(c) for c in cols],
              row_header=str(_l("Bailleur")))
    stats: dict[int, list[int]] = defaultdict(lambda: [0] * 5)
    for u in data.units:
        if p.contains(u.published_at):
            stats[u.landlord_id][0] += 1
    for at, _origin, _dep, _h, landlord_id in data.made:
        if p.contains(at):
            stats[landlord_id][1] += 1
    for d in data.decisions:
        if p.contains(d.at):
            if d.step == "household" and d.outcome == "decline":
                stats[d.landlord_id][2] += 1
            elif d.step == "commission" and d.outcome == "decline":
                stats[d.landlord_id][3] += 1
            elif d.step == "lease" and d.outcome == "accept":
                stats[d.landlord_id][4] += 1
    for org_id in sorted(stats, key=lambda i: data.org_names.get(i, "")):
        t.add(data.org_names.get(org_id, "?"), stats[org_id], key=f"org:{org_id}")
    t.add_total_row(_l("Total"))
    return t


def _by_association(data: _Data, p: Period) -> Table:
    cols = [_l("Demandes déposées"), _l("Ménages en attente en fin de trimestre"), _l("Refus du ménage"),
            _l("Refus de la commission"), _l("Ménages relogés")]
    t = Table("by_association", str(_l("Par association (trimestre)")), [str(c) for c in cols],
              row_header=str(_l("Association")))
    stats: dict[int, list[int]] = defaultdict(lambda: [0] * 5)
    for h in data.households:
        if p.contains(h.activated_at):
            stats[h.association_id][0] += 1
        if _waiting_at_end(h, p):
            stats[h.association_id][1] += 1
        if p.contains(h.leased_at):
            stats[h.association_id][4] += 1
    for d in data.decisions:
        if p.contains(d.at) and d.outcome == "decline" and d.step in ("household", "commission"):
            stats[d.association_id][2 if d.step == "household" else 3] += 1
    for org_id in sorted(stats, key=lambda i: data.org_names.get(i, "")):
        t.add(data.org_names.get(org_id, "?"), stats[org_id], key=f"org:{org_id}")
    t.add_total_row(_l("Total"))
    return t


def _by_department(data: _Data, p: Period) -> Table:
    from matching.geo import department_name

    cols = [_l("Demandes déposées"), _l("Ménages en attente en fin de trimestre"), _l("Ménages relogés"),
            _l("Logements publiés")]
    t = Table("by_department", str(_l("Par département (trimestre)")), [str(c) for c in cols],
              row_header=str(_l("Département")))
    for dep in data.departments:
        values = [
            sum(1 for h in data.households if h.home == dep and p.contains(h.activated_at)),
            sum(1 for h in data.households if h.home == dep and _waiting_at_end(h, p)),
            sum(1 for h in data.households if h.home == dep and p.contains(h.leased_at)),
            sum(1 for u in data.units if u.department == dep and p.contains(u.published_at)),
        ]
        t.add(f"{dep} {department_name(dep) or ''}".strip(), values, key=f"dep:{dep}")
    t.add_total_row(_l("Total"))
    return t


def _period_rows_groups(t: Table, rows: list[int], columns: Iterable[int], quarter: Quarter) -> None:
    """Rows for the quarter, the previous quarter and the year to date: the first two lie in the third."""
    rq, rp, ry = rows
    for c in columns:
        parts = [(rp, c), (rq, c)] if quarter.number >= 2 else [(rq, c)]
        t.groups.append(Group(parts, (ry, c), prefer_total=True))


def _delays(data: _Data, periods: list[Period], quarter: Quarter) -> Table:
    cols = [_l("Ménages concernés"), _l("Médiane (jours)"), _l("90e centile (jours)")]
    t = Table("delays", str(_l("Délais depuis l'activation de la demande")), [str(c) for c in cols],
              note=str(_l("Un délai n'est publié que s'il porte sur au moins 5 ménages.")),
              row_header=str(_l("Délai et période")))
    for what, label in [("first_proposal_at", _l("Jusqu'à la première proposition")),
                        ("leased_at", _l("Jusqu'au bail signé"))]:
        for p in periods:
            values = [_days(getattr(h, what), h.activated_at) for h in data.households
                      if p.contains(getattr(h, what)) and h.activated_at is not None]
            r = len(t.rows)
            t.add(f"{label} — {p.label}", [
                Cell(len(values)),
                Cell(statistics.median(values) if values else None, DAYS, basis=((r, 0),), min_n=SMALL),
                Cell(_percentile(values, 0.9), DAYS, basis=((r, 0),), min_n=SMALL),
            ], key=f"{what}:{p.key}")
        _period_rows_groups(t, [len(t.rows) - 3, len(t.rows) - 2, len(t.rows) - 1], [0], quarter)
    return t


def _qpv(data: _Data, periods: list[Period], threshold: float | None, target: float,
         quarter: Quarter) -> Table:
    cols = [_l("Ménages du premier quartile"), _l("Autres ménages"), _l("Total des baux hors QPV"),
            _l("Part du premier quartile"), _l("Objectif")]
    t = Table("qpv", str(_l("Attributions hors QPV au quart des ménages les plus modestes")),
              [str(c) for c in cols], row_header=str(_l("Période")),
              note=str(_l("Premier quartile : revenu mensuel inférieur au seuil indiqué ; objectif légal : "
                          "au moins 25 % des attributions hors QPV.")))
    incomes = {h.id: h.income for h in data.households}
    for p in periods:
        leases = [d for d in data.decisions if d.step == "lease" and d.outcome == "accept"
                  and p.contains(d.at) and not d.in_qpv]
        poor = sum(1 for d in leases if threshold is not None and incomes.get(d.household_id, 1e12) < threshold)
        r = len(t.rows)
        share = poor / len(leases) if leases else None
        t.add(p.label, [Cell(poor), Cell(len(leases) - poor), Cell(len(leases)),
                        Cell(share, SHARE, basis=((r, 0), (r, 2))), Cell(target, SHARE)], key=p.key)
        t.groups.append(Group([(r, 0), (r, 1)], (r, 2)))
    _period_rows_groups(t, [0, 1, 2], [0, 1, 2], quarter)
    return t


# --------------------------------------------------------------------------- for other reports

HouseholdFacts = _H


def read_data(session: so.Session, departments: list[str]) -> _Data:
    """The facts a report counts from (services.activity): the same households, first leases and
    partition by department as the committee's figures, so that both count alike."""
    return _Data(session, departments)
