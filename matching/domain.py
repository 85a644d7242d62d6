"""Typed domain objects of the matching contract (``passerelle.instance/1``).

Field names are the contract's JSON names in snake_case, so ``Unit.rooms`` is the
``rooms`` of a unit record. Everything is a frozen dataclass: an :class:`Instance`
goes into :func:`matching.solve`, a :class:`Result` comes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "COMPONENTS",
    "INSTANCE_FORMAT",
    "RESULT_FORMAT",
    "RULES",
    "CommuneZone",
    "DepartmentZone",
    "ExclusionZone",
    "Household",
    "Instance",
    "InstanceError",
    "PairRef",
    "PointZone",
    "Policy",
    "PreferredPoint",
    "Proposal",
    "Result",
    "ScoreWeights",
    "SearchArea",
    "Unit",
    "Unmatched",
    "Violation",
    "income_ceiling_for",
    "unit_ceiling_row",
]

INSTANCE_FORMAT = "passerelle.instance/1"
RESULT_FORMAT = "passerelle.result/1"

#: The hard rules, in the order used to attribute a removed pair to one rule
#: (see :mod:`matching.rules`). ``decisions`` (rule 8) appears as ``forbidden``.
RULES: tuple[str, ...] = (
    "dates",
    "size",
    "search_area",
    "exclusion_zone",
    "wheelchair",
    "stairs",
    "rent_burden",
    "income_ceiling",
    "forbidden",
)

#: Score components of a proposal, in output order (see :mod:`matching.scoring`).
COMPONENTS: tuple[str, ...] = ("urgency", "waiting", "location", "fit", "rent", "availability")

#: Occupancy default of the contract: persons allowed per number of rooms 1..6+.
DEFAULT_OCCUPANCY: tuple[tuple[int, int], ...] = ((1, 2), (1, 3), (2, 5), (3, 7), (4, 9), (5, 10))


def income_ceiling_for(row: Sequence[float], category: int) -> float:
    """Rule 9's ceiling of a household category in a ceilings row.

    ``row`` holds the ceilings of categories 1..6, then optionally the amount added per
    category past 6 (the official "par personne supplémentaire"; 0 when absent, which is
    the contract's "6+" reading).
    """
    extra = row[6] if len(row) > 6 else 0.0
    return float(row[min(category, 6) - 1] + max(0, category - 6) * extra)


def unit_ceiling_row(policy: Policy, unit: Unit) -> tuple[float, ...] | None:
    """The ceilings row rule 9 applies to a unit: the run's ``income_ceilings`` of its
    financing when set, else the unit's own ``income_ceiling``; None when neither."""
    if policy.income_ceilings is not None and unit.financing is not None \
            and unit.financing in policy.income_ceilings:
        return tuple(policy.income_ceilings[unit.financing])
    return unit.income_ceiling


class InstanceError(ValueError):
    """Bad input: the message names the record and the field."""


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Weights of the score components, in points (see :mod:`matching.scoring`).

    Not a contract key: an instance may set them under ``policy.score_weights``.
    """

    waiting_per_day: float = 1.0
    waiting_cap_days: int = 730
    location: float = 200.0
    location_range_km: float = 30.0
    fit: float = 100.0
    rent: float = 100.0
    availability: float = 100.0


@dataclass(frozen=True, slots=True)
class Policy:
    """Policy keys of the contract, with its defaults."""

    max_effort_rate: float = 0.30
    candidates_per_unit: int = 3
    horizon_days: int = 90
    #: ``occupancy[r - 1]`` is ``(lo, hi)`` for ``r`` rooms, ``r`` = 1..6 (6 means 6 and more).
    occupancy: tuple[tuple[int, int], ...] = DEFAULT_OCCUPANCY
    #: financing -> annual ceilings for categories 1..6, then optionally the amount per
    #: category past 6 (see :func:`income_ceiling_for`). A run setting: it wins over a
    #: unit's own ``income_ceiling``.
    income_ceilings: Mapping[str, tuple[float, ...]] | None = None
    lowest_quartile_income: float | None = None
    qpv_lowest_quartile_share: float | None = None
    qpv_score_tolerance: float = 0.0
    score_weights: ScoreWeights = field(default_factory=ScoreWeights)


@dataclass(frozen=True, slots=True)
class SearchArea:
    """Communes and departments a household accepts; both empty means anywhere."""

    communes: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when the household accepts any place."""
        return not self.communes and not self.departments


@dataclass(frozen=True, slots=True)
class PointZone:
    """A disc she must never be housed in: ``radius_km`` around a point."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class CommuneZone:
    """A whole commune she must never be housed in (INSEE code)."""

    commune: str


@dataclass(frozen=True, slots=True)
class DepartmentZone:
    """A whole department she must never be housed in."""

    department: str


ExclusionZone = PointZone | CommuneZone | DepartmentZone


@dataclass(frozen=True, slots=True)
class PreferredPoint:
    """A place she would like to live near (school, work...)."""

    lat: float
    lon: float
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    """A social housing unit offered for matching."""

    id: str
    landlord: str
    commune: str
    lat: float | None
    lon: float | None
    rooms: int
    floor: int
    elevator: bool
    wheelchair_accessible: bool
    rent: float
    charges: float
    in_qpv: bool
    available_from: date
    surface_m2: float | None = None
    location_uncertainty_km: float = 0.0
    financing: str | None = None
    #: The annual ceilings of this unit's financing in its zone, for household categories
    #: 1..6 and optionally the amount per category past 6 (an addition to the contract:
    #: ceilings depend on the zone as well as on the financing).
    income_ceiling: tuple[float, ...] | None = None

    @property
    def department(self) -> str:
        """Department code of the unit's commune (contract rule)."""
        return self.commune[:3] if self.commune.startswith("97") else self.commune[:2]


@dataclass(frozen=True, slots=True)
class Household:
    """A household looking for a unit."""

    id: str
    association: str
    adults: int
    children: int
    monthly_income: float
    housing_allowance: float
    needs_wheelchair_access: bool
    needs_no_stairs: bool
    urgency: int
    requested_on: date
    ready_from: date
    reference_income: float | None = None
    priority_categories: tuple[str, ...] = ()
    search_area: SearchArea = field(default_factory=SearchArea)
    exclusion_zones: tuple[ExclusionZone, ...] = ()
    preferred_points: tuple[PreferredPoint, ...] = ()
    #: The official household category of the income ceilings (an addition to the
    #: contract: a single parent or a household with a disabled member is one category
    #: above its number of persons); absent, the number of persons.
    income_category: int | None = None

    @property
    def persons(self) -> int:
        """Adults plus children."""
        return self.adults + self.children

    @property
    def ceiling_category(self) -> int:
        """The category rule 9 reads: ``income_category``, else the number of persons."""
        return self.income_category if self.income_category is not None else self.persons


@dataclass(frozen=True, slots=True)
class PairRef:
    """A (unit, household) pair named by ids: a locked or forbidden decision."""

    unit: str
    household: str


@dataclass(frozen=True, slots=True)
class Instance:
    """Everything the solver needs: policy, units, households and decisions."""

    as_of: date
    policy: Policy
    units: tuple[Unit, ...]
    households: tuple[Household, ...]
    locked: tuple[PairRef, ...] = ()
    forbidden: tuple[PairRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """A unit proposed to a household at a rank (1 = the optimal assignment).

    ``components`` add up to ``score``. ``score_gap`` (an addition to the contract)
    is the rank-1 score of the unit minus this score: 0 at rank 1.
    """

    unit: str
    household: str
    rank: int
    score: float
    components: Mapping[str, float]
    score_gap: float = 0.0


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A household without a rank-1 proposal and the rules that blocked it."""

    household: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Result:
    """Proposals, unmatched households and statistics of one solver run."""

    proposals: tuple[Proposal, ...]
    unmatched: tuple[Unmatched, ...]
    stats: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule or invariant found by :func:`matching.check`."""

    code: str
    message: str
    unit: str | None = None
    household: str | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
