"""A coordinator's territory: the ONE place that says which records she may reach.

A coordination team (an `Organisation` of kind ``coordinator``) works for departments
(`Organisation.departments`). Everything a coordinator reads or acts on is held to them;
every service query a coordinator's page or API call sends adds one of the where-clauses
below, and a record outside them answers 404, exactly as a record that does not exist.

The rules (docs/SECURITY.md, "Coordinators and their territory"):

- **Runs**: a run is hers only when *all* its departments are in her territory (a run of
  59+62 is not the business of a coordinator of 59 alone: its review shows households and
  units of 62). A run without departments is nobody's.
- **Households**: she reaches a household exactly when her own runs would match her: the
  departments the household searches in (her search area's departments and the departments
  of its communes), or, when her search area is empty, her association's departments, meet
  the territory. This is the rule `services.runs.build_instance` applies, so the households
  a coordinator sees are the ones her runs may propose to, and no other.
- **Units**: units whose department is in the territory.
- **Proposals**: those of her runs; a proposal made outside a run (a direct match, a
  candidacy, a request) only when its unit and its household are both hers.
- A coordinator whose organisation has no department reaches nothing (fail closed).

Department lists are JSON columns: the clauses read them with the database's own JSON
functions (`json_each` on SQLite, `json_array_elements_text` on PostgreSQL), in SQL, so
paging and counts stay right and nothing outside the territory is ever loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import Household, MatchRun, Organisation, Proposal, Unit, User


def departments(user: User | None) -> frozenset[str]:
    """The departments of a coordinator's organisation (empty for anyone else, or without any)."""
    if user is None or getattr(user, "role", None) != "coordinator" or user.organisation is None:
        return frozenset()
    return frozenset(str(code).strip().upper() for code in user.organisation.departments or [] if str(code).strip())


def teams_covering(session: so.Session, codes: Iterable[str]) -> list[Organisation]:
    """The coordination teams whose territory meets these departments, oldest first.

    The first one is the team whose policy applies there (a run, an offer, a transfer)."""
    wanted = set(codes)
    if not wanted:
        return []
    teams = session.scalars(sa.select(Organisation).where(Organisation.kind == "coordinator")
                            .order_by(Organisation.id))
    return [t for t in teams if wanted & set(t.departments or [])]


def _codes(user_or_codes: User | Iterable[str]) -> list[str]:
    if isinstance(user_or_codes, User):
        return sorted(departments(user_or_codes))
    return sorted({str(c).strip().upper() for c in user_or_codes if str(c).strip()})


def _elements(session: so.Session, document: Any, key: str | None = None) -> Any:
    """A table of the text values of a JSON array (`document`, or its member `key`), column `value`."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        array = document if key is None else document.op("->")(sa.literal(key))
        # A value that is not an array (never written by the platform) reads as an empty one
        # rather than failing the whole query.
        array = sa.case((sa.func.json_typeof(array) == "array", array),
                        else_=sa.literal_column("'[]'::json"))
        fn = sa.func.json_array_elements_text(array)
    else:
        fn = sa.func.json_each(document) if key is None else sa.func.json_each(document, f"$.{key}")
    return fn.table_valued("value").alias()


def _department_of(commune: Any) -> Any:
    """SQL twin of `matching.geo.department_of`: 3 characters overseas (97...), else 2."""
    code = sa.func.upper(commune)
    return sa.case((sa.func.substr(code, 1, 2) == "97", sa.func.substr(code, 1, 3)),
                   else_=sa.func.substr(code, 1, 2))


def _any(table: Any, condition: Any = None) -> Any:
    stmt = sa.select(sa.literal(1)).select_from(table)
    if condition is not None:
        stmt = stmt.where(condition)
    return stmt.exists()


def runs(session: so.Session, user_or_codes: User | Iterable[str]) -> sa.ColumnElement[bool]:
    """Runs of the territory: every department of the run is in it."""
    codes = _codes(user_or_codes)
    if not codes:
        return sa.false()
    each = _elements(session, MatchRun.departments)
    every = _elements(session, MatchRun.departments)
    return sa.and_(_any(every), ~_any(each, each.c.value.not_in(codes)))


def households(session: so.Session, user_or_codes: User | Iterable[str]) -> sa.ColumnElement[bool]:
    """Households of the territory: those its runs would match (see the module's docstring)."""
    codes = _codes(user_or_codes)
    if not codes:
        return sa.false()
    area_deps = _elements(session, Household.search_area, "departments")
    area_communes = _elements(session, Household.search_area, "communes")
    any_dep = _elements(session, Household.search_area, "departments")
    any_commune = _elements(session, Household.search_area, "communes")
    org_deps = _elements(session, Organisation.departments)
    in_area = sa.or_(_any(area_deps, area_deps.c.value.in_(codes)),
                     _any(area_communes, _department_of(area_communes.c.value).in_(codes)))
    area_empty = sa.and_(~_any(any_dep), ~_any(any_commune))
    association_in = (
        sa.select(sa.literal(1)).select_from(Organisation).join(org_deps, sa.true())
        .where(Organisation.id == Household.association_id, org_deps.c.value.in_(codes))
        .correlate(Household).exists()
    )
    return sa.or_(in_area, sa.and_(area_empty, association_in))


def units(user_or_codes: User | Iterable[str]) -> sa.ColumnElement[bool]:
    """Units of the territory: their department is in it."""
    codes = _codes(user_or_codes)
    return Unit.department.in_(codes) if codes else sa.false()


def proposals(session: so.Session, user_or_codes: User | Iterable[str]) -> sa.ColumnElement[bool]:
    """Proposals of the territory: of its runs; outside a run, with its unit and its household."""
    codes = _codes(user_or_codes)
    if not codes:
        return sa.false()
    of_runs = Proposal.run_id.in_(sa.select(MatchRun.id).where(runs(session, codes)))
    unit_in = Proposal.unit_id.in_(sa.select(Unit.id).where(units(codes)))
    household_in = Proposal.household_id.in_(sa.select(Household.id).where(households(session, codes)))
    return sa.or_(of_runs, sa.and_(Proposal.run_id.is_(None), unit_in, household_in))
