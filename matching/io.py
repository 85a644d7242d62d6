"""JSON reader and writer of instances and results, with full validation.

:func:`instance_from_dict` checks every record before building anything, and raises
:class:`~matching.domain.InstanceError` naming the record and the field, e.g.
``households[3] (id "H-0004"): field "adults": must be an integer >= 0``.
Nothing is half-read. Writers produce deterministic JSON.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from matching.domain import (
    DEFAULT_OCCUPANCY,
    INSTANCE_FORMAT,
    RESULT_FORMAT,
    CommuneZone,
    DepartmentZone,
    ExclusionZone,
    Household,
    Instance,
    InstanceError,
    PairRef,
    PointZone,
    Policy,
    PreferredPoint,
    Proposal,
    Result,
    ScoreWeights,
    SearchArea,
    Unit,
    Unmatched,
)

__all__ = [
    "dumps",
    "instance_from_dict",
    "instance_to_dict",
    "read_instance",
    "read_json",
    "read_result",
    "result_from_dict",
    "result_to_dict",
    "write_json",
]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_DEPARTMENT = re.compile(r"^(\d{2}|2[AB]|97\d)$")


class _Ctx:
    """Where we are in the document, to name the record and the field in errors."""

    def __init__(self, record: str) -> None:
        self.record = record

    def fail(self, fld: str, message: str) -> NoReturn:
        if fld:
            raise InstanceError(f'{self.record}: field "{fld}": {message}')
        raise InstanceError(f"{self.record}: {message}")

    def obj(self, value: Any, fld: str = "") -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(fld, "must be an object")
        return value

    def req(self, rec: Mapping[str, Any], fld: str, path: str | None = None) -> Any:
        if fld not in rec or rec[fld] is None:
            self.fail(path or fld, "is required")
        return rec[fld]

    def number(
        self, rec: Mapping[str, Any], fld: str, *, minimum: float | None = None,
        strict: bool = False, maximum: float | None = None, path: str | None = None,
    ) -> float:
        value = self.req(rec, fld, path)
        ok = (isinstance(value, int | float) and not isinstance(value, bool)
              and math.isfinite(value))
        x = float(value) if ok else math.nan
        if (ok and (minimum is None or x > minimum or (not strict and x == minimum))
                and (maximum is None or x <= maximum)):
            return x
        # Only a bad value pays for the message.
        bound = ""
        if minimum is not None:
            bound = f" {'>' if strict else '>='} {_fmt(minimum)}"
        if maximum is not None:
            bound = f" in [{_fmt(minimum or 0)}, {_fmt(maximum)}]"
        if not ok:
            self.fail(path or fld, f"must be a number{bound}")
        self.fail(path or fld, f"must be a number{bound}, got {_fmt(x)}")

    def opt_number(self, rec: Mapping[str, Any], fld: str, **kw: Any) -> float | None:
        if rec.get(fld) is None:
            return None
        return self.number(rec, fld, **kw)

    def integer(
        self, rec: Mapping[str, Any], fld: str, *, minimum: int | None = None,
        maximum: int | None = None, path: str | None = None,
    ) -> int:
        value = self.req(rec, fld, path)
        name = path or fld
        if minimum is not None and maximum is not None:
            what = f"an integer in {minimum}..{maximum}"
        elif minimum is not None:
            what = f"an integer >= {minimum}"
        else:
            what = "an integer"
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(name, f"must be {what}")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            self.fail(name, f"must be {what}")
        n = int(value)
        if (minimum is not None and n < minimum) or (maximum is not None and n > maximum):
            self.fail(name, f"must be {what}, got {n}")
        return n

    def boolean(self, rec: Mapping[str, Any], fld: str) -> bool:
        value = self.req(rec, fld)
        if not isinstance(value, bool):
            self.fail(fld, "must be true or false")
        return value

    def string(self, rec: Mapping[str, Any], fld: str, path: str | None = None) -> str:
        value = self.req(rec, fld, path)
        if not isinstance(value, str) or not value.strip():
            self.fail(path or fld, "must be a non-empty string")
        return value

    def opt_string(self, rec: Mapping[str, Any], fld: str) -> str | None:
        if rec.get(fld) is None:
            return None
        return self.string(rec, fld)

    def day(self, rec: Mapping[str, Any], fld: str) -> date:
        value = self.req(rec, fld)
        if not isinstance(value, str) or not _DATE.match(value):
            self.fail(fld, "must be a date YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(fld, f"is not a valid date: {value!r}")

    def code(self, value: Any, path: str, pattern: re.Pattern[str], what: str) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            self.fail(path, f"must be {what}, got {value!r}")
        return value

    def array(self, rec: Mapping[str, Any], fld: str) -> list[Any]:
        value = rec.get(fld)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(fld, "must be an array")
        return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _record_name(kind: str, index: int, rec: Any) -> str:
    if isinstance(rec, Mapping) and isinstance(rec.get("id"), str):
        return f'{kind}[{index}] (id "{rec["id"]}")'
    return f"{kind}[{index}]"


def _policy(raw: Any) -> Policy:
    ctx = _Ctx("policy")
    if raw is None:
        return Policy()
    rec = ctx.obj(raw)
    defaults = Policy()
    kw: dict[str, Any] = {}
    if rec.get("max_effort_rate") is not None:
        kw["max_effort_rate"] = ctx.number(rec, "max_effort_rate", minimum=0, strict=True)
    if rec.get("candidates_per_unit") is not None:
        kw["candidates_per_unit"] = ctx.integer(rec, "candidates_per_unit", minimum=1)
    if rec.get("horizon_days") is not None:
        kw["horizon_days"] = ctx.integer(rec, "horizon_days", minimum=0)
    if rec.get("occupancy") is not None:
        occ = ctx.obj(rec["occupancy"], "occupancy")
        rows = []
        for rooms in range(1, 7):
            key = str(rooms)
            value = occ.get(key)
            ok = (
                isinstance(value, list) and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
                and value[0] <= value[1]
            )
            if not ok:
                ctx.fail(f"occupancy.{key}", "must be [lo, hi], integers with 0 <= lo <= hi")
            assert isinstance(value, list)
            rows.append((int(value[0]), int(value[1])))
        extra = sorted(set(occ) - {str(r) for r in range(1, 7)})
        if extra:
            ctx.fail(f"occupancy.{extra[0]}", 'unknown key: use "1" to "6" (6 means 6 and more)')
        kw["occupancy"] = tuple(rows)
    if rec.get("income_ceilings") is not None:
        raw_ceilings = ctx.obj(rec["income_ceilings"], "income_ceilings")
        ceilings: dict[str, tuple[float, ...]] = {}
        for financing, values in raw_ceilings.items():
            ceilings[str(financing)] = _ceilings_row(ctx, values, f"income_ceilings.{financing}")
        kw["income_ceilings"] = ceilings
    kw["lowest_quartile_income"] = ctx.opt_number(rec, "lowest_quartile_income", minimum=0)
    kw["qpv_lowest_quartile_share"] = ctx.opt_number(
        rec, "qpv_lowest_quartile_share", minimum=0, maximum=1)
    if rec.get("qpv_score_tolerance") is not None:
        kw["qpv_score_tolerance"] = ctx.number(rec, "qpv_score_tolerance", minimum=0, maximum=1)
    if rec.get("score_weights") is not None:
        sw = ctx.obj(rec["score_weights"], "score_weights")
        base = ScoreWeights()
        wkw: dict[str, Any] = {}
        for name in ("waiting_per_day", "location", "fit", "rent", "availability"):
            if sw.get(name) is not None:
                wkw[name] = ctx.number(sw, name, minimum=0, path=f"score_weights.{name}")
        if sw.get("waiting_cap_days") is not None:
            wkw["waiting_cap_days"] = ctx.integer(
                sw, "waiting_cap_days", minimum=0, path="score_weights.waiting_cap_days")
        if sw.get("location_range_km") is not None:
            wkw["location_range_km"] = ctx.number(
                sw, "location_range_km", minimum=0, strict=True,
                path="score_weights.location_range_km")
        kw["score_weights"] = ScoreWeights(**{**_asdict(base), **wkw})
    return Policy(**{**_asdict(defaults), **kw})


def _ceilings_row(ctx: _Ctx, values: Any, path: str) -> tuple[float, ...]:
    """6 ceilings (categories 1..6) and optionally a 7th, the amount per category past 6."""
    ok = (
        isinstance(values, list) and len(values) in (6, 7)
        and all(isinstance(v, int | float) and not isinstance(v, bool)
                and math.isfinite(v) and v >= 0 for v in values)
    )
    if not ok:
        ctx.fail(path, "must be 6 numbers >= 0 (for 1, 2, 3, 4, 5, 6+ persons), "
                       "optionally a 7th (per person past 6)")
    return tuple(float(v) for v in values)


def _asdict(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _lat_lon(ctx: _Ctx, rec: Mapping[str, Any], prefix: str = "") -> tuple[float, float]:
    lat = ctx.number(rec, "lat", minimum=-90, maximum=90, path=f"{prefix}lat")
    lon = ctx.number(rec, "lon", minimum=-180, maximum=180, path=f"{prefix}lon")
    return lat, lon


def _unit(index: int, raw: Any) -> Unit:
    ctx = _Ctx(_record_name("units", index, raw))
    rec = ctx.obj(raw)
    uid = ctx.string(rec, "id")
    has_lat, has_lon = rec.get("lat") is not None, rec.get("lon") is not None
    if has_lat != has_lon:
        ctx.fail("lon" if has_lat else "lat", "lat and lon go together: give both or neither")
    lat: float | None = None
    lon: float | None = None
    if has_lat:
        lat, lon = _lat_lon(ctx, rec)
    surface = ctx.opt_number(rec, "surface_m2", minimum=0, strict=True)
    unc = ctx.opt_number(rec, "location_uncertainty_km", minimum=0)
    ceiling = (None if rec.get("income_ceiling") is None
               else _ceilings_row(ctx, rec["income_ceiling"], "income_ceiling"))
    return Unit(
        id=uid,
        landlord=ctx.string(rec, "landlord"),
        commune=ctx.code(ctx.req(rec, "commune"), "commune", _COMMUNE, "a 5-character INSEE code"),
        lat=lat,
        lon=lon,
        rooms=ctx.integer(rec, "rooms", minimum=1),
        floor=ctx.integer(rec, "floor", minimum=0),
        elevator=ctx.boolean(rec, "elevator"),
        wheelchair_accessible=ctx.boolean(rec, "wheelchair_accessible"),
        rent=ctx.number(rec, "rent", minimum=0),
        charges=ctx.number(rec, "charges", minimum=0),
        in_qpv=ctx.boolean(rec, "in_qpv"),
        available_from=ctx.day(rec, "available_from"),
        surface_m2=surface,
        location_uncertainty_km=unc or 0.0,
        financing=ctx.opt_string(rec, "financing"),
        income_ceiling=ceiling,
    )


def _zone(ctx: _Ctx, raw: Any, path: str) -> ExclusionZone:
    rec = ctx.obj(raw, path)
    kinds = [k for k in ("lat", "commune", "department") if rec.get(k) is not None]
    if rec.get("lon") is not None and "lat" not in kinds:
        kinds.insert(0, "lat")
    if len(kinds) != 1:
        ctx.fail(path, 'must be exactly one of {"lat","lon","radius_km"}, {"commune"}, '
                       '{"department"}')
    if kinds[0] == "lat":
        lat, lon = _lat_lon(ctx, rec, f"{path}.")
        radius = ctx.number(rec, "radius_km", minimum=0, strict=True, path=f"{path}.radius_km")
        return PointZone(lat=lat, lon=lon, radius_km=radius)
    if kinds[0] == "commune":
        code = ctx.code(rec["commune"], f"{path}.commune", _COMMUNE, "a 5-character INSEE code")
        return CommuneZone(commune=code)
    dep = ctx.code(rec["department"], f"{path}.department", _DEPARTMENT, "a department code")
    return DepartmentZone(department=dep)


def _household(index: int, raw: Any) -> Household:
    ctx = _Ctx(_record_name("households", index, raw))
    rec = ctx.obj(raw)
    hid = ctx.string(rec, "id")
    adults = ctx.integer(rec, "adults", minimum=0)
    children = ctx.integer(rec, "children", minimum=0)
    if adults + children == 0:
        ctx.fail("adults", "adults + children must be at least 1 (persons = 0)")
    area = SearchArea()
    if rec.get("search_area") is not None:
        sa = ctx.obj(rec["search_area"], "search_area")
        communes = sa.get("communes") or []
        departments = sa.get("departments") or []
        if not isinstance(communes, list):
            ctx.fail("search_area.communes", "must be an array")
        if not isinstance(departments, list):
            ctx.fail("search_area.departments", "must be an array")
        area = SearchArea(
            communes=tuple(ctx.code(c, f"search_area.communes[{i}]", _COMMUNE,
                                    "a 5-character INSEE code") for i, c in enumerate(communes)),
            departments=tuple(ctx.code(d, f"search_area.departments[{i}]", _DEPARTMENT,
                                       "a department code") for i, d in enumerate(departments)),
        )
    zones = tuple(_zone(ctx, z, f"exclusion_zones[{i}]")
                  for i, z in enumerate(ctx.array(rec, "exclusion_zones")))
    points = []
    for i, p in enumerate(ctx.array(rec, "preferred_points")):
        prec = ctx.obj(p, f"preferred_points[{i}]")
        lat, lon = _lat_lon(ctx, prec, f"preferred_points[{i}].")
        label = prec.get("label")
        if label is not None and not isinstance(label, str):
            ctx.fail(f"preferred_points[{i}].label", "must be a string")
        points.append(PreferredPoint(lat=lat, lon=lon, label=label))
    categories = ctx.array(rec, "priority_categories")
    for i, c in enumerate(categories):
        if not isinstance(c, str):
            ctx.fail(f"priority_categories[{i}]", "must be a string")
    return Household(
        id=hid,
        association=ctx.string(rec, "association"),
        adults=adults,
        children=children,
        monthly_income=ctx.number(rec, "monthly_income", minimum=0),
        housing_allowance=ctx.number(rec, "housing_allowance", minimum=0),
        needs_wheelchair_access=ctx.boolean(rec, "needs_wheelchair_access"),
        needs_no_stairs=ctx.boolean(rec, "needs_no_stairs"),
        urgency=ctx.integer(rec, "urgency", minimum=0, maximum=3),
        requested_on=ctx.day(rec, "requested_on"),
        ready_from=ctx.day(rec, "ready_from"),
        reference_income=ctx.opt_number(rec, "reference_income", minimum=0),
        priority_categories=tuple(categories),
        search_area=area,
        exclusion_zones=zones,
        preferred_points=tuple(points),
        income_category=(None if rec.get("income_category") is None
                         else ctx.integer(rec, "income_category", minimum=1)),
    )


def _pairs(kind: str, raw: Any, units: Mapping[str, int], households: Mapping[str, int],
           ) -> tuple[PairRef, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        _Ctx("instance").fail(kind, "must be an array")
    out = []
    seen: dict[tuple[str, str], int] = {}
    for i, item in enumerate(raw):
        ctx = _Ctx(f"{kind}[{i}]")
        rec = ctx.obj(item)
        unit = ctx.string(rec, "unit")
        household = ctx.string(rec, "household")
        if unit not in units:
            ctx.fail("unit", f'unknown unit id "{unit}"')
        if household not in households:
            ctx.fail("household", f'unknown household id "{household}"')
        if (unit, household) in seen:
            ctx.fail("unit", f"same pair as {kind}[{seen[unit, household]}]")
        seen[unit, household] = i
        out.append(PairRef(unit=unit, household=household))
    return tuple(out)


def _unique(kind: str, items: list[Any]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.id in index:
            raise InstanceError(
                f'{kind}[{i}] (id "{item.id}"): field "id": duplicate id '
                f"(also {kind}[{index[item.id]}])")
        index[item.id] = i
    return index


def instance_from_dict(d: Any) -> Instance:
    """Validate a decoded JSON instance and build an :class:`Instance`.

    :raise InstanceError: on the first problem, naming the record and the field.
    """
    top = _Ctx("instance")
    doc = top.obj(d)
    fmt = doc.get("format")
    if fmt != INSTANCE_FORMAT:
        top.fail("format", f'unknown format version {fmt!r}: expected "{INSTANCE_FORMAT}"')
    as_of = top.day(doc, "as_of")
    policy = _policy(doc.get("policy"))
    raw_units = doc.get("units")
    raw_households = doc.get("households")
    if not isinstance(raw_units, list):
        top.fail("units", "must be an array")
    if not isinstance(raw_households, list):
        top.fail("households", "must be an array")
    units = [_unit(i, u) for i, u in enumerate(raw_units)]
    households = [_household(i, h) for i, h in enumerate(raw_households)]
    unit_index = _unique("units", units)
    household_index = _unique("households", households)
    locked = _pairs("locked", doc.get("locked"), unit_index, household_index)
    forbidden = _pairs("forbidden", doc.get("forbidden"), unit_index, household_index)
    forbidden_set = {(p.unit, p.household) for p in forbidden}
    locked_units: dict[str, int] = {}
    locked_households: dict[str, int] = {}
    instance = Instance(as_of=as_of, policy=policy, units=tuple(units),
                        households=tuple(households), locked=locked, forbidden=forbidden)
    # Imported here: the checker's scalar rules also serve to refuse unsafe locked pairs.
    from matching.validation import pair_failures

    for i, pair in enumerate(locked):
        ctx = _Ctx(f'locked[{i}] (unit "{pair.unit}", household "{pair.household}")')
        if pair.unit in locked_units:
            ctx.fail("unit", f"unit already locked by locked[{locked_units[pair.unit]}]")
        if pair.household in locked_households:
            ctx.fail("household",
                     f"household already locked by locked[{locked_households[pair.household]}]")
        locked_units[pair.unit] = i
        locked_households[pair.household] = i
        if (pair.unit, pair.household) in forbidden_set:
            ctx.fail("", "the pair is both locked and forbidden")
        broken = pair_failures(instance, units[unit_index[pair.unit]],
                               households[household_index[pair.household]])
        broken = [r for r in broken if r != "forbidden"]
        if broken:
            ctx.fail("", "a locked pair must satisfy every hard rule; it breaks "
                         + ", ".join(f'"{r}"' for r in broken))
    return instance


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() and abs(x) < 2**53 else x


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """The JSON form of an instance (the inverse of :func:`instance_from_dict`)."""
    p = instance.policy
    policy: dict[str, Any] = {
        "max_effort_rate": p.max_effort_rate,
        "candidates_per_unit": p.candidates_per_unit,
        "horizon_days": p.horizon_days,
    }
    if p.occupancy != DEFAULT_OCCUPANCY:
        policy["occupancy"] = {str(i + 1): list(row) for i, row in enumerate(p.occupancy)}
    if p.income_ceilings is not None:
        policy["income_ceilings"] = {k: [_num(v) for v in vals]
                                     for k, vals in p.income_ceilings.items()}
    if p.lowest_quartile_income is not None:
        policy["lowest_quartile_income"] = _num(p.lowest_quartile_income)
    if p.qpv_lowest_quartile_share is not None:
        policy["qpv_lowest_quartile_share"] = p.qpv_lowest_quartile_share
    if p.qpv_score_tolerance:
        policy["qpv_score_tolerance"] = p.qpv_score_tolerance
    if p.score_weights != ScoreWeights():
        policy["score_weights"] = {k: _num(v) for k, v in _asdict(p.score_weights).items()}
    units = []
    for u in instance.units:
        rec: dict[str, Any] = {"id": u.id, "landlord": u.landlord, "commune": u.commune}
        if u.lat is not None and u.lon is not None:
            rec["lat"], rec["lon"] = u.lat, u.lon
        if u.location_uncertainty_km:
            rec["location_uncertainty_km"] = _num(u.location_uncertainty_km)
        rec["rooms"] = u.rooms
        if u.surface_m2 is not None:
            rec["surface_m2"] = _num(u.surface_m2)
        rec.update(floor=u.floor, elevator=u.elevator,
                   wheelchair_accessible=u.wheelchair_accessible, rent=_num(u.rent),
                   charges=_num(u.charges))
        if u.financing is not None:
            rec["financing"] = u.financing
        if u.income_ceiling is not None:
            rec["income_ceiling"] = [_num(v) for v in u.income_ceiling]
        rec.update(in_qpv=u.in_qpv, available_from=u.available_from.isoformat())
        units.append(rec)
    households = []
    for h in instance.households:
        hrec: dict[str, Any] = {
            "id": h.id, "association": h.association, "adults": h.adults,
            "children": h.children, "monthly_income": _num(h.monthly_income),
            "housing_allowance": _num(h.housing_allowance),
        }
        if h.reference_income is not None:
            hrec["reference_income"] = _num(h.reference_income)
        if h.income_category is not None:
            hrec["income_category"] = h.income_category
        hrec.update(
            needs_wheelchair_access=h.needs_wheelchair_access, needs_no_stairs=h.needs_no_stairs,
            urgency=h.urgency, priority_categories=list(h.priority_categories),
            requested_on=h.requested_on.isoformat(), ready_from=h.ready_from.isoformat(),
        )
        if not h.search_area.is_empty:
            hrec["search_area"] = {"communes": list(h.search_area.communes),
                                   "departments": list(h.search_area.departments)}
        zones: list[dict[str, Any]] = []
        for z in h.exclusion_zones:
            if isinstance(z, PointZone):
                zones.append({"lat": z.lat, "lon": z.lon, "radius_km": _num(z.radius_km)})
            elif isinstance(z, CommuneZone):
                zones.append({"commune": z.commune})
            else:
                zones.append({"department": z.department})
        if zones:
            hrec["exclusion_zones"] = zones
        if h.preferred_points:
            hrec["preferred_points"] = [
                {"lat": pt.lat, "lon": pt.lon, **({"label": pt.label} if pt.label else {})}
                for pt in h.preferred_points]
        households.append(hrec)
    out: dict[str, Any] = {
        "format": INSTANCE_FORMAT,
        "as_of": instance.as_of.isoformat(),
        "policy": policy,
        "units": units,
        "households": households,
    }
    if instance.locked:
        out["locked"] = [{"unit": p.unit, "household": p.household} for p in instance.locked]
    if instance.forbidden:
        out["forbidden"] = [{"unit": p.unit, "household": p.household}
                            for p in instance.forbidden]
    return out


def result_to_dict(result: Result) -> dict[str, Any]:
    """The JSON form of a result (contract fields first, then ``score_gap``)."""
    return {
        "format": RESULT_FORMAT,
        "proposals": [
            {"unit": p.unit, "household": p.household, "rank": p.rank, "score": p.score,
             "components": dict(p.components), "score_gap": p.score_gap}
            for p in result.proposals
        ],
        "unmatched": [{"household": u.household, "reasons": list(u.reasons)}
                      for u in result.unmatched],
        "stats": dict(result.stats),
    }


def result_from_dict(d: Any) -> Result:
    """Read a result document (as written by :func:`result_to_dict`).

    :raise InstanceError: when the document is not a well-formed result.
    """
    top = _Ctx("result")
    doc = top.obj(d)
    if doc.get("format") != RESULT_FORMAT:
        top.fail("format", f'unknown format version {doc.get("format")!r}: '
                           f'expected "{RESULT_FORMAT}"')
    raw_props = doc.get("proposals")
    if not isinstance(raw_props, list):
        top.fail("proposals", "must be an array")
    proposals = []
    for i, raw in enumerate(raw_props):
        ctx = _Ctx(f"proposals[{i}]")
        rec = ctx.obj(raw)
        comps = ctx.obj(ctx.req(rec, "components"), "components")
        components: dict[str, float] = {}
        for name, value in comps.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                ctx.fail(f"components.{name}", "must be a number")
            components[str(name)] = float(value)
        gap = rec.get("score_gap", 0.0)
        if isinstance(gap, bool) or not isinstance(gap, int | float):
            ctx.fail("score_gap", "must be a number")
        proposals.append(Proposal(
            unit=ctx.string(rec, "unit"), household=ctx.string(rec, "household"),
            rank=ctx.integer(rec, "rank", minimum=1),
            score=ctx.number(rec, "score"), components=components, score_gap=float(gap),
        ))
    raw_un = doc.get("unmatched", [])
    if not isinstance(raw_un, list):
        top.fail("unmatched", "must be an array")
    unmatched = []
    for i, raw in enumerate(raw_un):
        ctx = _Ctx(f"unmatched[{i}]")
        rec = ctx.obj(raw)
        reasons = ctx.array(rec, "reasons")
        if not all(isinstance(r, str) for r in reasons):
            ctx.fail("reasons", "must be an array of strings")
        unmatched.append(Unmatched(household=ctx.string(rec, "household"),
                                   reasons=tuple(reasons)))
    stats = doc.get("stats", {})
    if not isinstance(stats, Mapping):
        top.fail("stats", "must be an object")
    return Result(proposals=tuple(proposals), unmatched=tuple(unmatched), stats=dict(stats))


def dumps(doc: Mapping[str, Any]) -> str:
    """Deterministic JSON text (no NaN, stable key order, trailing newline)."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def read_json(path: str | os.PathLike[str]) -> Any:
    """Decode a JSON file. :raise InstanceError: unreadable file or malformed JSON."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError(f"{path}: cannot read: {exc}") from exc

    def no_constant(name: str) -> NoReturn:
        raise InstanceError(f"{path}: malformed JSON: {name} is not allowed")

    try:
        return json.loads(text, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise InstanceError(f"{path}: malformed JSON: {exc}") from exc


def read_instance(path: str | os.PathLike[str]) -> Instance:
    """Read and validate an instance file."""
    return instance_from_dict(read_json(path))


def read_result(path: str | os.PathLike[str]) -> Result:
    """Read a result file."""
    return result_from_dict(read_json(path))


def write_json(path: str | os.PathLike[str], doc: Mapping[str, Any]) -> None:
    """Write JSON atomically: a temporary file in the same folder, renamed on success."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(dumps(doc))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

