"""Score of a pair: a documented sum of components, each in integer cents.

One function per component. Every component is rounded to cents on its own, so the
reported components add up exactly to the reported score, and the min-cost flow works
on the same integers that are reported (score = cents / 100).

========================  ===========================================================
component                 value (points; ``w.*`` are ``policy.score_weights``)
========================  ===========================================================
``urgency``               ``(urgency + 1) * step`` (household only; see below)
``waiting``               ``w.waiting_per_day * min(days since requested_on, w.waiting_cap_days)``
``location``              ``w.location * max(0, 1 - d / w.location_range_km)``, ``d`` the
                          distance (km, equirectangular at the preferred point's latitude)
                          to the nearest preferred point; 0 without preferred points or
                          without unit coordinates
``fit``                   ``w.fit * max(0, 1 - 0.5 * max(0, rooms - persons - 1))``
                          (under-occupation costs half the weight per extra room)
``rent``                  ``w.rent * clamp(1 - burden / max_effort_rate, 0, 1)``; full
                          weight at zero income (then the net rent is <= 0)
``availability``          ``w.availability * max(0, 1 - |start - ready| / horizon_days)``,
                          ``start = max(available_from, as_of)``, ``ready = max(ready_from,
                          as_of)``: 1 when the unit frees up when she is ready
========================  ===========================================================

Urgency step. Let ``R`` be the largest possible sum of the other components of a pair
(in cents) and ``M = min(#units, #households)`` (at least 1), an upper bound on the
size of any matching. ``step`` is the smallest power of ten >= ``2 * M * R + 1`` cents.
Why this dominates lexicographically: the symmetric difference of two matchings splits
into alternating paths and cycles; a path adds at most one household and removes at most
one, so moving along one path changes the urgency part by a multiple of ``step``
(``U(k) - U(j)`` for added level ``k`` and removed level ``j``) and the rest by less than
``M * R``. A matching that is not lexicographically best in (number matched at urgency
>= 3, >= 2, >= 1, >= 0) therefore has a path that raises its total score, so every
maximum-score matching is lexicographically best; the factor 2 leaves room for the QPV
bonus (``< M * R`` in total) without breaking that order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matching.domain import COMPONENTS, Instance, ScoreWeights
from matching.rules import EARTH_RADIUS_KM, Tables

__all__ = [
    "ScoreModel",
    "availability",
    "fit",
    "location",
    "rent",
    "urgency",
    "urgency_step",
    "waiting",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _cents(x: FloatArray) -> IntArray:
    return np.rint(x * 100.0).astype(np.int64)


def pair_max_cents(w: ScoreWeights) -> int:
    """Largest sum of the non-urgency components of a pair, in cents."""
    return (round(w.waiting_per_day * w.waiting_cap_days * 100) + round(w.location * 100)
            + round(w.fit * 100) + round(w.rent * 100) + round(w.availability * 100))


def urgency_step(instance: Instance) -> int:
    """The urgency step in cents (see the module docstring)."""
    m = max(1, min(len(instance.units), len(instance.households)))
    bound = 2 * m * pair_max_cents(instance.policy.score_weights) + 1
    step = 100
    while step < bound:
        step *= 10
    return step


def urgency(t: Tables, h: IntArray, step: int) -> IntArray:
    """``(urgency + 1) * step`` cents."""
    return (t.h_urgency[h] + 1) * step


def waiting(t: Tables, h: IntArray, w: ScoreWeights) -> IntArray:
    """Days waited since ``requested_on`` (capped), times the weight per day."""
    days = np.clip(t.as_of - t.h_requested[h], 0, w.waiting_cap_days)
    return _cents(w.waiting_per_day * days.astype(np.float64))


def location(t: Tables, u: IntArray, h: IntArray, w: ScoreWeights) -> IntArray:
    """Closeness of the unit to her nearest preferred point."""
    best = np.full(len(u), np.inf)
    lat_u, lon_u = t.u_lat[u], t.u_lon[u]
    for sel, j in t.pref.slots(h):
        dlon = np.mod(lon_u[sel] - t.pref_lon[j] + 180.0, 360.0) - 180.0
        x = np.radians(dlon) * t.pref_cos[j]
        y = np.radians(lat_u[sel] - t.pref_lat[j])
        d = EARTH_RADIUS_KM * np.sqrt(x * x + y * y)
        best[sel] = np.fmin(best[sel], d)  # fmin: NaN (no coordinates) loses
    value = w.location * np.maximum(0.0, 1.0 - best / w.location_range_km)
    value[~np.isfinite(best)] = 0.0
    return _cents(value)


def fit(t: Tables, u: IntArray, h: IntArray, w: ScoreWeights) -> IntArray:
    """Size fit: full weight unless the unit has more rooms than persons + 1."""
    excess = np.maximum(0, t.u_rooms[u] - t.h_persons[h] - 1).astype(np.float64)
    return _cents(w.fit * np.maximum(0.0, 1.0 - 0.5 * excess))


def rent(t: Tables, u: IntArray, h: IntArray, w: ScoreWeights) -> IntArray:
    """Rent burden margin: how far the burden stays under max_effort_rate."""
    income = t.h_income[h]
    net = t.u_cost[u] - t.h_allowance[h]
    positive = income > 0
    rate = np.divide(net, income, out=np.zeros_like(net), where=positive)
    margin = np.clip(1.0 - rate / t.max_rate, 0.0, 1.0)
    return _cents(w.rent * np.where(positive, margin, 1.0))


def availability(t: Tables, u: IntArray, h: IntArray, w: ScoreWeights, horizon_days: int,
                 ) -> IntArray:
    """Availability fit: the unit frees up when she is ready."""
    start = np.maximum(t.u_avail[u], t.as_of)
    ready = np.maximum(t.h_ready[h], t.as_of)
    gap = np.abs(start - ready).astype(np.float64)
    return _cents(w.availability * np.maximum(0.0, 1.0 - gap / max(horizon_days, 1)))


class ScoreModel:
    """Scores of an instance: household-only part and pair part, in cents."""

    def __init__(self, instance: Instance, t: Tables) -> None:
        self.t = t
        self.w = instance.policy.score_weights
        self.horizon_days = instance.policy.horizon_days
        self.step = urgency_step(instance)
        self.pair_max = (round(self.w.location * 100) + round(self.w.fit * 100)
                         + round(self.w.rent * 100) + round(self.w.availability * 100))
        everyone = np.arange(t.n_h, dtype=np.int64)
        self.h_urgency = urgency(t, everyone, self.step)
        self.h_waiting = waiting(t, everyone, self.w)
        #: household-only part of every score (urgency + waiting), cents
        self.h_part = self.h_urgency + self.h_waiting
        #: largest pair part per household (no location bonus without preferred points)
        self.h_pair_max = self.pair_max - np.where(
            t.pref.count > 0, 0, round(self.w.location * 100)).astype(np.int64)

    def pair_components(self, u: IntArray, h: IntArray) -> dict[str, IntArray]:
        """The pair-dependent components, in cents."""
        return {
            "location": location(self.t, u, h, self.w),
            "fit": fit(self.t, u, h, self.w),
            "rent": rent(self.t, u, h, self.w),
            "availability": availability(self.t, u, h, self.w, self.horizon_days),
        }

    def pair_part(self, u: IntArray, h: IntArray) -> IntArray:
        """Sum of the pair-dependent components, cents."""
        parts = self.pair_components(u, h)
        total: IntArray = parts["location"] + parts["fit"] + parts["rent"]
        total += parts["availability"]
        return total

    def components(self, u: IntArray, h: IntArray) -> dict[str, IntArray]:
        """All components (cents) in :data:`~matching.domain.COMPONENTS` order."""
        parts = self.pair_components(u, h)
        parts["urgency"] = self.h_urgency[h]
        parts["waiting"] = self.h_waiting[h]
        return {name: parts[name] for name in COMPONENTS}
