"""The committee's snapshot solves (unmet needs, what-if) as background jobs with cached results.

A snapshot solve runs the solver on a whole territory: seconds on a département, minutes on
a region. Inside a web request, four such pages at once froze the site (issue 13, finding 4).
So a page asks (:func:`request`), a worker computes (:func:`execute`), and the page shows the
stored answer (:func:`load`), polling while it waits.

The same question (kind, départements, parameters, language: :func:`key_for`) asked again
within :data:`FRESH_FOR` gets the stored answer, or joins the solve already under way: a
committee of twenty opening the same page starts one solve, not twenty. A solve queued or
running for longer than :data:`GIVE_UP_AFTER` is taken as lost (its worker died) and a new
one may start.

What is stored is what the page shows and no more: suppressed tables whose hidden cells keep
no value (:func:`table_to_json`), with their labels already worded in the asker's language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import SnapshotSolve, User, utcnow
from services import audit, whatif
from services.stats import SHOWN, Cell, Row, Table

#: A stored answer older than this is computed again (the supply and demand move daily,
#: not by the minute; a committee meeting reads one consistent picture).
FRESH_FOR = dt.timedelta(minutes=15)
#: A solve waiting or running this long has lost its worker: the next ask starts another.
GIVE_UP_AFTER = dt.timedelta(minutes=30)
ACTIVE = ("queued", "running")
JOB_NAME = "snapshot_solve"
_AUDIT_ACTIONS = {"needs": "committee.needs", "whatif": "committee.whatif"}


def key_for(kind: str, departments: Sequence[str], params: Mapping[str, Any], locale: str) -> str:
    """The question's identity: the same key is the same answer."""
    payload = json.dumps([kind, sorted(departments), dict(sorted(params.items())), locale],
                         separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def current(session: so.Session, key: str, *, now: dt.datetime | None = None) -> SnapshotSolve | None:
    """The answer to this question still worth showing: fresh and done, or under way."""
    now = now or utcnow()
    rows = session.scalars(
        sa.select(SnapshotSolve).where(SnapshotSolve.key == key, SnapshotSolve.created_at >= now - GIVE_UP_AFTER)
        .order_by(SnapshotSolve.id.desc()).limit(5)).all()
    for row in rows:
        if row.status in ACTIVE:
            return row
        if row.status == "done" and row.finished_at is not None and row.finished_at >= now - FRESH_FOR:
            return row
    return None


def request(session: so.Session, kind: str, departments: Sequence[str], params: Mapping[str, Any], *,
            locale: str, actor: User, force: bool = False) -> tuple[SnapshotSolve, bool]:
    """Ask the question; returns the solve that answers it and whether it is new (to be queued).

    `force` (the page's "compute again"): a new solve even if a fresh answer exists, unless
    one is already under way. The ask is audited each time, answered from the store or not:
    the trail says who looked at what, as it did when the page solved in the request.
    """
    if kind not in _AUDIT_ACTIONS:
        raise ValueError(kind)
    key = key_for(kind, departments, params, locale)
    existing = current(session, key)
    audit.record(session, _AUDIT_ACTIONS[kind], actor=actor, object_type="departments",
                 object_id=",".join(departments)[:64])
    if existing is not None and not (force and existing.status == "done"):
        return existing, False
    solve = SnapshotSolve(kind=kind, key=key, departments=",".join(departments), params=dict(params),
                          locale=locale, status="queued", requested_by_id=actor.id)
    session.add(solve)
    session.flush()
    return solve, True


def get(session: so.Session, solve_id: int, departments_allowed: Callable[[list[str]], bool]) -> SnapshotSolve | None:
    """A solve the caller may read (its départements all allowed to her), else None."""
    solve = session.get(SnapshotSolve, solve_id)
    if solve is None or not departments_allowed(departments_of(solve)):
        return None
    return solve


def departments_of(solve: SnapshotSolve) -> list[str]:
    return [d for d in solve.departments.split(",") if d]


def fail(session: so.Session, solve_id: int, error: str) -> None:
    """Mark a solve failed (its job could not be queued, or it raised)."""
    session.execute(sa.update(SnapshotSolve).where(SnapshotSolve.id == solve_id, SnapshotSolve.status.in_(ACTIVE))
                    .values(status="failed", error=error[:200], finished_at=utcnow()))


def execute(sessionmaker: Callable[[], so.Session], solve_id: int,
            locale_context: Callable[[str], Any]) -> None:
    """The worker's side: solve, store the suppressed answer. Each step commits on its own,
    so the page sees "running" while the solver works, and a failure never loses the row.

    `locale_context(locale)` is a context manager in which labels are worded in that
    language (flask_babel.force_locale; the worker has no request to take it from).
    """
    with sessionmaker() as session:
        claimed = cast("sa.CursorResult[Any]", session.execute(
            sa.update(SnapshotSolve).where(SnapshotSolve.id == solve_id, SnapshotSolve.status == "queued")
            .values(status="running", started_at=utcnow()))).rowcount
        session.commit()
        if not claimed:
            return  # taken by another worker, or given up
        solve = session.get_one(SnapshotSolve, solve_id)
        kind, departments, params, locale = solve.kind, departments_of(solve), dict(solve.params), solve.locale
        try:
            with locale_context(locale):
                result = _compute(session, kind, departments, params)
        except Exception as exc:
            session.rollback()
            fail(session, solve_id, f"{type(exc).__name__}: {exc}")
            session.commit()
            raise
        session.rollback()  # the snapshot only read; nothing of the solve is to be kept but its answer
        session.execute(sa.update(SnapshotSolve).where(SnapshotSolve.id == solve_id)
                        .values(status="done", result=result, finished_at=utcnow()))
        session.commit()


def _compute(session: so.Session, kind: str, departments: list[str], params: dict[str, Any]) -> dict[str, Any]:
    if kind == "needs":
        needs = whatif.unmet_needs(session, departments)
        return {"households": table_to_json(needs.households), "offer": table_to_json(needs.offer),
                "units": table_to_json(needs.units) if needs.units is not None else None,
                "sentences": [str(s) for s in needs.sentences], "counts": needs.counts}
    outcome = whatif.what_if(session, departments, params)
    return {"table": table_to_json(outcome.table), "counts": outcome.counts}


# -- the stored answer ----------------------------------------------------------------------

@dataclass
class Answer:
    """What a page renders: the solve's state and, once done, its tables."""

    solve: SnapshotSolve
    needs: whatif.UnmetNeeds | None = None
    table: Table | None = None

    @property
    def pending(self) -> bool:
        return self.solve.status in ACTIVE


def load(solve: SnapshotSolve) -> Answer:
    """The solve and, when done, its answer rebuilt as the tables the templates render."""
    data = solve.result if solve.status == "done" else None
    if not data:
        return Answer(solve)
    if solve.kind == "needs":
        units = data.get("units")
        return Answer(solve, needs=whatif.UnmetNeeds(
            table_from_json(data["households"]), table_from_json(data["offer"]),
            table_from_json(units) if units else None, list(data["sentences"]), dict(data["counts"])))
    return Answer(solve, table=table_from_json(data["table"]))


def _value(cell: Cell) -> Any:
    """A shown value as JSON holds it; a hidden one is not kept at all."""
    if cell.status != SHOWN or cell.value is None:
        return None
    value = cell.value
    if isinstance(value, bool | int | float | str):
        return value
    return float(value)  # Decimal and the like: figures are displayed rounded


def table_to_json(table: Table) -> dict[str, Any]:
    """A suppressed table as JSON, for storing: labels as text, hidden cells without value."""
    return {
        "key": table.key, "title": str(table.title), "columns": [str(c) for c in table.columns],
        "note": str(table.note), "row_header": str(table.row_header),
        "rows": [{"label": str(r.label), "key": r.key, "is_total": r.is_total,
                  "cells": [{"value": _value(c), "kind": c.kind, "status": c.status} for c in r.cells]}
                 for r in table.rows],
    }


def table_from_json(data: Mapping[str, Any]) -> Table:
    """The table back, ready for display (its groups are gone: it is suppressed already)."""
    table = Table(data["key"], data["title"], list(data["columns"]), note=data["note"], row_header=data["row_header"])
    table.rows = [Row(r["label"], [Cell(c["value"], c["kind"], c["status"]) for c in r["cells"]], key=r["key"],
                      is_total=r["is_total"]) for r in data["rows"]]
    return table
