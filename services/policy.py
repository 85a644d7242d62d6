"""The matching policy's defaults and the policy a territory applies: one source.

The defaults are `matching.Policy`'s (the solver's own); a coordination team's saved
settings (`TerritoryPolicy`) override them for the departments it covers. The household
form shows the rent-burden ceiling of her territory from here, so a referent reads the
ceiling the matching applies to her.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

import matching
from models import Organisation
from models.runs import TerritoryPolicy
from services import territory

DEFAULTS = matching.Policy()
# The contract's policy keys a coordination team sets, with the solver's defaults.
DEFAULT_POLICY: dict[str, Any] = {
    "max_effort_rate": DEFAULTS.max_effort_rate,
    "candidates_per_unit": DEFAULTS.candidates_per_unit,
    "horizon_days": DEFAULTS.horizon_days,
}


def of_organisation(session: so.Session, organisation: Organisation | None) -> dict[str, Any]:
    """The policy a coordination team applies: the defaults, then its own settings."""
    saved: dict[str, Any] = {}
    if organisation is not None:
        saved = session.scalar(
            sa.select(TerritoryPolicy.policy).where(TerritoryPolicy.organisation_id == organisation.id)
        ) or {}
    return {**DEFAULT_POLICY, **saved}


def for_departments(session: so.Session, departments: Iterable[str]) -> dict[str, Any]:
    """The policy runs for these departments use: the coordination team's covering them, else defaults."""
    teams = territory.teams_covering(session, departments)
    return of_organisation(session, teams[0]) if teams else dict(DEFAULT_POLICY)


def department_of_commune(code: str) -> str:
    """The department of an INSEE commune code (971..976 overseas, 2A/2B Corsica)."""
    return code[:3] if code.startswith("97") else code[:2]


def household_departments(search_area: Mapping[str, Any] | None, fallback: Iterable[str] = ()) -> list[str]:
    """The departments a household looks in (her search area's, and her communes'), else
    `fallback` (her association's)."""
    area = search_area or {}
    found = list(dict.fromkeys([*(area.get("departments") or []),
                                *(department_of_commune(c) for c in area.get("communes") or [])]))
    return found or list(fallback)


def max_effort_rate(session: so.Session, departments: Iterable[str]) -> float:
    """The rent-burden ceiling the matching applies in these departments."""
    return float(for_departments(session, departments)["max_effort_rate"])
