"""The solver: candidates, optimal rank 1 with a proof, QPV, alternates, explanations.

Phases (timed in ``stats["timings"]``):

1. ``candidates`` - one pass over the bucketed candidate pairs (:mod:`matching.rules`):
   count feasible pairs and the pairs each rule removed, score the feasible ones, and
   keep a reduced set ``E'``: each household's best pairs and each unit's best pairs.
2. ``flow`` - maximum-weight matching on ``E'`` (:mod:`matching.flow`: per connected
   component, urgency levels first by max flows, then the rest of the score by a min-cost
   flow on the edges that can carry an optimum), with locked pairs fixed beforehand
   (their units and households leave the problem).
3. ``pricing`` - optimal dual prices of that matching; every feasible pair outside
   ``E'`` is priced (vectorised, with bucket-level bounds that skip whole households);
   pairs with positive reduced profit ``w - pi_h - pi_u`` join ``E'`` and phase 2 runs
   again. When none is left, the dual prices are feasible for *all* feasible pairs and
   ``sum(pi)`` equals the matching's weight: the rank-1 matching is optimal on the full
   set (``stats["optimality"] == "proven"``).
4. ``qpv`` - the soft QPV target, pursued among optimal matchings (tolerance 0) or
   within ``qpv_score_tolerance`` of the optimum, never changing how many households are
   matched at each urgency level (so never leaving a fillable unit empty).
5. ``alternates`` - ranks 2..k: a second flow (unit capacity k-1) over households with
   no rank 1, then a third over the best remaining pairs of ``E'`` (households matched
   elsewhere too), each household in at most k proposals in all.
6. ``explain`` - reasons of unmatched households.

Reasons of a household without a rank-1 proposal: ``["competition"]`` when she has at
least one feasible pair (it went to others); otherwise the rules that removed at least
one of her pairs under the cascade of :mod:`matching.rules` (each unit's pair counted
for the first rule it breaks, in the order dates, size, search_area, exclusion_zone,
wheelchair, stairs, rent_burden, income_ceiling, forbidden), listed in that order; an
empty list only when the instance has no unit at all.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from matching.domain import COMPONENTS, RULES, Instance, Proposal, Result, Unmatched
from matching.flow import b_matching, b_matching_by_component, matching_duals
from matching.rules import Candidates, Tables, build_tables
from matching.scoring import ScoreModel

__all__ = ["solve"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Progress = Callable[[str, float], None]

#: Pairs kept per household and per unit in the first reduced set.
TOP_PER_HOUSEHOLD = 20
TOP_PER_UNIT_EXTRA = 3
#: New pairs added per household per pricing round (the most profitable ones).
PRICING_PER_HOUSEHOLD = 16
#: When all feasible pairs fit in this many, the reduced set is the full set.
POOL_ALL_LIMIT = 1_500_000
#: When the bucketed pairs are at most this many, skip the selection altogether.
POOL_ALL_GENERATED = 4_000_000
#: Pairs kept between full pricing scans (partial pricing), at most.
RESERVE_LIMIT = 20_000_000
_BIG = np.int64(1) << np.int64(62)
#: Pairs generated per chunk of the candidate and pricing passes (memory per chunk).
CHUNK_PAIRS = 1 << 21
MIN_CHUNK_PAIRS = 1 << 16
#: Threads for the chunked passes (numpy releases the GIL in its loops); 1 = none.
THREADS = max(1, min(2, os.cpu_count() or 1))

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(fn: Callable[[T], R], items: Iterable[T], threads: int = 0) -> Iterator[R]:
    """``map(fn, items)`` on ``threads`` threads, results in order, few chunks in flight.

    The chunks of the candidate and pricing passes are independent; their results are
    merged in order by the caller, so the outcome is the same as one thread's.
    """
    threads = threads or THREADS
    if threads <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        window: deque[Future[R]] = deque()
        for item in items:
            window.append(pool.submit(fn, item))
            if len(window) > threads:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def top_k_mask(groups: IntArray, scores: IntArray, k: int) -> BoolArray:
    """Mask of the ``k`` highest ``scores`` of each group (ties: earliest first)."""
    n = len(groups)
    out = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return out
    g0 = int(groups.min())
    g = groups - g0
    s = int(scores.max()) - scores
    bits_g = max(1, int(g.max()).bit_length())
    bits_s = max(1, int(s.max()).bit_length())
    bits_i = max(1, (n - 1).bit_length())
    if bits_g + bits_s + bits_i <= 63:
        key = (g << (bits_s + bits_i)) | (s << bits_i) | np.arange(n, dtype=np.int64)
        key.sort()
        order = key & ((1 << bits_i) - 1)
        gs = key >> (bits_s + bits_i)
    else:
        order = np.lexsort((np.arange(n), s, g))
        gs = g[order]
    first = np.flatnonzero(np.concatenate([[True], gs[1:] != gs[:-1]]))
    rank = np.arange(n) - np.repeat(first, np.diff(np.concatenate([first, [n]])))
    out[order[rank < k]] = True
    return out


class _Clock:
    def __init__(self, progress: Progress | None) -> None:
        self.start = time.perf_counter()
        self.last = self.start
        self.timings: dict[str, float] = {}
        self.progress = progress

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self.last, 4)
        self.last = now

    def tell(self, phase: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(phase, min(1.0, max(0.0, fraction)))

    def elapsed(self) -> float:
        return time.perf_counter() - self.start


class _Pool:
    """A deduplicated set of scored pairs (the reduced candidate set E')."""

    def __init__(self, n_u: int) -> None:
        self.n_u = n_u
        self.parts: list[tuple[IntArray, IntArray, IntArray]] = []

    def add(self, u: IntArray, h: IntArray, w: IntArray) -> None:
        if len(u):
            self.parts.append((u, h, w))

    def arrays(self) -> tuple[IntArray, IntArray, IntArray]:
        if not self.parts:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z
        u = np.concatenate([p[0] for p in self.parts])
        h = np.concatenate([p[1] for p in self.parts])
        w = np.concatenate([p[2] for p in self.parts])
        keys, first = np.unique(h * self.n_u + u, return_index=True)
        self.parts = [(u[first], h[first], w[first])]
        return self.parts[0]


def solve(instance: Instance, *, time_limit_s: float | None = None,
          progress: Progress | None = None,
          seed_pairs: Iterable[tuple[str, str]] | None = None) -> Result:
    """Propose units to households: safe, optimal at rank 1, urgent first, explained.

    :param time_limit_s: stop the pricing rounds after this many seconds (the result is
        then valid and safe but its optimality is not proven: ``stats["optimality"]``).
    :param progress: optional ``callable(phase, fraction)`` for a progress bar.
    :param seed_pairs: optional ``(unit id, household id)`` pairs (say, a previous run's
        proposals, see :func:`matching.resolve`) that join the first reduced set when
        feasible: a warm start that saves pricing rounds. The proof is the same (every
        feasible pair is priced), so is the optimum; unknown ids are ignored.
    """
    clock = _Clock(progress)
    policy = instance.policy
    t = build_tables(instance)
    cand = Candidates(t, CHUNK_PAIRS)
    model = ScoreModel(instance, t)
    uid = {u.id: i for i, u in enumerate(instance.units)}
    hid = {h.id: i for i, h in enumerate(instance.households)}
    locked_u = np.zeros(t.n_u, dtype=np.bool_)
    locked_h = np.zeros(t.n_h, dtype=np.bool_)
    lock_pairs = [(uid[p.unit], hid[p.household]) for p in instance.locked]
    for lu, lh in lock_pairs:
        locked_u[lu] = locked_h[lh] = True
    k = policy.candidates_per_unit
    seed_keys: IntArray | None = None
    if seed_pairs is not None:
        keys = [hid[hh] * t.n_u + uid[uu] for uu, hh in seed_pairs if uu in uid and hh in hid]
        seed_keys = np.unique(np.array(keys, dtype=np.int64)) if keys else None
    clock.lap("setup")

    # Phase 1: one pass over every candidate pair.
    pool = _Pool(t.n_u)
    k_unit = k + TOP_PER_UNIT_EXTRA
    top_u = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    thr = np.full(t.n_u, -1, dtype=np.int64)
    own = _Pool(t.n_u)  # each household's best pairs
    total = max(1, int(cand.gen_count.sum()))
    # Mid-size instances: enough chunks to keep every thread busy.
    cand.chunk_pairs = max(MIN_CHUNK_PAIRS, min(CHUNK_PAIRS, -(-total // (4 * THREADS))))
    done = 0
    everything: list[tuple[IntArray, IntArray, IntArray]] | None = []
    kept = 0
    all_mode = total <= POOL_ALL_GENERATED
    clock.tell("candidates", 0.0)
    def first_pass(hs: IntArray) -> tuple[int, IntArray, IntArray, IntArray, BoolArray]:
        u, h, zone = cand.expand(hs)
        generated = len(u)
        u, h = cand.evaluate(u, h, zone, count=True)
        free = ~locked_u[u] & ~locked_h[h]
        u, h = u[free], h[free]
        pp = model.pair_part(u, h)
        w: IntArray = model.h_part[h] + pp
        keep: BoolArray = (np.zeros(0, dtype=np.bool_) if all_mode or len(u) == 0
                           else top_k_mask(h, pp, TOP_PER_HOUSEHOLD))
        if seed_keys is not None and len(keep):
            keep |= np.isin(h * t.n_u + u, seed_keys)
        return generated, u, h, w, keep

    for generated, u, h, w, keep in ordered_map(first_pass, cand.household_chunks()):
        done += generated
        if len(u) == 0:
            continue
        if all_mode:
            # Few pairs: the reduced set is the full set, no selection needed.
            assert everything is not None
            everything.append((u, h, w))
            clock.tell("candidates", done / total)
            continue
        if everything is not None:
            kept += len(u)
            everything = everything + [(u, h, w)] if kept <= POOL_ALL_LIMIT else None
        own.add(u[keep], h[keep], w[keep])
        better = w > thr[u]
        if better.any():
            cu = np.concatenate([top_u[0], u[better]])
            ch = np.concatenate([top_u[1], h[better]])
            cw = np.concatenate([top_u[2], w[better]])
            sel = top_k_mask(cu, cw, k_unit)
            top_u = cu[sel], ch[sel], cw[sel]
            full = np.bincount(top_u[0], minlength=t.n_u) >= k_unit
            thr[:] = -1
            if full.any():
                # k_unit-th best score of each full unit
                order = np.lexsort((-top_u[2], top_u[0]))
                su, sw = top_u[0][order], top_u[2][order]
                first = np.searchsorted(su, np.arange(t.n_u))
                idx = first[full] + k_unit - 1
                thr[np.flatnonzero(full)] = sw[idx]
        clock.tell("candidates", done / total)
    pool.add(*top_u)
    pool.add(*own.arrays())
    if everything is not None:
        for part in everything:
            pool.add(*part)
        if all_mode:
            # each unit's best households also serve the alternates
            au, ah, aw = pool.arrays()
            best = top_k_mask(au, aw, k_unit)
            top_u = au[best], ah[best], aw[best]
        everything = None
    clock.lap("candidates")

    # Phases 2-3: flow on E', then price everything else; repeat until proven.
    rounds = 0
    added: list[int] = []
    reserve: tuple[IntArray, IntArray, IntArray] | None = None
    optimality = "proven"
    while True:
        rounds += 1
        pu, ph, pw = pool.arrays()
        clock.tell("flow", 0.0)
        hs_e, h_loc = np.unique(ph, return_inverse=True)
        us_e, u_loc = np.unique(pu, return_inverse=True)
        h_loc = h_loc.astype(np.int64)
        u_loc = u_loc.astype(np.int64)
        matched = b_matching_by_component(h_loc, u_loc, pw, len(hs_e), len(us_e),
                                          model.step)
        clock.lap("flow")
        clock.tell("pricing", 0.0)
        pih_l, piu_l = matching_duals(h_loc, u_loc, pw, matched, len(hs_e), len(us_e))
        pi_h = np.zeros(t.n_h, dtype=np.int64)
        pi_u = np.zeros(t.n_u, dtype=np.int64)
        pi_h[hs_e], pi_u[us_e] = pih_l, piu_l
        pi_u[locked_u] = _BIG
        # Drop pairs that are far from mattering (reduced profit below minus half an
        # urgency step): the flow stays small; pricing brings them back if prices move.
        profit = pw - pi_h[ph] - pi_u[pu]
        keep = matched | (profit >= -(model.step // 2))
        if not keep.all():
            pool.parts = [(pu[keep], ph[keep], pw[keep])]
        # Pairs of the pool (before pruning) are already dual-feasible under these prices:
        # only households with pairs outside it need pricing.
        pool_count = np.bincount(ph, minlength=t.n_h)
        margin = model.step // 2
        new = None
        if reserve is not None:
            # Partial pricing: first the pairs found near the margin by the last full scan.
            ru, rh, rw = reserve
            gain = rw - pi_h[rh] - pi_u[ru]
            pos = gain > 0
            if pos.any():
                pick = np.flatnonzero(pos)[top_k_mask(rh[pos], gain[pos],
                                                      PRICING_PER_HOUSEHOLD)]
                new = ru[pick], rh[pick], rw[pick]
        if new is None:
            # Full pricing: the proof when it finds nothing.
            new, reserve = _price(cand, model, pi_h, pi_u, locked_h, pool_count, margin)
        clock.lap("pricing")
        if new is None:
            break
        added.append(len(new[0]))
        pool.add(*new)
        if time_limit_s is not None and clock.elapsed() > time_limit_s:
            optimality = "time_limit"
            pu, ph, pw = pool.arrays()
            hs_e, h_loc = np.unique(ph, return_inverse=True)
            us_e, u_loc = np.unique(pu, return_inverse=True)
            h_loc, u_loc = h_loc.astype(np.int64), u_loc.astype(np.int64)
            matched = b_matching_by_component(h_loc, u_loc, pw, len(hs_e), len(us_e),
                                          model.step)
            keep = np.ones(len(pu), dtype=np.bool_)
            pi_h = pi_u = np.zeros(0, dtype=np.int64)
            break
    lock_u = np.array([a for a, _ in lock_pairs], dtype=np.int64)
    lock_h = np.array([b for _, b in lock_pairs], dtype=np.int64)
    locked_sum = int((model.h_part[lock_h] + model.pair_part(lock_u, lock_h)).sum())
    bound = (int(pi_h.sum() + pi_u[~locked_u].sum()) + locked_sum
             if optimality == "proven" else None)
    best_sum = int(pw[matched].sum())
    mate_u = np.full(t.n_u, -1, dtype=np.int64)
    mate_u[us_e[u_loc[matched]]] = hs_e[h_loc[matched]]
    pu, ph, pw = pu[keep], ph[keep], pw[keep]  # the pool as it is now

    # Phase 4: QPV target among optimal matchings.
    qpv_stats: dict[str, Any] | None = None
    if policy.qpv_lowest_quartile_share is not None and policy.lowest_quartile_income is not None:
        clock.tell("qpv", 0.0)
        from matching.qpv import pursue_qpv

        mate_u, qpv_stats = pursue_qpv(
            instance, t, model, pu, ph, pw, mate_u, locked_u, lock_pairs,
            pi_h if optimality == "proven" else None,
            pi_u if optimality == "proven" else None, best_sum)
        clock.lap("qpv")
    for lu, lh in lock_pairs:
        mate_u[lu] = lh

    # Phase 5: alternates.
    clock.tell("alternates", 0.0)
    # Alternates look at the final pool plus each unit's best households of phase 1.
    pool.add(*top_u)
    au, ah, aw = pool.arrays()
    alternates = _alternates(t, au, ah, aw, mate_u, k)
    clock.lap("alternates")

    # Phase 6: proposals, explanations, stats.
    clock.tell("explain", 0.0)
    result = _result(instance, t, cand, model, mate_u, alternates, clock, rounds, optimality,
                     bound, len(pu), qpv_stats, added)
    clock.tell("explain", 1.0)
    return result


def _price(cand: Candidates, model: ScoreModel, pi_h: IntArray, pi_u: IntArray,
           locked_h: BoolArray, pool_count: IntArray, margin: int,
           ) -> tuple[tuple[IntArray, IntArray, IntArray] | None,
                      tuple[IntArray, IntArray, IntArray]]:
    """Feasible pairs with positive reduced profit ``w - pi_h - pi_u`` (at most
    ``PRICING_PER_HOUSEHOLD`` per household), or None if there is none; and the
    *reserve*: every feasible pair scanned whose reduced profit is above ``-margin``."""
    t = cand.t
    empty = np.zeros(0, dtype=np.int64)
    # Upper bound of w - pi_h over all pairs of a household, plus the reserve margin.
    bound = model.h_part + model.h_pair_max - pi_h + margin
    # Smallest unit price of each bucket (units listed bucket by bucket in cand.perm).
    nonempty = cand.bucket_len > 0
    bmin = np.full(len(cand.bucket_len), _BIG, dtype=np.int64)
    if nonempty.any():
        bmin[nonempty] = np.minimum.reduceat(pi_u[cand.perm], cand.bucket_start[nonempty])
    rec_open = bound[cand.rec_h] > bmin[cand.rec_b]
    open_count = np.bincount(cand.rec_h[rec_open], minlength=t.n_h)
    scan = (open_count > 0) & (cand.feasible > pool_count) & ~locked_h
    hs = np.flatnonzero(scan)
    if len(hs) == 0:
        return None, (empty, empty, empty)
    weight = np.bincount(cand.rec_h[rec_open], weights=cand.bucket_len[cand.rec_b[rec_open]],
                         minlength=t.n_h).astype(np.int64)[hs]
    found: list[tuple[IntArray, IntArray, IntArray]] = []
    near: list[tuple[IntArray, IntArray, IntArray]] = []
    kept = 0
    def price_chunk(chunk: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        u, h, zone = cand.expand(chunk, lambda rh, rb: bound[rh] > bmin[rb])
        keep = bound[h] > pi_u[u]
        u, h, zone = cand.evaluate_cheap(u[keep], h[keep], zone[keep])
        w = model.h_part[h] + model.pair_part(u, h)
        profit = w - pi_h[h] - pi_u[u]
        pos = profit > -margin
        u, h, w, profit = u[pos], h[pos], w[pos], profit[pos]
        # The costliest rule last, on the few pairs that could matter.
        safe = cand.zones_ok(u, h, zone[pos])
        return u[safe], h[safe], w[safe], profit[safe]

    for u, h, w, profit in ordered_map(price_chunk, cand.household_chunks(hs, weight)):
        if len(u) == 0:
            continue
        if kept <= RESERVE_LIMIT:
            near.append((u, h, w))
            kept += len(u)
        better = profit > 0
        if better.any():
            u, h, w, profit = u[better], h[better], w[better], profit[better]
            sel = top_k_mask(h, profit, PRICING_PER_HOUSEHOLD)
            found.append((u[sel], h[sel], w[sel]))
    reserve = ((np.concatenate([f[0] for f in near]), np.concatenate([f[1] for f in near]),
                np.concatenate([f[2] for f in near]))
               if near and kept <= RESERVE_LIMIT else (empty, empty, empty))
    if not found:
        return None, reserve
    return (np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]),
            np.concatenate([f[2] for f in found])), reserve


def _alternates(t: Tables, pu: IntArray, ph: IntArray, pw: IntArray, mate_u: IntArray,
                k: int) -> tuple[IntArray, IntArray, IntArray]:
    """Alternate pairs (u, h, w): up to k-1 per unit that has a rank-1 household, and at
    most k proposals per household in all (her rank 1 included)."""
    empty = np.zeros(0, dtype=np.int64)
    if k < 2 or len(pu) == 0:
        return empty, empty, empty
    has_rank1 = mate_u >= 0
    matched_h = np.zeros(t.n_h, dtype=np.bool_)
    matched_h[mate_u[has_rank1]] = True
    ok = has_rank1[pu] & (mate_u[pu] != ph)
    u, h, w = pu[ok], ph[ok], pw[ok]
    # First: households without a rank-1 proposal, one unit each, by a second flow.
    first = ~matched_h[h]
    chosen = np.zeros(len(u), dtype=np.bool_)
    if first.any():
        chosen[np.flatnonzero(first)[_flow(u[first], h[first], w[first], k - 1, 1)]] = True
    # Then: the best pairs left for the free slots, each household up to k proposals. Without
    # that cap, a household urgent enough to rank high everywhere was an alternate for every
    # unit of her area (210 proposals for one household in a 10,000 x 3,000 instance): her
    # association would have had 210 offers to answer, and other households none.
    free_u = (k - 1) - np.bincount(u[chosen], minlength=t.n_u)
    left_h = k - matched_h.astype(np.int64) - np.bincount(h[chosen], minlength=t.n_h)
    rest = np.flatnonzero(~chosen & (free_u[u] > 0) & (left_h[h] > 0))
    if len(rest):
        chosen[rest[_flow(u[rest], h[rest], w[rest], free_u, left_h)]] = True
    return u[chosen], h[chosen], w[chosen]


def _flow(u: IntArray, h: IntArray, w: IntArray, cap_u: IntArray | int,
          cap_h: IntArray | int) -> BoolArray:
    """A maximum-weight b-matching of these pairs (capacities indexed by global ids)."""
    hs, hl = np.unique(h, return_inverse=True)
    us, ul = np.unique(u, return_inverse=True)
    caps_u = cap_u[us] if isinstance(cap_u, np.ndarray) else cap_u
    caps_h = cap_h[hs] if isinstance(cap_h, np.ndarray) else cap_h
    return b_matching(hl.astype(np.int64), ul.astype(np.int64), w, len(hs), len(us),
                      cap_u=caps_u, cap_h=caps_h)


def _result(instance: Instance, t: Tables, cand: Candidates, model: ScoreModel,
            mate_u: IntArray, alternates: tuple[IntArray, IntArray, IntArray],
            clock: _Clock, rounds: int, optimality: str, bound: int | None,
            pool_size: int, qpv_stats: dict[str, Any] | None, added: list[int]) -> Result:
    r1_u = np.flatnonzero(mate_u >= 0)
    r1_h = mate_u[r1_u]
    au, ah, _ = alternates
    all_u = np.concatenate([r1_u, au])
    all_h = np.concatenate([r1_h, ah])
    comps = model.components(all_u, all_h)
    score = np.zeros(len(all_u), dtype=np.int64)
    for name in COMPONENTS:
        score += comps[name]
    rank1_score = np.zeros(t.n_u, dtype=np.int64)
    rank1_score[r1_u] = score[: len(r1_u)]
    is_alt = np.concatenate([np.zeros(len(r1_u), np.bool_), np.ones(len(au), np.bool_)])
    # Order: by unit, rank 1 first, then alternates by score (desc), then household.
    order = np.lexsort((all_h, -score, is_alt, all_u))
    units, households = instance.units, instance.households
    proposals: list[Proposal] = []
    rank = 0
    prev = -1
    comp_lists = {name: comps[name].tolist() for name in COMPONENTS}
    score_l, u_l, h_l = score.tolist(), all_u.tolist(), all_h.tolist()
    gap_base = rank1_score.tolist()
    for i in order.tolist():
        ui = u_l[i]
        rank = rank + 1 if ui == prev else 1
        prev = ui
        proposals.append(Proposal(
            unit=units[ui].id, household=households[h_l[i]].id, rank=rank,
            score=score_l[i] / 100,
            components={name: comp_lists[name][i] / 100 for name in COMPONENTS},
            score_gap=(gap_base[ui] - score_l[i]) / 100,
        ))
    matched_h = np.zeros(t.n_h, dtype=np.bool_)
    matched_h[r1_h] = True
    unmatched: list[Unmatched] = []
    removed = cand.removed
    for hi in np.flatnonzero(~matched_h).tolist():
        if cand.feasible[hi] > 0:
            reasons: tuple[str, ...] = ("competition",)
        else:
            reasons = tuple(RULES[r] for r in range(len(RULES)) if removed[r, hi] > 0)
        unmatched.append(Unmatched(household=households[hi].id, reasons=reasons))
    urg = t.h_urgency[r1_h]
    objective = int(rank1_score.sum())
    stats: dict[str, Any] = {
        "units": t.n_u,
        "households": t.n_h,
        "feasible_pairs": int(cand.feasible.sum()),
        "matched": len(r1_u),
        "objective": objective / 100,
        "matched_by_urgency": {str(level): int((urg == level).sum()) for level in (3, 2, 1, 0)},
        "alternates": len(au),
        "removed_pairs": {name: int(removed[i].sum()) for i, name in enumerate(RULES)},
        "unmatched_by_reason": _reason_counts(unmatched),
        "optimality": optimality,
        "upper_bound": None if bound is None else bound / 100,
        "candidate_pairs": pool_size,
        "pricing_rounds": rounds,
        "pricing_added": added,
        "urgency_step": model.step / 100,
    }
    if qpv_stats is not None:
        stats["qpv"] = qpv_stats
    clock.lap("explain")
    timings = dict(clock.timings)
    timings["total"] = round(clock.elapsed(), 4)
    timings["solve_seconds"] = timings["total"]
    stats["timings"] = timings
    return Result(proposals=tuple(proposals), unmatched=tuple(unmatched), stats=stats)


def _reason_counts(unmatched: list[Unmatched]) -> dict[str, int]:
    counts = dict.fromkeys((*RULES, "competition"), 0)
    for um in unmatched:
        for r in um.reasons:
            counts[r] += 1
    return {k: v for k, v in counts.items() if v}
