"""The QPV target: a soft goal pursued among (near-)optimal rank-1 matchings.

The target: a share ``t = qpv_lowest_quartile_share`` of the rank-1 matches of units
outside QPV go to poorest-quartile households (``monthly_income <
lowest_quartile_income``). With ``q`` such matches and ``n`` rank-1 matches outside
QPV, the share is ``q / n``; the solver maximises the surplus ``q - t * n`` (``>= 0``
exactly when the target is met), as an integer bonus per edge
``beta = 1000 * [poor] - round(1000 * t)`` on units outside QPV (0 in QPV).

1. Ties (always): the optimal matchings are exactly the matchings of *tight* edges
   (``w = pi_h + pi_u`` for the proven dual prices) covering every node with a positive
   price. A min-cost flow on tight edges, rewarding the coverage of priced nodes far more
   than any total bonus, maximises the bonus among optimal matchings. The rank-1 score
   sum is unchanged.
2. Tolerance (``qpv_score_tolerance > 0`` and the target still missed): Lagrangian
   search on ``w + lambda * beta / 1000`` over the reduced candidate set, keeping the
   rank-1 score sum >= ``(1 - tolerance)`` times the optimum and the number of households
   matched at each urgency level (``lambda`` stays below the slack of the urgency step,
   so it cannot trade an urgent household or a filled unit for the target; checked
   anyway). The smallest ``lambda`` that reaches the target is kept, or the best share
   within the budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from matching.domain import Instance
from matching.flow import b_matching
from matching.rules import Tables
from matching.scoring import ScoreModel, pair_max_cents

__all__ = ["pursue_qpv"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _levels(t: Tables, mate_u: IntArray) -> tuple[int, ...]:
    urg = t.h_urgency[mate_u[mate_u >= 0]]
    return tuple(int((urg >= level).sum()) for level in (3, 2, 1, 0))


def pursue_qpv(instance: Instance, t: Tables, model: ScoreModel, pu: IntArray, ph: IntArray,
               pw: IntArray, mate_u: IntArray, locked_u: BoolArray,
               lock_pairs: list[tuple[int, int]], pi_h: IntArray | None,
               pi_u: IntArray | None, best_sum: int) -> tuple[IntArray, dict[str, Any]]:
    """Return the rank-1 ``mate_u`` (free units only) after pursuing the QPV target."""
    p = instance.policy
    target = float(p.qpv_lowest_quartile_share or 0.0)
    limit = float(p.lowest_quartile_income or 0.0)
    tol = p.qpv_score_tolerance
    poor = t.h_income < limit
    lock_u = np.array([a for a, _ in lock_pairs], dtype=np.int64)
    lock_h = np.array([b for _, b in lock_pairs], dtype=np.int64)
    locked_sum = int((model.h_part[lock_h] + model.pair_part(lock_u, lock_h)).sum()) \
        if len(lock_u) else 0

    def share(mate: IntArray) -> tuple[int, int]:
        full = mate.copy()
        full[lock_u] = lock_h
        out = (full >= 0) & ~t.u_qpv
        return int(poor[full[out]].sum()), int(out.sum())

    def ratio(qn: tuple[int, int]) -> float:
        return qn[0] / qn[1] if qn[1] else 1.0

    t_milli = round(target * 1000)
    beta = np.where(t.u_qpv[pu], 0, np.where(poor[ph], 1000 - t_milli, -t_milli))
    hs, hl = np.unique(ph, return_inverse=True)
    us, ul = np.unique(pu, return_inverse=True)
    hl, ul = hl.astype(np.int64), ul.astype(np.int64)

    def to_mate(sel: BoolArray) -> IntArray:
        mate = np.full(t.n_u, -1, dtype=np.int64)
        mate[pu[sel]] = ph[sel]
        return mate

    base_levels = _levels(t, mate_u)
    before = share(mate_u)
    best_mate, best_total = mate_u, best_sum
    if pi_h is not None and pi_u is not None and len(pu):
        tight = pw == pi_h[ph] + pi_u[pu]
        big = 1000 * (len(hs) + len(us) + 1) + 1
        h_cost = np.where(pi_h[hs] > 0, -big, 0).astype(np.int64)
        u_cost = np.where(pi_u[us] > 0, -big, 0).astype(np.int64)
        idx = np.flatnonzero(tight)
        sel = b_matching(hl[idx], ul[idx], beta[idx].astype(np.int64), len(hs), len(us),
                         h_cost=h_cost, u_cost=u_cost)
        chosen = np.zeros(len(pu), dtype=np.bool_)
        chosen[idx[sel]] = True
        if int(pw[chosen].sum()) == best_sum and _levels(t, to_mate(chosen)) == base_levels:
            best_mate = to_mate(chosen)
    reached = ratio(share(best_mate)) >= target
    if tol > 0 and not reached and len(pu):
        budget = (1 - tol) * (best_sum + locked_sum) - locked_sum
        lam_max = pair_max_cents(p.score_weights)
        tried: dict[int, tuple[IntArray, int, float]] = {}

        def run(lam: int) -> tuple[IntArray, int, float] | None:
            if lam not in tried:
                wl = pw + (lam * beta) // 1000
                sel = b_matching(hl, ul, wl, len(hs), len(us))
                mate = to_mate(sel)
                total = int(pw[sel].sum())
                if _levels(t, mate) != base_levels:
                    total = -1
                tried[lam] = (mate, total, ratio(share(mate)))
            res = tried[lam]
            return res if res[1] >= budget else None

        lo, hi = 0, lam_max
        if run(hi) is None:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if run(mid) is None:
                    hi = mid
                else:
                    lo = mid
            hi = lo
        top = run(hi)
        if top is not None and top[2] >= target:
            lo = 0
            while hi - lo > 1:
                mid = (lo + hi) // 2
                res = run(mid)
                if res is not None and res[2] >= target:
                    hi = mid
                else:
                    lo = mid
        ok = [v for v in tried.values() if v[1] >= budget]
        hit = [v for v in ok if v[2] >= target]
        pick = max(hit, key=lambda v: v[1]) if hit else max(ok, key=lambda v: (v[2], v[1]),
                                                             default=None)
        if pick is not None and (hit or pick[2] > ratio(share(best_mate))):
            best_mate, best_total = pick[0], pick[1]
    q, n = share(best_mate)
    stats = {
        "target": target,
        "share": round(ratio((q, n)), 6),
        "share_at_plain_optimum": round(ratio(before), 6),
        "reached": ratio((q, n)) >= target,
        "matches_outside_qpv": n,
        "poorest_quartile_outside_qpv": q,
        "tolerance": tol,
        "score_given_up": (best_sum - best_total) / 100,
    }
    return best_mate, stats
