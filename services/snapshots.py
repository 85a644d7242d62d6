"""Frozen quarterly figures: a closed quarter's tables, already suppressed, kept as JSON.

Closing a quarter (a coordinator's action, or the nightly job `QUARTER_FREEZE_AFTER_DAYS`
days after its end) computes the committee's figures once, through the same
`services.stats.quarter_figures` (so through the same suppression), in every language of
the platform, and stores them in `quarter_snapshots`. The same payload holds, per
language, the commitments against achievements of every convention touching those
departments (`services.conventions.committee_sections`, under the key ``conventions``,
with the convention's terms as they were). From then on the committee's pages, charts and
reports of that quarter are rendered from the snapshot: the retention purge and erasures,
which delete the rows the figures were counted from, change nothing.

Corrections made since are shown as a number of figures that differ "as recomputed
today": the count of cells whose published value (or hidden status) changed. It never
lists which ones, nor by how much, so it reveals no small count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from models import QuarterSnapshot, User
from services import clock, conventions, stats
from services.errors import Conflict, ValidationError
from services.stats import Cell, Figures, Period, Quarter, Row, Table

LANGUAGES = ("fr", "en")
DEFAULT_FREEZE_AFTER_DAYS = 15


def scope_of(departments: list[str]) -> str:
    """The snapshot's key for a selection of departments: ``departments:59,62``."""
    return "departments:" + ",".join(sorted(departments))


def _cell(c: Cell) -> dict[str, Any]:
    value = c.public_value()
    if hasattr(value, "__float__") and not isinstance(value, int | float):
        value = float(value)
    return {"v": value, "k": c.kind, "s": c.status}


