"""The nine hard rules, vectorised over candidate pairs, and candidate generation.

Each rule is one function ``rule(t, u, h) -> mask``: ``u`` and ``h`` are equal-length
integer arrays of unit and household indices (a list of pairs), the mask is True where
the pair satisfies the rule. :class:`Tables` holds the instance as numpy columns.

Candidate generation never loops over households x units. Available units are
bucketed by (department, room class) and by (commune, room class); a ready household
only meets the buckets of her search area (all departments when she has none), minus
her excluded departments, and of the room classes her size allows. The remaining rules
run on those pairs, cheapest first; point zones use a latitude band before the exact
haversine test.

Attribution ("how many pairs each rule removed", and the reasons of an unmatched
household) follows a fixed cascade over *all* units x households: a pair is counted
for the first rule it breaks in the order of :data:`~matching.domain.RULES`
(dates, size, search_area, exclusion_zone, wheelchair, stairs, rent_burden,
income_ceiling, forbidden). The pairs that buckets prune are counted analytically
from per-bucket counts; the others as the masks are applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.domain import (
    RULES,
    CommuneZone,
    DepartmentZone,
    Instance,
    PointZone,
    unit_ceiling_row,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "RULE_FUNCTIONS",
    "Block",
    "Candidates",
    "Tables",
    "build_tables",
    "dates",
    "department_codes",
    "exclusion_zone",
    "forbidden",
    "haversine_km",
    "income_ceiling",
    "rent_burden",
    "search_area",
    "size",
    "stairs",
    "wheelchair",
]

EARTH_RADIUS_KM = 6371.0088

IntArray = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def department_codes(communes: Sequence[str]) -> list[str]:
    """Department code of each INSEE commune code (first 2 characters, 3 for 97x)."""
    return [c[:3] if c.startswith("97") else c[:2] for c in communes]


@dataclass(frozen=True, slots=True)
class Ragged:
    """Per-household lists, flattened: household ``h`` owns ``values[off[h]:off[h+1]]``."""

    off: IntArray
    count: IntArray
    max: int

    @staticmethod
    def of(counts: Sequence[int]) -> Ragged:
        count = np.asarray(counts, dtype=np.int64)
        off = np.zeros(len(count) + 1, dtype=np.int64)
        np.cumsum(count, out=off[1:])
        return Ragged(off=off, count=count, max=int(count.max()) if len(count) else 0)

    def slots(self, h: IntArray) -> Iterator[tuple[BoolArray, IntArray]]:
        """For slot j = 0..max-1: the pairs whose household has a j-th item, and its index."""
        cnt = self.count[h]
        for j in range(self.max):
            sel = cnt > j
            if sel.any():
                yield sel, self.off[h[sel]] + j


@dataclass(frozen=True, slots=True)
class Tables:
    """An instance as numpy columns (units ``u_*``, households ``h_*``)."""

    n_u: int
    n_h: int
    as_of: int
    horizon: int
    max_rate: float
    dept_codes: tuple[str, ...]
    commune_codes: tuple[str, ...]
    commune_dept: IntArray
    occ_lo: IntArray
    occ_hi: IntArray
    #: Per unit: the ceilings of categories 1..6 and the amount per category past 6
    #: (+inf and 0 when rule 9 does not apply to the unit).
    u_ceil: FloatArray
    # units
    u_dept: IntArray
    u_commune: IntArray
    u_rooms: IntArray
    u_class: IntArray
    u_surface: FloatArray
    u_floor: IntArray
    u_elevator: BoolArray
    u_wheelchair: BoolArray
    u_cost: FloatArray
    u_fin: IntArray
    u_qpv: BoolArray
    u_avail: IntArray
    u_lat: FloatArray
    u_lon: FloatArray
    u_has_xy: BoolArray
    u_unc: FloatArray
    u_phi: FloatArray
    u_cos: FloatArray
    # households
    h_persons: IntArray
    h_cat: IntArray
    h_need: FloatArray
    h_income: FloatArray
    h_allowance: FloatArray
    h_ref: FloatArray
    h_wheelchair: BoolArray
    h_no_stairs: BoolArray
    h_urgency: IntArray
    h_requested: IntArray
    h_ready: IntArray
    h_has_area: BoolArray
    sa_dept: Ragged
    sa_dept_v: IntArray
    sa_comm: Ragged
    sa_comm_v: IntArray
    x_dept: Ragged
    x_dept_v: IntArray
    x_comm: Ragged
    x_comm_v: IntArray
    x_pt: Ragged
    x_pt_phi: FloatArray
    x_pt_lam: FloatArray
    x_pt_cos: FloatArray
    x_pt_r: FloatArray
    h_has_point_zone: BoolArray
    pref: Ragged
    pref_lat: FloatArray
    pref_lon: FloatArray
    pref_cos: FloatArray
    forbidden_keys: IntArray
    h_has_forbidden: BoolArray


def build_tables(instance: Instance) -> Tables:
    """Columns of ``instance``: one pass over units and households."""
    p = instance.policy
    units, households = instance.units, instance.households
    communes: dict[str, int] = {}
    for u in units:
        communes.setdefault(u.commune, len(communes))
    for h in households:
        for c in h.search_area.communes:
            communes.setdefault(c, len(communes))
        for z in h.exclusion_zones:
            if isinstance(z, CommuneZone):
                communes.setdefault(z.commune, len(communes))
    commune_codes = tuple(communes)
    depts: dict[str, int] = {}
    for d in department_codes(commune_codes):
        depts.setdefault(d, len(depts))
    for h in households:
        for d in h.search_area.departments:
            depts.setdefault(d, len(depts))
        for z in h.exclusion_zones:
            if isinstance(z, DepartmentZone):
                depts.setdefault(z.department, len(depts))
    commune_dept = np.array([depts[d] for d in department_codes(commune_codes)], dtype=np.int64)
    fins: dict[str, int] = {}
    for u in units:
        if u.financing is not None:
            fins.setdefault(u.financing, len(fins))
    u_ceil = np.full((len(units), 7), np.inf)
    u_ceil[:, 6] = 0.0
    for i, u in enumerate(units):
        row = unit_ceiling_row(p, u)
        if row is not None:
            u_ceil[i, :6] = row[:6]
            u_ceil[i, 6] = row[6] if len(row) > 6 else 0.0
    occ_lo = np.zeros(7, dtype=np.int64)
    occ_hi = np.full(7, -1, dtype=np.int64)
    for r, (lo, hi) in enumerate(p.occupancy, start=1):
        occ_lo[r], occ_hi[r] = lo, hi

    def col(values: Sequence[float | int | bool | None], dtype: type) -> npt.NDArray[np.generic]:
        return np.array(values, dtype=dtype)

    persons = np.array([h.persons for h in households], dtype=np.int64)
    u_lat = col([np.nan if u.lat is None else u.lat for u in units], np.float64)
    u_lon = col([np.nan if u.lon is None else u.lon for u in units], np.float64)
    u_phi = np.radians(u_lat)
    rooms = col([u.rooms for u in units], np.int64).astype(np.int64)

    def ragged(lists: list[list[int]]) -> tuple[Ragged, IntArray]:
        lists = [list(dict.fromkeys(sub)) for sub in lists]  # duplicates count once
        flat = [x for sub in lists for x in sub]
        return Ragged.of([len(s) for s in lists]), np.array(flat, dtype=np.int64)

    sa_dept, sa_dept_v = ragged([[depts[d] for d in h.search_area.departments]
                                 for h in households])
    sa_comm, sa_comm_v = ragged([[communes[c] for c in h.search_area.communes]
                                 for h in households])
    x_dept, x_dept_v = ragged([[depts[z.department] for z in h.exclusion_zones
                                if isinstance(z, DepartmentZone)] for h in households])
    x_comm, x_comm_v = ragged([[communes[z.commune] for z in h.exclusion_zones
                                if isinstance(z, CommuneZone)] for h in households])
    points = [[z for z in h.exclusion_zones if isinstance(z, PointZone)] for h in households]
    x_pt = Ragged.of([len(s) for s in points])
    flat_pts = [z for s in points for z in s]
    x_pt_lat = np.array([z.lat for z in flat_pts], dtype=np.float64)
    prefs = [list(h.preferred_points) for h in households]
    pref = Ragged.of([len(s) for s in prefs])
    flat_pref = [q for s in prefs for q in s]
    pref_lat = np.array([q.lat for q in flat_pref], dtype=np.float64)
    keys = []
    uid = {u.id: i for i, u in enumerate(units)}
    hid = {h.id: i for i, h in enumerate(households)}
    for f in instance.forbidden:
        keys.append(hid[f.household] * len(units) + uid[f.unit])
    return Tables(
        n_u=len(units),
        n_h=len(households),
        as_of=instance.as_of.toordinal(),
        horizon=instance.as_of.toordinal() + p.horizon_days,
        max_rate=p.max_effort_rate,
        dept_codes=tuple(depts),
        commune_codes=commune_codes,
        commune_dept=commune_dept,
        occ_lo=occ_lo,
        occ_hi=occ_hi,
        u_ceil=u_ceil,
        u_dept=commune_dept[np.array([communes[u.commune] for u in units], dtype=np.int64)]
        if units else np.zeros(0, dtype=np.int64),
        u_commune=np.array([communes[u.commune] for u in units], dtype=np.int64),
        u_rooms=rooms,
        u_class=np.minimum(rooms, 6),
        u_surface=col([np.nan if u.surface_m2 is None else u.surface_m2 for u in units],
                      np.float64).astype(np.float64),
        u_floor=col([u.floor for u in units], np.int64).astype(np.int64),
        u_elevator=col([u.elevator for u in units], np.bool_).astype(np.bool_),
        u_wheelchair=col([u.wheelchair_accessible for u in units], np.bool_).astype(np.bool_),
        u_cost=col([u.rent + u.charges for u in units], np.float64).astype(np.float64),
        u_fin=col([-1 if u.financing is None else fins[u.financing] for u in units],
                  np.int64).astype(np.int64),
        u_qpv=col([u.in_qpv for u in units], np.bool_).astype(np.bool_),
        u_avail=col([u.available_from.toordinal() for u in units], np.int64).astype(np.int64),
        u_lat=u_lat.astype(np.float64),
        u_lon=u_lon.astype(np.float64),
        u_has_xy=~np.isnan(u_lat),
        u_unc=col([u.location_uncertainty_km for u in units], np.float64).astype(np.float64),
        u_phi=u_phi.astype(np.float64),
        u_cos=np.cos(u_phi).astype(np.float64),
        h_persons=persons,
        h_cat=np.array([h.ceiling_category for h in households], dtype=np.int64),
        h_need=surface_needed(persons),
        h_income=col([h.monthly_income for h in households], np.float64).astype(np.float64),
        h_allowance=col([h.housing_allowance for h in households],
                        np.float64).astype(np.float64),
        h_ref=col([np.nan if h.reference_income is None else h.reference_income
                   for h in households], np.float64).astype(np.float64),
        h_wheelchair=col([h.needs_wheelchair_access for h in households],
                         np.bool_).astype(np.bool_),
        h_no_stairs=col([h.needs_no_stairs for h in households], np.bool_).astype(np.bool_),
        h_urgency=col([h.urgency for h in households], np.int64).astype(np.int64),
        h_requested=col([h.requested_on.toordinal() for h in households],
                        np.int64).astype(np.int64),
        h_ready=col([h.ready_from.toordinal() for h in households], np.int64).astype(np.int64),
        h_has_area=col([not h.search_area.is_empty for h in households],
                       np.bool_).astype(np.bool_),
        sa_dept=sa_dept, sa_dept_v=sa_dept_v, sa_comm=sa_comm, sa_comm_v=sa_comm_v,
        x_dept=x_dept, x_dept_v=x_dept_v, x_comm=x_comm, x_comm_v=x_comm_v,
        x_pt=x_pt,
        x_pt_phi=np.radians(x_pt_lat),
        x_pt_lam=np.radians(np.array([z.lon for z in flat_pts], dtype=np.float64)),
        x_pt_cos=np.cos(np.radians(x_pt_lat)),
        x_pt_r=np.array([z.radius_km for z in flat_pts], dtype=np.float64),
        h_has_point_zone=x_pt.count > 0,
        pref=pref,
        pref_lat=pref_lat,
        pref_lon=np.array([q.lon for q in flat_pref], dtype=np.float64),
        pref_cos=np.cos(np.radians(pref_lat)),
        forbidden_keys=np.unique(np.array(keys, dtype=np.int64)),
        h_has_forbidden=np.isin(np.arange(len(households)),
                                np.array([hid[f.household] for f in instance.forbidden],
                                         dtype=np.int64)),
    )


# --------------------------------------------------------------------------- rules


def dates(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 7: ``available_from`` and ``ready_from`` on or before as_of + horizon_days."""
    return (t.u_avail[u] <= t.horizon) & (t.h_ready[h] <= t.horizon)


