"""Independent checker: re-validates a result with plain scalar code.

Nothing here is shared with the vectorised solver (:mod:`matching.rules`,
:mod:`matching.scoring`, :mod:`matching.solver`): the checker has its own haversine,
its own department rule, its own date arithmetic and its own score formulas, written
from the contract and from the documented score definition, one pair at a time.

:func:`check` verifies, for every proposal, every hard rule, and the invariants of a
result: one-to-one rank 1, at most ``candidates_per_unit`` proposals per unit ranked
1..n without gaps, components adding up to the score (and equal to the documented
formula), locked pairs at rank 1, forbidden pairs absent, every household without a
rank-1 proposal listed once in ``unmatched`` with valid reasons. When the instance is
small (``units x households <= optimality_limit``) it also re-solves the assignment
independently (``scipy.optimize.linear_sum_assignment``) and compares the rank-1 score
sum and the number of households matched per urgency level, and checks each unmatched household's reasons
exactly.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date

from matching.domain import (
    COMPONENTS,
    RULES,
    CommuneZone,
    DepartmentZone,
    Household,
    Instance,
    PointZone,
    Result,
    Unit,
    Violation,
    income_ceiling_for,
    unit_ceiling_row,
)

__all__ = ["check", "pair_components", "pair_failures", "urgency_step_cents"]

_EARTH_KM = 6371.0088
#: Tolerance when comparing a component recomputed here with the reported one (euros-like
#: points): both sides round to cents, a last-bit difference may move one cent.
_COMPONENT_TOLERANCE = 0.0101


def _dept(code: str) -> str:
    """Department of an INSEE commune code (contract: 3 characters for 97x)."""
    if code[0] == "9" and code[1] == "7":
        return code[0:3]
    return code[0:2]


def _great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1 = lat1 * math.pi / 180.0
    p2 = lat2 * math.pi / 180.0
    dp = p2 - p1
    dl = (lon2 - lon1) * math.pi / 180.0
    s = math.sin(dp / 2.0)
    t = math.sin(dl / 2.0)
    a = s * s + math.cos(p1) * math.cos(p2) * t * t
    a = min(1.0, max(0.0, a))
    return 2.0 * _EARTH_KM * math.asin(math.sqrt(a))


def _days(later: date, earlier: date) -> int:
    return (later - earlier).days


def _rule_ok(rule: str, instance: Instance, u: Unit, h: Household) -> bool:
    p = instance.policy
    persons = h.adults + h.children
    if rule == "dates":
        limit = instance.as_of.toordinal() + p.horizon_days
        return u.available_from.toordinal() <= limit and h.ready_from.toordinal() <= limit
    if rule == "size":
        lo, hi = p.occupancy[min(u.rooms, 6) - 1]
        if not lo <= persons <= hi:
            return False
        if u.surface_m2 is not None:
            need = 9.0 if persons == 1 else min(70.0, 16.0 + 9.0 * (persons - 2))
            return u.surface_m2 >= need
        return True
    if rule == "search_area":
        area = h.search_area
        if not area.communes and not area.departments:
            return True
        return u.commune in area.communes or _dept(u.commune) in area.departments
    if rule == "exclusion_zone":
        for z in h.exclusion_zones:
            if isinstance(z, PointZone):
                if u.lat is None or u.lon is None:
                    return False
                d = _great_circle_km(u.lat, u.lon, z.lat, z.lon)
                if not d - u.location_uncertainty_km > z.radius_km:
                    return False
            elif isinstance(z, CommuneZone):
                if u.commune == z.commune:
                    return False
            elif isinstance(z, DepartmentZone) and _dept(u.commune) == z.department:
                return False
        return True
    if rule == "wheelchair":
        return u.wheelchair_accessible or not h.needs_wheelchair_access
    if rule == "stairs":
        return (not h.needs_no_stairs) or u.floor == 0 or u.elevator
    if rule == "rent_burden":
        net = u.rent + u.charges - h.housing_allowance
        if h.monthly_income > 0:
            return net / h.monthly_income <= p.max_effort_rate
        return net <= 0
    if rule == "income_ceiling":
        row = unit_ceiling_row(p, u)
        if row is None or h.reference_income is None:
            return True
        return h.reference_income <= income_ceiling_for(row, h.ceiling_category)
    if rule == "forbidden":
        return not any(f.unit == u.id and f.household == h.id for f in instance.forbidden)
    raise ValueError(f"unknown rule {rule!r}")


def pair_failures(instance: Instance, unit: Unit, household: Household) -> list[str]:
    """The hard rules this pair breaks, in :data:`~matching.domain.RULES` order."""
    return [r for r in RULES if not _rule_ok(r, instance, unit, household)]


def _first_failure(instance: Instance, unit: Unit, household: Household,
                   forbidden: set[tuple[str, str]]) -> str | None:
    for r in RULES:
        if r == "forbidden":
            if (unit.id, household.id) in forbidden:
                return r
        elif not _rule_ok(r, instance, unit, household):
            return r
    return None


def urgency_step_cents(instance: Instance) -> int:
    """The urgency step in cents: the smallest power of ten >= 2 * M * R + 1.

    M = min(#units, #households) (at least 1) bounds the size of a matching, R is the
    largest sum of the non-urgency components of a pair, in cents.
    """
    w = instance.policy.score_weights
    r = (round(w.waiting_per_day * w.waiting_cap_days * 100) + round(w.location * 100)
         + round(w.fit * 100) + round(w.rent * 100) + round(w.availability * 100))
    m = max(1, min(len(instance.units), len(instance.households)))
    step = 100
    while step < 2 * m * r + 1:
        step *= 10
    return step


def pair_components(instance: Instance, u: Unit, h: Household, step_cents: int | None = None,
                    ) -> dict[str, int]:
    """Score components of a pair, in integer cents, by the documented formulas."""
    p = instance.policy
    w = p.score_weights
    step = urgency_step_cents(instance) if step_cents is None else step_cents
    persons = h.adults + h.children
    out: dict[str, int] = {"urgency": (h.urgency + 1) * step}
    waited = min(max(0, _days(instance.as_of, h.requested_on)), w.waiting_cap_days)
    out["waiting"] = round(w.waiting_per_day * waited * 100)
    loc = 0.0
    if h.preferred_points and u.lat is not None and u.lon is not None:
        best = math.inf
        for pt in h.preferred_points:
            dlon = (u.lon - pt.lon + 180.0) % 360.0 - 180.0
            x = math.radians(dlon) * math.cos(math.radians(pt.lat))
            y = math.radians(u.lat - pt.lat)
            best = min(best, _EARTH_KM * math.sqrt(x * x + y * y))
        loc = w.location * max(0.0, 1.0 - best / w.location_range_km)
    out["location"] = round(loc * 100)
    excess = max(0, u.rooms - persons - 1)
    out["fit"] = round(w.fit * max(0.0, 1.0 - 0.5 * excess) * 100)
    if h.monthly_income > 0:
        rate = (u.rent + u.charges - h.housing_allowance) / h.monthly_income
        rent = w.rent * min(1.0, max(0.0, 1.0 - rate / p.max_effort_rate))
    else:
        rent = w.rent
    out["rent"] = round(rent * 100)
    start = max(u.available_from, instance.as_of)
    ready = max(h.ready_from, instance.as_of)
    gap = abs(_days(start, ready))
    out["availability"] = round(
        w.availability * max(0.0, 1.0 - gap / max(p.horizon_days, 1)) * 100)
    return out


def _assignment(weights: list[list[int]]) -> list[tuple[int, int]]:
    """Maximum-weight matching of a dense non-negative matrix (0 = no edge)."""
    n_rows = len(weights)
    n_cols = len(weights[0]) if n_rows else 0
    if n_rows == 0 or n_cols == 0:
        return []
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.array(weights, dtype=float), maximize=True)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
    return [(r, c) for r, c in pairs if weights[r][c] > 0]


def _levels(urgencies: Sequence[int]) -> tuple[int, int, int, int]:
    return (sum(1 for x in urgencies if x >= 3), sum(1 for x in urgencies if x >= 2),
            sum(1 for x in urgencies if x >= 1), len(urgencies))


def check(instance: Instance, result: Result, *, optimality_limit: int = 200_000,
          ) -> list[Violation]:
    """Re-validate ``result`` against ``instance``; ``[]`` means valid.

    :param optimality_limit: re-solve independently (optimality, exact reasons) only
        when ``len(units) * len(households)`` is at most this.
    """
    out: list[Violation] = []
    units = {u.id: u for u in instance.units}
    households = {h.id: h for h in instance.households}
    k = instance.policy.candidates_per_unit
    forbidden = {(f.unit, f.household) for f in instance.forbidden}
    step = urgency_step_cents(instance)

    by_unit: dict[str, list[int]] = defaultdict(list)
    rank1_of_household: dict[str, list[str]] = defaultdict(list)
    rank1_of_unit: dict[str, str] = {}
    seen_pairs: set[tuple[str, str]] = set()
    for p in result.proposals:
        u, h = units.get(p.unit), households.get(p.household)
        if u is None or h is None:
            out.append(Violation("unknown_id", f"proposal names an unknown "
                                 f"{'unit' if u is None else 'household'}", p.unit, p.household))
            continue
        if (p.unit, p.household) in seen_pairs:
            out.append(Violation("duplicate", "the same pair is proposed twice",
                                 p.unit, p.household))
        seen_pairs.add((p.unit, p.household))
        by_unit[p.unit].append(p.rank)
        if p.rank == 1:
            rank1_of_household[p.household].append(p.unit)
            rank1_of_unit[p.unit] = p.household
        for rule in pair_failures(instance, u, h):
            out.append(Violation(rule, f'proposal breaks hard rule "{rule}" (rank {p.rank})',
                                 p.unit, p.household))
        total = sum(p.components.values())
        if abs(total - p.score) > 0.005 + 1e-12 * abs(p.score):
            out.append(Violation("components", f"components add up to {total}, "
                                 f"not to the score {p.score}", p.unit, p.household))
        expected = pair_components(instance, u, h, step)
        if set(p.components) != set(COMPONENTS):
            out.append(Violation("components", f"components must be {list(COMPONENTS)}",
                                 p.unit, p.household))
        else:
            for name, cents in expected.items():
                if abs(p.components[name] - cents / 100) > _COMPONENT_TOLERANCE:
                    out.append(Violation(
                        "score", f"component {name} is {p.components[name]}, "
                        f"expected {cents / 100}", p.unit, p.household))

    for unit_id, ranks in by_unit.items():
        if sorted(ranks) != list(range(1, len(ranks) + 1)):
            out.append(Violation("ranks", f"ranks {sorted(ranks)} are not 1..n without gaps",
                                 unit_id))
        if len(ranks) > k:
            out.append(Violation("ranks", f"{len(ranks)} proposals, more than "
                                 f"candidates_per_unit = {k}", unit_id))
    for hid, unit_ids in rank1_of_household.items():
        if len(unit_ids) > 1:
            out.append(Violation("one_to_one", f"household has {len(unit_ids)} rank-1 "
                                 f"proposals ({', '.join(sorted(unit_ids))})", None, hid))
    for pair in instance.locked:
        if rank1_of_unit.get(pair.unit) != pair.household:
            out.append(Violation("locked", "locked pair is not the rank-1 proposal of its unit",
                                 pair.unit, pair.household))

    listed: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for um in result.unmatched:
        listed[um.household].append(um.reasons)
        if um.household not in households:
            out.append(Violation("unknown_id", "unmatched names an unknown household",
                                 None, um.household))
        if um.household in rank1_of_household:
            out.append(Violation("unmatched", "household has a rank-1 proposal but is listed "
                                 "as unmatched", None, um.household))
        valid = set(RULES) | {"competition"}
        bad = [r for r in um.reasons if r not in valid]
        if bad or not um.reasons and instance.units:
            out.append(Violation("reasons", f"reasons {list(um.reasons)} must be non-empty "
                                 f"names among {sorted(valid)}", None, um.household))
    for h in instance.households:
        if h.id not in rank1_of_household and len(listed.get(h.id, [])) != 1:
            out.append(Violation("unmatched", "household without a rank-1 proposal must be "
                                 "listed exactly once in unmatched", None, h.id))

    if len(instance.units) * len(instance.households) <= optimality_limit:
        out.extend(_check_small(instance, result, listed, forbidden, step))
    return out


def _check_small(instance: Instance, result: Result,
                 listed: Mapping[str, list[tuple[str, ...]]],
                 forbidden: set[tuple[str, str]], step: int) -> list[Violation]:
    """Exact reasons and optimality, by enumerating every pair."""
    out: list[Violation] = []
    locked_units = {p.unit: p.household for p in instance.locked}
    locked_households = {p.household for p in instance.locked}
    free_units = [u for u in instance.units if u.id not in locked_units]
    free_households = [h for h in instance.households if h.id not in locked_households]
    col = {u.id: j for j, u in enumerate(free_units)}
    row = {h.id: i for i, h in enumerate(free_households)}
    weights = [[0] * len(free_units) for _ in free_households]
    for h in instance.households:
        first: list[str] = []
        feasible = False
        for u in instance.units:
            fail = _first_failure(instance, u, h, forbidden)
            if fail is None:
                feasible = True
                if h.id in row and u.id in col:
                    weights[row[h.id]][col[u.id]] = sum(
                        pair_components(instance, u, h, step).values())
            elif fail not in first:
                first.append(fail)
        expected = ("competition",) if feasible else tuple(r for r in RULES if r in first)
        for reasons in listed.get(h.id, []):
            if tuple(reasons) != expected:
                out.append(Violation("reasons", f"reasons {list(reasons)}, expected "
                                     f"{list(expected)}", None, h.id))
    urg = {h.id: h.urgency for h in instance.households}
    units = {u.id: u for u in instance.units}
    households = {h.id: h for h in instance.households}
    best = 0
    best_urgencies = [urg[h] for h in locked_units.values()]
    for uid, hid in locked_units.items():
        best += sum(pair_components(instance, units[uid], households[hid], step).values())
    for r, c in _assignment(weights):
        best += weights[r][c]
        best_urgencies.append(free_households[r].urgency)
    got = sum(p.score for p in result.proposals if p.rank == 1)
    got_urgencies = [urg[p.household] for p in result.proposals
                     if p.rank == 1 and p.household in urg]
    tol = instance.policy.qpv_score_tolerance
    slack = 0.01 * (len(got_urgencies) + 1) * len(COMPONENTS)
    if got < best / 100 * (1 - tol) - slack or got > best / 100 + slack:
        out.append(Violation("optimality", f"rank-1 score sum {got:.2f}, independent optimum "
                             f"{best / 100:.2f} (tolerance {tol})"))
    if _levels(got_urgencies) != _levels(best_urgencies):
        out.append(Violation("urgency", f"households matched at urgency >= 3, 2, 1, 0: "
                             f"{_levels(got_urgencies)}, optimum {_levels(best_urgencies)}"))
    return out
