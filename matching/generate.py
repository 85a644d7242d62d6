"""Realistic synthetic instances (deterministic given the seed).

Real communes and departments come from :mod:`matching.geo`; units and households are
placed by commune population. Distributions follow the domain notes: mostly one adult
with children, urgency mostly 1-2 with some 3, incomes near the minimum with housing
allowances, rents by room count and financing (higher in Paris and its inner ring),
search areas of 1-4 departments (sometimes a list of communes, rarely anywhere),
exclusion zones around points near the household's origin plus its commune or
department, preferred points near her search area.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from matching.domain import (
    CommuneZone,
    DepartmentZone,
    ExclusionZone,
    Household,
    Instance,
    PairRef,
    PointZone,
    Policy,
    PreferredPoint,
    SearchArea,
    Unit,
)

__all__ = ["DEFAULT_DEPARTMENTS", "DENSE_DEPARTMENTS", "SHAPES", "generate"]

#: Hauts-de-France and Ile-de-France.
DEFAULT_DEPARTMENTS: tuple[str, ...] = (
    "59", "62", "80", "02", "60", "75", "93", "92", "94", "91", "77", "78", "95")
#: The dense shape: Ile-de-France, 8 departments within 60 km of each other.
DENSE_DEPARTMENTS: tuple[str, ...] = ("75", "92", "93", "94", "91", "77", "78", "95")
#: ``sparse``: households search a few communes or 1-4 nearby departments of a wide
#: region (about 2% of pairs feasible); ``dense``: Ile-de-France shaped, every household
#: searches 1 to 4 of its 8 departments, which all lie close together (about 10%).
SHAPES = ("sparse", "dense")
_INNER_RING = {"75", "92", "93", "94"}
_OUTER_RING = {"91", "77", "78", "95"}
#: Communes split into arrondissements: the arrondissements are used instead.
_SPLIT = {"75056", "13055", "69123"}
_CEILINGS = {
    "PLAI": (12009.0, 17497.0, 21040.0, 23409.0, 27390.0, 30868.0),
    "PLUS": (21831.0, 29155.0, 35060.0, 42328.0, 49795.0, 56118.0),
    "PLS": (28380.0, 37902.0, 45578.0, 55026.0, 64734.0, 72953.0),
}
_RENT_PER_M2 = {"PLAI": 5.6, "PLUS": 6.3, "PLS": 9.2}


def _disc(rng: np.random.Generator, lat: float, lon: float, radius_km: float,
          ) -> tuple[float, float]:
    """A uniform random point within ``radius_km`` of (lat, lon)."""
    r = radius_km * float(np.sqrt(rng.random()))
    a = 2 * np.pi * float(rng.random())
    dlat = r * np.cos(a) / 111.195
    dlon = r * np.sin(a) / (111.195 * max(0.1, float(np.cos(np.radians(lat)))))
    return round(float(lat + dlat), 6), round(float(lon + dlon), 6)


def generate(households: int, units: int, seed: int = 0, *,
             departments: Sequence[str] = DEFAULT_DEPARTMENTS,
             as_of: date = date(2026, 11, 22), locked: int | None = None,
             forbidden: int | None = None, shape: str = "sparse") -> Instance:
    """A realistic instance of ``households`` x ``units`` on real communes.

    :param shape: ``"sparse"`` (the default, unchanged) or ``"dense"``: Ile-de-France
        shaped (:data:`DENSE_DEPARTMENTS` unless ``departments`` is given), every
        household searching 1 to 4 departments, never a list of communes, and no
        preference for departments near her origin (they are all within 60 km).
    """
    from matching import geo

    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r} (expected one of {', '.join(SHAPES)})")
    dense = shape == "dense"
    if dense and departments is DEFAULT_DEPARTMENTS:
        departments = DENSE_DEPARTMENTS
    rng = np.random.default_rng(seed)
    wanted = set(departments)
    pool = sorted((c for c in geo.communes().values()
                   if c.department in wanted and c.code not in _SPLIT),
                  key=lambda c: c.code)
    if not pool:
        raise ValueError(f"no commune in departments {list(departments)}")
    weight = np.array([max(c.population, 50) for c in pool], dtype=np.float64)
    weight /= weight.sum()
    depts = sorted({c.department for c in pool})
    centre = {}
    for d in depts:
        idx = [i for i, c in enumerate(pool) if c.department == d]
        wd = weight[idx] / weight[idx].sum()
        centre[d] = (float(np.dot(wd, [pool[i].lat for i in idx])),
                     float(np.dot(wd, [pool[i].lon for i in idx])))
    dept_of_pool = np.array([c.department for c in pool])
    by_dept = {d: np.flatnonzero(dept_of_pool == d) for d in depts}
    cum_weight = np.cumsum(weight)

    def km(a: tuple[float, float], b: tuple[float, float]) -> float:
        return geo.haversine_km(a[0], a[1], b[0], b[1])

    dist = np.array([[km(centre[a], centre[b]) for b in depts] for a in depts])
    width = len(str(max(units, households, 1)))

    # Units.
    u_comm = rng.choice(len(pool), size=units, p=weight)
    u_rooms = rng.choice([1, 2, 3, 4, 5, 6, 7], size=units,
                         p=[0.10, 0.25, 0.34, 0.20, 0.08, 0.02, 0.01])
    fin_names = ["PLAI", "PLUS", "PLS"]
    u_fin = rng.choice(3, size=units, p=[0.25, 0.60, 0.15])
    unit_list: list[Unit] = []
    for i in range(units):
        c = pool[int(u_comm[i])]
        rooms = int(u_rooms[i])
        surface = max(14.0, 14.0 + 16.0 * rooms + float(rng.normal(0, 5)))
        fin = fin_names[int(u_fin[i])]
        factor = 1.35 if c.department in _INNER_RING else 1.15 if c.department in _OUTER_RING \
            else 1.0
        if dense:
            # The dense shape is about how many pairs are feasible (about 10%): rents at
            # the lower end of the region's (older stock), not the inner ring's premium.
            factor = 0.8
        rent = round(surface * _RENT_PER_M2[fin] * factor * float(rng.uniform(0.85, 1.15)), 2)
        charges = round(surface * float(rng.uniform(1.2, 2.0)), 2)
        floor = int(min(12, rng.geometric(0.3) - 1))
        elevator = bool(rng.random() < (0.9 if floor >= 4 else 0.4 if floor >= 1 else 0.3))
        lat: float | None
        lon: float | None
        unc = 0.0
        roll = rng.random()
        if roll < 0.02:
            lat = lon = None
        elif roll < 0.07:
            lat, lon, unc = c.lat, c.lon, c.radius_km
        else:
            lat, lon = _disc(rng, c.lat, c.lon, 0.8 * c.radius_km)
        unit_list.append(Unit(
            id=f"U-{i + 1:0{width}d}", landlord=f"L-{int(rng.integers(1, 18)):02d}",
            commune=c.code, lat=lat, lon=lon, rooms=rooms, floor=floor, elevator=elevator,
            wheelchair_accessible=bool((floor == 0 or elevator) and rng.random() < 0.10),
            rent=rent, charges=charges, in_qpv=bool(rng.random() < 0.3),
            # Dense: every unit within the horizon (the dates rule removes no pair).
            available_from=as_of + timedelta(days=int(rng.integers(-30, 91 if dense else 121))),
            surface_m2=None if rng.random() < 0.1 else round(surface, 1),
            location_uncertainty_km=unc, financing=fin,
        ))

    # Households.
    h_comm = rng.choice(len(pool), size=households, p=weight)
    adults = rng.choice([1, 2], size=households, p=[0.88, 0.12])
    children = rng.choice(6, size=households, p=[0.22, 0.30, 0.26, 0.13, 0.06, 0.03])
    urgency = rng.choice(4, size=households, p=[0.05, 0.45, 0.35, 0.15])
    hh_list: list[Household] = []
    for i in range(households):
        origin = pool[int(h_comm[i])]
        d0 = depts.index(origin.department)
        persons = int(adults[i] + children[i])
        if rng.random() < 0.06:
            income = 0.0
        else:
            income = float(np.clip(rng.lognormal(np.log(1100 + 120 * children[i]), 0.4),
                                   350, 4500))
        allowance = 0.0 if rng.random() < 0.1 else max(
            0.0, 120 + 75 * persons - 0.22 * income + float(rng.normal(0, 20)))
        zones: list[ExclusionZone] = []
        if rng.random() < 0.85:
            px, py = _disc(rng, origin.lat, origin.lon, 3.0)
            zones.append(PointZone(lat=px, lon=py, radius_km=float(rng.choice([5, 10, 15, 20]))))
        if rng.random() < 0.2:
            other = pool[min(len(pool) - 1, int(np.searchsorted(cum_weight, rng.random())))]
            zones.append(PointZone(lat=other.lat, lon=other.lon, radius_km=5.0))
        if rng.random() < 0.4:
            zones.append(CommuneZone(commune=origin.code))
        excl_dept = rng.random() < 0.2
        if excl_dept:
            zones.append(DepartmentZone(department=origin.department))
        # Search area: 1-4 departments near the origin, often leaving it.
        roll = rng.random()
        area = SearchArea()
        # Dense: every department is near (uniform choice among them).
        near = np.ones(len(depts)) if dense else np.exp(-dist[d0] / 80.0)
        # (the draw is made exactly when the sparse shape always made it: same instances)
        if excl_dept or (rng.random() < 0.6 and not dense):
            near[d0] = 0.0
        near /= near.sum()
        n_areas = [0.1, 0.2, 0.3, 0.4] if dense else [0.35, 0.3, 0.2, 0.15]
        chosen = [depts[j] for j in sorted(rng.choice(
            len(depts), size=min(int(rng.choice([1, 2, 3, 4], p=n_areas)),
                                 int((near > 0).sum())), replace=False, p=near))]
        if roll < 0.85 or dense:
            area = SearchArea(departments=tuple(chosen))
        elif roll < 0.95:
            cands = by_dept[chosen[0]]
            picks = cands[rng.integers(len(cands), size=int(rng.integers(1, 6)))]
            area = SearchArea(communes=tuple(sorted({pool[int(j)].code for j in picks})))
        prefs: list[PreferredPoint] = []
        for _ in range(int(rng.choice(3, p=[0.5, 0.35, 0.15]))):
            cands = by_dept[chosen[int(rng.integers(len(chosen)))]]
            place = pool[int(cands[rng.integers(len(cands))])]
            x, y = _disc(rng, place.lat, place.lon, 2.0)
            prefs.append(PreferredPoint(lat=x, lon=y,
                                        label=str(rng.choice(["school", "work", "family"]))))
        hh_list.append(Household(
            id=f"H-{i + 1:0{width}d}", association=f"A-{int(rng.integers(1, 13)):02d}",
            adults=int(adults[i]), children=int(children[i]),
            monthly_income=round(income, 2), housing_allowance=round(allowance, 2),
            needs_wheelchair_access=bool(rng.random() < 0.03),
            needs_no_stairs=bool(rng.random() < 0.08), urgency=int(urgency[i]),
            requested_on=as_of - timedelta(days=int(min(1500, rng.exponential(240)))),
            ready_from=as_of + timedelta(days=int(rng.integers(-60, 91 if dense else 121))),
            reference_income=None if rng.random() < 0.15 or income == 0 else round(
                income * 12 * float(rng.uniform(0.7, 1.0))),
            priority_categories=("violence",) if rng.random() < 0.9 else ("violence", "dalo"),
            search_area=area, exclusion_zones=tuple(zones), preferred_points=tuple(prefs),
        ))

    policy = Policy(income_ceilings=dict(_CEILINGS), lowest_quartile_income=750.0,
                    qpv_lowest_quartile_share=0.25)
    base = Instance(as_of=as_of, policy=policy, units=tuple(unit_list),
                    households=tuple(hh_list))
    n_locked = min(3, households // 40) if locked is None else locked
    n_forbidden = households // 100 if forbidden is None else forbidden
    return _decisions(rng, base, n_locked, n_forbidden)


def _decisions(rng: np.random.Generator, base: Instance, n_locked: int, n_forbidden: int,
               ) -> Instance:
    """Add locked pairs (feasible ones) and forbidden pairs (same-area ones)."""
    from matching.validation import pair_failures

    if not base.units or not base.households:
        return base
    locked: list[PairRef] = []
    used_u: set[int] = set()
    used_h: set[int] = set()
    tries = 0
    while len(locked) < n_locked and tries < 400 * max(1, n_locked):
        tries += 1
        i = int(rng.integers(len(base.units)))
        j = int(rng.integers(len(base.households)))
        if i in used_u or j in used_h:
            continue
        if not pair_failures(base, base.units[i], base.households[j]):
            locked.append(PairRef(unit=base.units[i].id, household=base.households[j].id))
            used_u.add(i)
            used_h.add(j)
    forbidden: list[PairRef] = []
    seen: set[tuple[int, int]] = set()
    tries = 0
    while len(forbidden) < n_forbidden and tries < 50 * max(1, n_forbidden):
        tries += 1
        i = int(rng.integers(len(base.units)))
        j = int(rng.integers(len(base.households)))
        if (i, j) in seen or (i in used_u and j in used_h):
            continue
        area = base.households[j].search_area
        if area.departments and base.units[i].department not in area.departments:
            continue
        seen.add((i, j))
        forbidden.append(PairRef(unit=base.units[i].id, household=base.households[j].id))
    return Instance(as_of=base.as_of, policy=base.policy, units=base.units,
                    households=base.households, locked=tuple(locked),
                    forbidden=tuple(forbidden))