def _fact(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return float(value)


def _dump_table(t: Table) -> dict[str, Any]:
    return {"key": t.key, "title": str(t.title), "columns": [str(c) for c in t.columns],
            "note": str(t.note), "row_header": str(t.row_header),
            "rows": [{"label": r.label, "key": r.key, "total": r.is_total,
                      "cells": [_cell(c) for c in r.cells]} for r in t.rows]}


def _load_table(t: dict[str, Any]) -> Table:
    return Table(t["key"], t["title"], t["columns"], note=t["note"], row_header=t["row_header"],
                 rows=[Row(r["label"], [Cell(c["v"], c["k"], c["s"]) for c in r["cells"]], key=r["key"],
                           is_total=r["total"]) for r in t["rows"]])


def dump(figures: Figures) -> dict[str, Any]:
    """JSON form of suppressed figures, enough to render them again (hidden values absent)."""
    stats.require_suppressed(figures)
    return {
        "quarter": str(figures.quarter), "departments": figures.departments,
        "periods": [[p.key, p.label, p.start.isoformat(), p.end.isoformat()] for p in figures.periods],
        "facts": {k: _fact(v) for k, v in figures.facts.items()},
        "tables": [_dump_table(t) for t in figures.tables],
    }


def load(data: dict[str, Any]) -> Figures:
    """Figures rebuilt from :func:`dump` (marked suppressed: they were when frozen)."""
    periods = [Period(k, label, dt.date.fromisoformat(a), dt.date.fromisoformat(b))
               for k, label, a, b in data["periods"]]
    return Figures(Quarter.parse(data["quarter"]), list(data["departments"]), periods,
                   [_load_table(t) for t in data["tables"]], facts=dict(data["facts"]), suppressed=True)


def dump_sections(sections: list[conventions.Section]) -> list[dict[str, Any]]:
    """JSON form of the conventions' commitment tables (suppressed by committee_tables)."""
    return [{"id": s.id, "title": s.title, "departments": s.departments, "parties": s.parties,
             "funders": s.funders, "starts_on": s.starts_on.isoformat(), "ends_on": s.ends_on.isoformat(),
             "year": s.year, "tables": [_dump_table(t) for t in s.tables]} for s in sections]


def load_sections(data: list[dict[str, Any]]) -> list[conventions.Section]:
    """Sections rebuilt from :func:`dump_sections`."""
    return [conventions.Section(s["id"], s["title"], list(s["departments"]), list(s["parties"]),
                                list(s["funders"]), dt.date.fromisoformat(s["starts_on"]),
                                dt.date.fromisoformat(s["ends_on"]), s["year"],
                                [_load_table(t) for t in s["tables"]]) for s in data]


def find(session: so.Session, quarter: Quarter, departments: list[str]) -> QuarterSnapshot | None:
    """The snapshot of that quarter for exactly these departments, if it was frozen."""
    return session.scalar(sa.select(QuarterSnapshot).where(
        QuarterSnapshot.quarter == str(quarter), QuarterSnapshot.scope == scope_of(departments)))


def freeze(session: so.Session, quarter: Quarter, departments: list[str], *, user: User | None = None,
           today: dt.date | None = None, **settings: Any) -> QuarterSnapshot:
    """Close a quarter for these departments: store its suppressed figures in every language.

    :raise ValidationError: the quarter has not ended yet.
    :raise Conflict: it is already frozen.
    """
    today = today or clock.today()
    if quarter.end > today:
        raise ValidationError(_l("Le trimestre %(q)s n'est pas terminé : il ne peut pas être clos.",
                                 q=quarter.label), field="quarter")
    if find(session, quarter, departments) is not None:
        raise Conflict(_l("Le trimestre %(q)s est déjà clos pour ces départements.", q=quarter.label))
    figures: dict[str, Any] = {}
    for lang in LANGUAGES:
        with force_locale(lang):
            figures[lang] = dump(stats.quarter_figures(session, quarter, departments, **settings))
            # The conventions' commitments against achievements, frozen with the same quarter:
            # their achievements are counted from the same rows the purge deletes.
            figures[lang]["conventions"] = dump_sections(
                conventions.committee_sections(session, departments, quarter))
    snapshot = QuarterSnapshot(quarter=str(quarter), scope=scope_of(sorted(departments)), figures=figures,
                               frozen_by_id=user.id if user else None)
    session.add(snapshot)
    session.flush()
    return snapshot


def snapshot_figures(snapshot: QuarterSnapshot, lang: str) -> Figures:
    """The frozen figures in a language (French when that language was not frozen)."""
    data = snapshot.figures.get(lang) or snapshot.figures["fr"]
    return load(data)


def quarter_figures(session: so.Session, quarter: Quarter, departments: list[str], *, lang: str | None = None,
                    **settings: Any) -> Figures:
    """What the committee reads for a quarter: the snapshot when it was closed, else live figures."""
    from flask_babel import get_locale

    snapshot = find(session, quarter, departments)
    if snapshot is not None:
        return snapshot_figures(snapshot, lang or str(get_locale() or "fr"))
    return stats.quarter_figures(session, quarter, departments, **settings)


def convention_sections(session: so.Session, quarter: Quarter, departments: list[str], *,
                        lang: str | None = None) -> list[conventions.Section]:
    """What the committee reads of the conventions for a quarter: the snapshot's when it was closed
    (a snapshot frozen before conventions were frozen with it has none: live ones then), else live."""
    from flask_babel import get_locale

    snapshot = find(session, quarter, departments)
    if snapshot is not None:
        data = snapshot.figures.get(lang or str(get_locale() or "fr")) or snapshot.figures["fr"]
        if "conventions" in data:
            return load_sections(data["conventions"])
    return conventions.committee_sections(session, departments, quarter)


def _changed(frozen: list[Table], live: list[Table]) -> int:
    """Frozen cells whose published value or hidden status differs (or that are gone) in `live`.

    Rows are matched by key (a landlord's row stays hers when another row disappears), by
    position when they have none."""
    live_tables = {t.key: t for t in live}
    changed = 0
    for table in frozen:
        other = live_tables.get(table.key)
        by_key = {r.key: r for r in other.rows if r.key} if other else {}
        for i, row in enumerate(table.rows):
            if row.key:
                again_row = by_key.get(row.key)
            else:
                again_row = other.rows[i] if other and i < len(other.rows) else None
            for j, cell in enumerate(row.cells):
                again = again_row.cells[j] if again_row and j < len(again_row.cells) else None
                if again is None or (again.status, again.value) != (cell.status, cell.value):
                    changed += 1
    return changed


def _section_tables(sections: list[conventions.Section]) -> list[Table]:
    """The sections' tables, each keyed by its convention too (two conventions share table keys)."""
    return [dataclasses.replace(t, key=f"{s.id}:{t.key}") for s in sections for t in s.tables]


def convention_differences(session: so.Session, snapshot: QuarterSnapshot) -> int:
    """How many frozen commitment figures differ when recomputed today (a count only)."""
    data = snapshot.figures["fr"]
    if "conventions" not in data:
        return 0
    frozen = load_sections(data["conventions"])
    with force_locale("fr"):
        live = load_sections(dump_sections(conventions.committee_sections(
            session, data["departments"], Quarter.parse(data["quarter"]))))
    return _changed(_section_tables(frozen), _section_tables(live))


def differences(session: so.Session, snapshot: QuarterSnapshot, **settings: Any) -> int:
    """How many published figures, commitments included, differ when the frozen quarter is recomputed
    today (a count only)."""
    frozen = snapshot_figures(snapshot, "fr")
    with force_locale("fr"):
        live = load(dump(stats.quarter_figures(session, frozen.quarter, frozen.departments, **settings)))
    return _changed(frozen.tables, live.tables) + convention_differences(session, snapshot)


def due_quarters(today: dt.date, after_days: int) -> Quarter:
    """The last quarter that ended at least `after_days` days ago."""
    quarter = Quarter.of(today).previous()
    while quarter.end + dt.timedelta(days=after_days) > today:
        quarter = quarter.previous()
    return quarter


def freeze_due(session: so.Session, scopes: list[list[str]], *, today: dt.date | None = None,
               after_days: int = DEFAULT_FREEZE_AFTER_DAYS, **settings: Any) -> list[QuarterSnapshot]:
    """Close, for each scope (a committee's departments), the last quarter ended `after_days` ago,
    unless it already is. What the nightly job runs."""
    today = today or clock.today()
    quarter = due_quarters(today, after_days)
    made = []
    for departments in scopes:
        if departments and find(session, quarter, departments) is None:
            made.append(freeze(session, quarter, departments, today=today, **settings))
    return made


def committee_scopes(session: so.Session) -> list[list[str]]:
    """Each committee's whole territory (the selection its pages open with)."""
    from models import Organisation

    rows = session.scalars(sa.select(Organisation).where(Organisation.kind == "committee")).all()
    return [list(t) for t in sorted({tuple(sorted(o.departments or [])) for o in rows if o.departments})]


def settings(config: Any) -> dict[str, Any]:
    """The figures' settings from the app's configuration (as the committee's pages read them)."""
    setting = config.get("LOWEST_QUARTILE_INCOME")
    return {"lowest_quartile_setting": float(setting) if setting is not None else None,
            "qpv_target": float(config.get("QPV_LOWEST_QUARTILE_TARGET", stats.DEFAULT_QPV_TARGET))}