def surface_needed(persons: IntArray) -> FloatArray:
    """Surface required for ``persons``: 9 m2 for 1, 16 for 2, +9 per further, at most 70."""
    need = np.minimum(70.0, 16.0 + 9.0 * (persons - 2).astype(np.float64))
    return np.where(persons == 1, 9.0, need)


def size(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 1: persons within ``occupancy[min(rooms, 6)]`` and enough surface when given."""
    persons = t.h_persons[h]
    cls = t.u_class[u]
    ok = (t.occ_lo[cls] <= persons) & (persons <= t.occ_hi[cls])
    # NaN (no surface given) compares False: no surface requirement then.
    ok &= ~(t.u_surface[u] < t.h_need[h])
    return ok


def _surface(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """The surface half of rule 1 (room counts are settled by the buckets)."""
    ok: BoolArray = ~(t.u_surface[u] < t.h_need[h])
    return ok


def rent_burden(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 2: (rent + charges - allowance) / income <= max_effort_rate; net <= 0 at 0 income."""
    net = t.u_cost[u] - t.h_allowance[h]
    income = t.h_income[h]
    positive = income > 0
    rate = np.divide(net, income, out=np.zeros_like(net), where=positive)
    ok: BoolArray = np.where(positive, rate <= t.max_rate, net <= 0)
    return ok


def wheelchair(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 3: a household that needs wheelchair access gets an accessible unit."""
    return t.u_wheelchair[u] | ~t.h_wheelchair[h]


def stairs(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 4: a household that needs no stairs gets floor 0 or an elevator."""
    ok: BoolArray = ~t.h_no_stairs[h] | (t.u_floor[u] == 0) | t.u_elevator[u]
    return ok


def haversine_km(phi1: FloatArray, lam1: FloatArray, phi2: FloatArray, lam2: FloatArray,
                 cos1: FloatArray, cos2: FloatArray) -> FloatArray:
    """Great-circle distance (km) between points given in radians, with their cosines."""
    s = np.sin((phi2 - phi1) * 0.5)
    q = np.sin((lam2 - lam1) * 0.5)
    a = s * s + cos1 * cos2 * q * q
    np.clip(a, 0.0, 1.0, out=a)
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _point_zones_ok(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    ok = np.ones(len(u), dtype=np.bool_)
    if t.x_pt.max == 0:
        return ok
    has_zone = t.h_has_point_zone[h]
    # A unit whose location is unknown cannot be shown to be safe.
    ok &= ~(has_zone & ~t.u_has_xy[u])
    for sel, z in t.x_pt.slots(h):
        uu = u[sel]
        phi_u = t.u_phi[uu]
        reach = t.x_pt_r[z] + t.u_unc[uu]
        # Distance >= R * |dphi|: outside the latitude band, the pair is safe for sure
        # (the 1e-6 km margin keeps rounding on the side of computing the exact test).
        band = EARTH_RADIUS_KM * np.abs(phi_u - t.x_pt_phi[z]) <= reach + 1e-6
        band &= ~np.isnan(phi_u)
        if not band.any():
            continue
        idx = np.flatnonzero(sel)[band]
        zb, ub = z[band], uu[band]
        lam_u = np.radians(t.u_lon[ub])
        d = haversine_km(t.u_phi[ub], lam_u, t.x_pt_phi[zb], t.x_pt_lam[zb],
                         t.u_cos[ub], t.x_pt_cos[zb])
        ok[idx] &= (d - t.u_unc[ub]) > t.x_pt_r[zb]
    return ok


def exclusion_zone(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 5: outside every point zone (haversine minus uncertainty > radius), commune and
    department zone; a unit without coordinates never meets a household with a point zone."""
    ok = np.ones(len(u), dtype=np.bool_)
    for sel, j in t.x_dept.slots(h):
        ok[sel] &= t.x_dept_v[j] != t.u_dept[u[sel]]
    for sel, j in t.x_comm.slots(h):
        ok[sel] &= t.x_comm_v[j] != t.u_commune[u[sel]]
    if t.x_pt.max:
        has = t.h_has_point_zone[h] & ok
        if has.any():
            idx = np.flatnonzero(has)
            ok[idx] = _point_zones_ok(t, u[idx], h[idx])
    return ok


def search_area(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 6: in one of the listed communes or departments, when any is listed."""
    ok = ~t.h_has_area[h]
    for sel, j in t.sa_dept.slots(h):
        ok[sel] |= t.sa_dept_v[j] == t.u_dept[u[sel]]
    for sel, j in t.sa_comm.slots(h):
        ok[sel] |= t.sa_comm_v[j] == t.u_commune[u[sel]]
    return ok


def forbidden(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 8 (decisions): a forbidden pair is never proposed."""
    ok = np.ones(len(u), dtype=np.bool_)
    if len(t.forbidden_keys) == 0:
        return ok
    idx = np.flatnonzero(t.h_has_forbidden[h])
    keys = h[idx].astype(np.int64) * t.n_u + u[idx]
    pos = np.minimum(np.searchsorted(t.forbidden_keys, keys), len(t.forbidden_keys) - 1)
    ok[idx] = t.forbidden_keys[pos] != keys
    return ok


def income_ceiling(t: Tables, u: IntArray, h: IntArray) -> BoolArray:
    """Rule 9: reference_income <= the unit's ceiling for the household's category.

    The category is ``income_category`` or else the number of persons; past 6, each
    category adds the row's per-person amount. A unit without ceilings reads +inf; a
    NaN income compares True.
    """
    cat = t.h_cat[h]
    limit = t.u_ceil[u, np.minimum(cat, 6) - 1] + np.maximum(cat - 6, 0) * t.u_ceil[u, 6]
    ok: BoolArray = ~(t.h_ref[h] > limit)
    return ok


RULE_FUNCTIONS: dict[str, Callable[[Tables, IntArray, IntArray], BoolArray]] = {
    "dates": dates,
    "size": size,
    "search_area": search_area,
    "exclusion_zone": exclusion_zone,
    "wheelchair": wheelchair,
    "stairs": stairs,
    "rent_burden": rent_burden,
    "income_ceiling": income_ceiling,
    "forbidden": forbidden,
}
assert tuple(RULE_FUNCTIONS) == RULES


# ------------------------------------------------------------------ candidate generation


@dataclass(frozen=True, slots=True)
class Block:
    """Feasible pairs of a group of households (household-major order)."""

    u: IntArray
    h: IntArray


class Candidates:
    """Bucketed available units and per-household bucket records.

    ``removed[r, h]`` counts, after :meth:`blocks` has run over every household, the
    pairs of household ``h`` attributed to rule ``RULES[r]`` by the cascade.
    """

    def __init__(self, t: Tables, chunk_pairs: int = 1 << 21) -> None:
        self.t = t
        self.chunk_pairs = chunk_pairs
        n_d, n_c = len(t.dept_codes), len(t.commune_codes)
        avail = np.flatnonzero(t.u_avail <= t.horizon)
        self.n_avail = len(avail)
        # Buckets: (dept, class) then (commune, class); perm lists units bucket by bucket.
        key_d = t.u_dept[avail] * 7 + t.u_class[avail]
        order_d = np.argsort(key_d, kind="stable")
        key_c = t.u_commune[avail] * 7 + t.u_class[avail]
        order_c = np.argsort(key_c, kind="stable")
        self.perm = np.concatenate([avail[order_d], avail[order_c]]).astype(np.int64)
        cnt_d = np.bincount(key_d, minlength=n_d * 7)
        cnt_c = np.bincount(key_c, minlength=n_c * 7)
        self.bucket_len = np.concatenate([cnt_d, cnt_c]).astype(np.int64)
        self.bucket_start = np.zeros(len(self.bucket_len), dtype=np.int64)
        np.cumsum(self.bucket_len[:-1], out=self.bucket_start[1:])
        self.n_dept_buckets = n_d * 7
        self._bucket_geometry()
        # Classes allowed per persons value (persons up to the largest in the instance).
        max_p = int(t.h_persons.max()) if t.n_h else 1
        persons = np.arange(max_p + 1)
        self.allowed = (t.occ_lo[None, 1:] <= persons[:, None]) & (
            persons[:, None] <= t.occ_hi[None, 1:])  # [p, class-1]
        self._records()
        self.removed = np.zeros((len(RULES), t.n_h), dtype=np.int64)
        self.feasible = np.zeros(t.n_h, dtype=np.int64)
        self._lock = threading.Lock()
        self._analytic_counts(avail)

    def _bucket_geometry(self) -> None:
        """Latitude range, largest uncertainty and missing coordinates of each bucket."""
        t = self.t
        nb = len(self.bucket_len)
        bucket_of = np.repeat(np.arange(nb), self.bucket_len)
        phi = t.u_phi[self.perm]
        has = ~np.isnan(phi)
        self.b_phi_min = np.full(nb, np.inf)
        self.b_phi_max = np.full(nb, -np.inf)
        np.minimum.at(self.b_phi_min, bucket_of[has], phi[has])
        np.maximum.at(self.b_phi_max, bucket_of[has], phi[has])
        self.b_unc = np.zeros(nb)
        np.maximum.at(self.b_unc, bucket_of, t.u_unc[self.perm])
        self.b_nocoord = np.zeros(nb, dtype=np.bool_)
        self.b_nocoord[bucket_of[~has]] = True
        n_d = len(t.dept_codes)
        self.b_dept = np.concatenate([
            np.arange(n_d * 7) // 7,
            t.commune_dept[np.arange(len(t.commune_codes) * 7) // 7]
            if len(t.commune_codes) else np.zeros(0, dtype=np.int64)]).astype(np.int64)

    def zone_check_needed(self, rh: IntArray, rb: IntArray) -> BoolArray:
        """Records (household, bucket) where a commune or point zone may exclude a unit.

        Elsewhere (the common case) every unit of the bucket is outside her zones: the
        bucket's latitude band is farther than radius + uncertainty from each point, and
        no excluded commune lies in the bucket's department.
        """
        t = self.t
        need = np.zeros(len(rh), dtype=np.bool_)
        for sel, j in t.x_comm.slots(rh):
            need[sel] |= t.commune_dept[t.x_comm_v[j]] == self.b_dept[rb[sel]]
        if t.x_pt.max:
            need |= t.h_has_point_zone[rh] & self.b_nocoord[rb]
            for sel, z in t.x_pt.slots(rh):
                b = rb[sel]
                phi = t.x_pt_phi[z]
                gap = np.maximum(0.0, np.maximum(self.b_phi_min[b] - phi, phi - self.b_phi_max[b]))
                near = EARTH_RADIUS_KM * gap - self.b_unc[b] <= t.x_pt_r[z] + 1e-6
                need[sel] |= near
        return need

    def _records(self) -> None:
        """(household, bucket) records for every ready household, sorted by household."""
        t = self.t
        n_d = len(t.dept_codes)
        ready = np.flatnonzero(t.h_ready <= t.horizon)
        area = t.h_has_area[ready]
        # Departments: the search area's, or every department for households without one.
        h_sa = np.repeat(np.arange(t.n_h), t.sa_dept.count)
        d_sa = t.sa_dept_v
        keep = t.h_has_area[h_sa] & (t.h_ready[h_sa] <= t.horizon)
        any_h = ready[~area]
        rec_h = np.concatenate([h_sa[keep], np.repeat(any_h, n_d)])
        rec_d = np.concatenate([d_sa[keep], np.tile(np.arange(n_d), len(any_h))])
        # minus excluded departments
        x_h = np.repeat(np.arange(t.n_h), t.x_dept.count)
        x_keys = np.unique(x_h * n_d + t.x_dept_v)
        keys = rec_h * n_d + rec_d
        ok = ~np.isin(keys, x_keys)
        keys = np.unique(keys[ok])
        rec_h, rec_d = keys // n_d, keys % n_d
        # Communes of the search area outside its departments and not excluded by department.
        c_h = np.repeat(np.arange(t.n_h), t.sa_comm.count)
        c_c = t.sa_comm_v
        c_d = t.commune_dept[c_c] if len(c_c) else np.zeros(0, dtype=np.int64)
        sa_keys = np.unique(h_sa * n_d + d_sa)
        in_sa = np.isin(c_h * n_d + c_d, sa_keys)
        in_x = np.isin(c_h * n_d + c_d, x_keys)
        ready_c = t.h_ready[c_h] <= t.horizon if len(c_h) else np.zeros(0, dtype=np.bool_)
        keepc = ~in_sa & ~in_x & ready_c
        n_c = len(t.commune_codes)
        ckeys = np.unique(c_h[keepc] * max(n_c, 1) + c_c[keepc])
        rc_h, rc_c = ckeys // max(n_c, 1), ckeys % max(n_c, 1)
        # x allowed classes
        bh = np.concatenate([rec_h, rc_h])
        base = np.concatenate([rec_d * 7, self.n_dept_buckets + rc_c * 7])
        allowed = self.allowed[self.t.h_persons[bh]]  # [rec, 6]
        r_idx, c_idx = np.nonzero(allowed)
        bucket = base[r_idx] + c_idx + 1
        hh = bh[r_idx]
        nonempty = self.bucket_len[bucket] > 0
        hh, bucket = hh[nonempty], bucket[nonempty]
        order = np.argsort(hh, kind="stable")
        self.rec_h = hh[order]
        self.rec_b = bucket[order]
        self.gen_count = np.bincount(self.rec_h, weights=self.bucket_len[self.rec_b],
                                     minlength=t.n_h).astype(np.int64)
        self.rec_zone = self.zone_check_needed(self.rec_h, self.rec_b)

    def _analytic_counts(self, avail: IntArray) -> None:
        """Cascade counts of the pairs pruned by buckets (dates, size, search_area, and the
        department part of exclusion_zone; the latter is completed in :meth:`blocks`)."""
        t = self.t
        r = {name: i for i, name in enumerate(RULES)}
        ready = t.h_ready <= t.horizon
        self.removed[r["dates"]] = np.where(ready, t.n_u - self.n_avail, t.n_u)
        n_d, n_c = len(t.dept_codes), len(t.commune_codes)
        values = np.unique(t.h_persons)
        s_ok = np.zeros(t.n_h, dtype=np.int64)
        area_ok = np.zeros(t.n_h, dtype=np.int64)
        h_sa = np.repeat(np.arange(t.n_h), t.sa_dept.count)
        c_h = np.repeat(np.arange(t.n_h), t.sa_comm.count)
        c_d = t.commune_dept[t.sa_comm_v] if len(t.sa_comm_v) else np.zeros(0, np.int64)
        in_sa = np.isin(c_h * n_d + c_d, np.unique(h_sa * n_d + t.sa_dept_v))
        for pv in values:
            hs = t.h_persons == pv
            ok = size(t, avail, np.full(len(avail), np.flatnonzero(hs)[0], dtype=np.int64))
            s_ok[hs] = int(ok.sum())
            by_d = np.bincount(t.u_dept[avail[ok]], minlength=n_d)
            by_c = np.bincount(t.u_commune[avail[ok]], minlength=max(n_c, 1))
            sel = hs[h_sa]
            np.add.at(area_ok, h_sa[sel], by_d[t.sa_dept_v[sel]])
            selc = hs[c_h] & ~in_sa
            np.add.at(area_ok, c_h[selc], by_c[t.sa_comm_v[selc]])
        area_ok = np.where(t.h_has_area, area_ok, s_ok)
        self.removed[r["size"]] = np.where(ready, self.n_avail - s_ok, 0)
        self.removed[r["search_area"]] = np.where(ready, s_ok - area_ok, 0)
        # exclusion_zone gets area_ok minus the size-ok generated pairs, plus the generated
        # pairs failing a commune or point zone: added in blocks().
        self.removed[r["exclusion_zone"]] = np.where(ready, area_ok, 0)

    def household_chunks(self, households: IntArray | None = None,
                         weight: IntArray | None = None) -> Iterator[IntArray]:
        """Groups of households whose generated pairs stay around ``chunk_pairs``."""
        hs = np.flatnonzero(self.gen_count > 0) if households is None else households
        w = self.gen_count[hs] if weight is None else weight
        if len(hs) == 0:
            return
        csum = np.cumsum(w)
        cuts = np.searchsorted(csum, np.arange(self.chunk_pairs, int(csum[-1]) + 1,
                                               self.chunk_pairs), side="right")
        bounds = np.unique(np.concatenate([[0], cuts, [len(hs)]]))
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            if b > a:
                yield hs[a:b]

    def expand(self, hs: IntArray, rec_filter: Callable[[IntArray, IntArray], BoolArray]
               | None = None) -> tuple[IntArray, IntArray, BoolArray]:
        """All bucket pairs (u, h) of the households ``hs`` (sorted), household-major, and
        whether each pair still needs the commune/point zone test."""
        lo = np.searchsorted(self.rec_h, hs, side="left")
        hi = np.searchsorted(self.rec_h, hs, side="right")
        n = hi - lo
        idx = np.repeat(lo - np.concatenate([[0], np.cumsum(n)[:-1]]), n) + np.arange(n.sum())
        rh, rb, rz = self.rec_h[idx], self.rec_b[idx], self.rec_zone[idx]
        if rec_filter is not None:
            keep = rec_filter(rh, rb)
            rh, rb, rz = rh[keep], rb[keep], rz[keep]
        lens = self.bucket_len[rb]
        total = int(lens.sum())
        first = np.concatenate([[0], np.cumsum(lens)[:-1]])
        pos = np.arange(total, dtype=np.int64) + np.repeat(self.bucket_start[rb] - first, lens)
        return self.perm[pos], np.repeat(rh, lens), np.repeat(rz, lens)

    def zones_ok(self, u: IntArray, h: IntArray, zone: BoolArray) -> BoolArray:
        """Rule 5 on generated pairs: only the pairs flagged by their bucket are tested."""
        ok = np.ones(len(u), dtype=np.bool_)
        if zone.any():
            idx = np.flatnonzero(zone)
            ok[idx] = exclusion_zone(self.t, u[idx], h[idx])
        return ok

    def evaluate(self, u: IntArray, h: IntArray, zone: BoolArray, count: bool,
                 ) -> tuple[IntArray, IntArray]:
        """Apply the rules that buckets do not settle; return the feasible pairs.

        With ``count``, add each removed pair to its cascade rule in :attr:`removed`.
        """
        if not count:
            u, h, zone = self.evaluate_cheap(u, h, zone)
            ok = self.zones_ok(u, h, zone)
            return u[ok], h[ok]
        t = self.t
        n = t.n_h
        r = {name: i for i, name in enumerate(RULES)}
        # Counted locally, then added under a lock: chunks may be evaluated in threads.
        counts: list[tuple[int, IntArray]] = []
        ok = _surface(t, u, h)
        u, h, zone = u[ok], h[ok], zone[ok]
        # size-ok generated pairs leave the exclusion_zone analytic count
        counts.append((r["exclusion_zone"], -np.bincount(h, minlength=n)))
        ok = self.zones_ok(u, h, zone)
        counts.append((r["exclusion_zone"], np.bincount(h[~ok], minlength=n)))
        u, h = u[ok], h[ok]
        for name in ("wheelchair", "stairs", "rent_burden", "income_ceiling", "forbidden"):
            ok = RULE_FUNCTIONS[name](t, u, h)
            if not ok.all():
                counts.append((r[name], np.bincount(h[~ok], minlength=n)))
                u, h = u[ok], h[ok]
        feasible = np.bincount(h, minlength=n)
        with self._lock:
            for row, values in counts:
                self.removed[row] += values
            self.feasible += feasible
        return u, h

    def evaluate_cheap(self, u: IntArray, h: IntArray, zone: BoolArray,
                       ) -> tuple[IntArray, IntArray, BoolArray]:
        """The pairs that pass every rule but exclusion_zone (no counting)."""
        t = self.t
        ok = _surface(t, u, h)
        for name in ("wheelchair", "stairs", "rent_burden", "income_ceiling", "forbidden"):
            ok &= RULE_FUNCTIONS[name](t, u, h)
        return u[ok], h[ok], zone[ok]

    def blocks(self, count: bool = True) -> Iterator[Block]:
        """Feasible pairs of every household, chunk by chunk (one full pass)."""
        for hs in self.household_chunks():
            u, h, zone = self.expand(hs)
            fu, fh = self.evaluate(u, h, zone, count)
            yield Block(u=fu, h=fh)
