"""Maximum-weight (b-)matching with OR-Tools' min-cost flow, and its dual prices.

The bipartite graph is given as numpy arrays of edges ``(h, u, w)`` with integer weights
(cents). The flow network is ``source -> household -> unit -> sink`` with unit
capacities (``cap_u`` on unit -> sink for alternates) and a ``source -> sink`` bypass so
that any household or unit may stay unmatched.

Dual prices. The LP of maximum-weight matching has the dual ``min sum(pi)`` subject to
``pi_h + pi_u >= w_hu`` for every edge and ``pi >= 0``. :func:`matching_duals` derives an
optimal dual from an optimal matching ``X`` (OR-Tools does not expose node potentials):
with ``pi_u = w(X-edge of u) - pi_h(u)`` on matched units, the constraints become
difference constraints on the matched households' ``pi_h`` plus bounds, solved as
shortest paths (a min-cost flow sending one unit from a root to every node, whose
positive-flow arcs are tight). Among all optimal duals it returns the one with the
*smallest* household prices (largest unit prices), which prices out most of the pairs
left outside a reduced problem. The result is verified (feasible, non-negative, and
``sum(pi) == w(X)``), so it is a certificate: ``w(X) = sum(pi)`` bounds every matching
of every edge set on which ``pi`` is feasible.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow, min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["b_matching", "b_matching_by_component", "lexicographic_matching", "matching_duals"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def b_matching(h: IntArray, u: IntArray, w: IntArray, n_h: int, n_u: int, *,
               cap_u: IntArray | int = 1, cap_h: IntArray | int = 1,
               h_cost: IntArray | None = None, u_cost: IntArray | None = None) -> BoolArray:
    """Edges of a maximum-weight b-matching: units take up to ``cap_u`` households,
    households up to ``cap_h`` units (each edge at most once).

    ``h_cost``/``u_cost`` (optional) are added to the source->household and unit->sink
    arcs (negative values reward covering a node). Returns a mask over the edges.
    """
    if len(h) == 0:
        return np.zeros(0, dtype=np.bool_)
    src, snk = n_h + n_u, n_h + n_u + 1
    caps_u = np.broadcast_to(np.asarray(cap_u, dtype=np.int64), (n_u,))
    caps_h = np.broadcast_to(np.asarray(cap_h, dtype=np.int64), (n_h,))
    # Bypass arc: any household or unit may stay unmatched.
    supply = min(int(caps_h.sum()), int(caps_u.sum()))
    tails = np.concatenate([np.full(n_h, src), h, n_h + np.arange(n_u), [src]])
    heads = np.concatenate([np.arange(n_h), n_h + u, np.full(n_u, snk), [snk]])
    caps = np.concatenate([caps_h, np.ones(len(h), np.int64), caps_u, [supply]])
    costs = np.concatenate([
        np.zeros(n_h, np.int64) if h_cost is None else h_cost,
        -w,
        np.zeros(n_u, np.int64) if u_cost is None else u_cost,
        [0],
    ])
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64),
        costs.astype(np.int64))
    mcf.set_nodes_supplies(np.array([src, snk], dtype=np.int32),
                           np.array([supply, -supply], dtype=np.int64))
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    arcs = np.arange(n_h, n_h + len(h), dtype=np.int32)
    flows = np.asarray(mcf.flows(arcs))
    out: BoolArray = flows > 0
    return out


def lexicographic_matching(h: IntArray, u: IntArray, w: IntArray, n_h: int, n_u: int,
                           step: int) -> BoolArray | None:
    """A maximum-weight matching when ``w = level(h) * step + r``, in two stages.

    Precondition (checked; None when it does not hold): every edge of a household has
    the same level ``w // step >= 1`` and ``min(n_h, n_u) * max(r) < step``. Then a
    matching has maximum weight if and only if it matches, for every level ``k``, as many
    households of level ``>= k`` as any matching can (the rank of that set in the
    transversal matroid), and, among those, has the largest ``sum(r)``:

    1. one max flow per level ``k`` on the edges of households of level ``>= k`` gives
       that rank and, from its minimum cut (Konig), a vertex cover ``C_k``. Summing the
       covers' indicator vectors gives optimal duals of the level weights (``alpha_h +
       beta_u >= level`` on every edge, ``sum = sum of the ranks``): every optimal
       matching uses only *tight* edges (equality);
    2. one min-cost flow on the tight edges, with costs ``-r`` only, that matches exactly
       the number of households of each level found in stage 1.

    Why: OR-Tools' cost scaling is slow on the lexicographic costs themselves (measured
    on 574,088 edges: 0.87 s in one flow, 0.47 s in these two stages, same optimum).
    """
    if len(h) == 0:
        return np.zeros(0, dtype=np.bool_)
    level = w // step
    rest = w - level * step
    h_level = np.zeros(n_h, dtype=np.int64)
    h_level[h] = level
    if (int(level.min()) < 1 or np.any(h_level[h] != level)
            or min(n_h, n_u) * int(rest.max()) >= step):
        return None
    top = int(level.max())
    src, snk = n_h + n_u, n_h + n_u + 1
    alpha = np.zeros(n_h, dtype=np.int64)
    beta = np.zeros(n_u, dtype=np.int64)
    ranks = []
    units = n_h + np.arange(n_u)
    for k in range(top, 0, -1):
        sel = level >= k
        hs = np.unique(h[sel])
        mf = max_flow.SimpleMaxFlow()
        tails = np.concatenate([np.full(len(hs), src), h[sel], units])
        heads = np.concatenate([hs, n_h + u[sel], np.full(n_u, snk)])
        mf.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32),
                                  np.ones(len(tails), dtype=np.int64))
        if mf.solve(src, snk) != mf.OPTIMAL:
            raise RuntimeError("lexicographic matching: max flow failed")
        ranks.append(mf.optimal_flow())
        reach = np.zeros(n_h + n_u + 2, dtype=np.bool_)
        reach[np.asarray(mf.get_source_side_min_cut(), dtype=np.int64)] = True
        in_graph = np.zeros(n_h, dtype=np.bool_)
        in_graph[hs] = True
        alpha += in_graph & ~reach[:n_h]
        beta += reach[n_h:n_h + n_u]
    if np.any(alpha[h] + beta[u] < level) or int(alpha.sum() + beta.sum()) != sum(ranks):
        raise RuntimeError("lexicographic matching: level duals are not optimal")
    tight = np.flatnonzero(alpha[h] + beta[u] == level)
    th, tu = h[tight], u[tight]
    # Households of each level to match: differences of the ranks (levels top..1).
    wanted = np.diff(np.concatenate([[0], ranks])).astype(np.int64)
    level_node = n_h + n_u + np.arange(top, dtype=np.int64)
    sink = n_h + n_u + top
    hs = np.unique(th)
    tails = np.concatenate([level_node[top - h_level[hs]], th, units])
    heads = np.concatenate([hs, n_h + tu, np.full(n_u, sink)])
    costs = np.concatenate([np.zeros(len(hs), np.int64), -rest[tight],
                            np.zeros(n_u, np.int64)])
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), np.ones(len(tails), np.int64),
        costs.astype(np.int64))
    mcf.set_nodes_supplies(np.concatenate([level_node, [sink]]).astype(np.int32),
                           np.concatenate([wanted, [-wanted.sum()]]).astype(np.int64))
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"lexicographic matching: min-cost flow failed: {status}")
    flows = np.asarray(mcf.flows(np.arange(len(hs), len(hs) + len(th), dtype=np.int32)))
    out = np.zeros(len(h), dtype=np.bool_)
    out[tight[flows > 0]] = True
    return out


def _max_weight(h: IntArray, u: IntArray, w: IntArray, n_h: int, n_u: int,
                step: int | None) -> BoolArray:
    found = None if step is None else lexicographic_matching(h, u, w, n_h, n_u, step)
    return b_matching(h, u, w, n_h, n_u) if found is None else found


#: Components with fewer nodes than this are solved together in one flow.
SMALL_COMPONENT = 2_000


def b_matching_by_component(h: IntArray, u: IntArray, w: IntArray, n_h: int, n_u: int,
                            step: int | None = None) -> BoolArray:
    """A maximum-weight matching (unit capacity), one connected component at a time.

    The components of a reduced candidate set (territories, once the far pairs are
    pruned) are independent problems; the cost-scaling flow takes markedly longer on
    their union than on each in turn (measured: 5.7 s whole, 3.6 s by component).
    With ``step`` (weights ``level * step + r``), each is solved by
    :func:`lexicographic_matching` when its precondition holds.
    """
    if len(h) == 0:
        return np.zeros(0, dtype=np.bool_)
    graph = coo_matrix((np.ones(len(h), dtype=np.int8), (h, n_h + u)),
                       shape=(n_h + n_u, n_h + n_u))
    n_comp, label = connected_components(graph, directed=False)
    edge_comp = label[h]
    if n_comp == 1:
        return _max_weight(h, u, w, n_h, n_u, step)
    nodes = np.bincount(label, minlength=n_comp)
    # Small components share one flow (one call each would cost more than it saves).
    group = np.where(nodes >= SMALL_COMPONENT, np.arange(n_comp), n_comp)[edge_comp]
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    out = np.zeros(len(h), dtype=np.bool_)
    for idx in np.split(order, bounds):
        hs, hl = np.unique(h[idx], return_inverse=True)
        us, ul = np.unique(u[idx], return_inverse=True)
        out[idx] = _max_weight(hl.astype(np.int64), ul.astype(np.int64), w[idx], len(hs),
                               len(us), step)
    return out


def _bellman_ford(n: int, tails: IntArray, heads: IntArray, lens: IntArray,
                  max_rounds: int) -> IntArray | None:
    """Vectorised Bellman-Ford from node 0; None if not settled within ``max_rounds``."""
    inf = np.int64(1) << np.int64(62)
    dist = np.full(n, inf, dtype=np.int64)
    dist[0] = 0
    order = np.argsort(heads, kind="stable")
    t_s, h_s, l_s = tails[order], heads[order], lens[order]
    starts = np.flatnonzero(np.concatenate([[True], h_s[1:] != h_s[:-1]]))
    targets = h_s[starts]
    active = np.zeros(n, dtype=np.bool_)
    active[0] = True
    for _ in range(max_rounds):
        live = active[t_s]
        if not live.any():
            return dist
        cand = np.where(live & (dist[t_s] < inf), dist[t_s] + l_s, inf)
        best = np.minimum.reduceat(cand, starts)
        better = best < dist[targets]
        active[:] = False
        if not better.any():
            return dist
        dist[targets[better]] = best[better]
        active[targets[better]] = True
    return None


def _shortest_from_root(n: int, tails: IntArray, heads: IntArray, lens: IntArray) -> IntArray:
    """Shortest distances from node 0 (every node reachable, no negative cycle).

    Vectorised Bellman-Ford first; if the paths are long, a min-cost flow that sends one
    unit from the root to every node (its positive-flow arcs are tight) settles it.
    """
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    found = _bellman_ford(n, tails, heads, lens, max_rounds=200)
    if found is not None:
        dist = found
    else:
        dist = _shortest_by_flow(n, tails, heads, lens)
    if np.any(dist >= np.int64(1) << np.int64(61)):
        raise RuntimeError("dual prices: a node is unreachable")
    if np.any(dist[heads] > dist[tails] + lens):
        raise RuntimeError("dual prices: distances are not shortest (negative cycle?)")
    return dist


def _shortest_by_flow(n: int, tails: IntArray, heads: IntArray, lens: IntArray) -> IntArray:
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), np.full(len(tails), n, np.int64),
        lens.astype(np.int64))
    supplies = np.full(n, -1, dtype=np.int64)
    supplies[0] = n - 1
    mcf.set_nodes_supplies(np.arange(n, dtype=np.int32), supplies)
    status = mcf.solve()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"dual prices: shortest paths failed: {status}")
    flows = np.asarray(mcf.flows(np.arange(len(tails), dtype=np.int32)))
    pos = np.flatnonzero(flows > 0)
    # Positive-flow arcs are tight: walk them from the root.
    order = np.argsort(tails[pos], kind="stable")
    pt, ph, pl = tails[pos][order], heads[pos][order], lens[pos][order]
    start = np.searchsorted(pt, np.arange(n + 1)).tolist()
    succ, step = ph.tolist(), pl.tolist()
    dist_l = [0] * n
    seen_l = [False] * n
    seen_l[0] = True
    queue = deque([0])
    while queue:
        a = queue.popleft()
        for k in range(start[a], start[a + 1]):
            b = succ[k]
            if not seen_l[b]:
                seen_l[b] = True
                dist_l[b] = dist_l[a] + step[k]
                queue.append(b)
    if not all(seen_l):
        raise RuntimeError("dual prices: a node is unreachable")
    return np.array(dist_l, dtype=np.int64)


def matching_duals(h: IntArray, u: IntArray, w: IntArray, matched: BoolArray, n_h: int,
                   n_u: int) -> tuple[IntArray, IntArray]:
    """Optimal dual prices ``(pi_h, pi_u)`` of the matching ``matched`` (an edge mask).

    :raise RuntimeError: if the matching is not optimal on these edges.
    """
    pi_h = np.zeros(n_h, dtype=np.int64)
    pi_u = np.zeros(n_u, dtype=np.int64)
    mate_h = np.full(n_h, -1, dtype=np.int64)
    mate_u = np.full(n_u, -1, dtype=np.int64)
    wm_u = np.zeros(n_u, dtype=np.int64)
    mh, mu, mw = h[matched], u[matched], w[matched]
    mate_h[mh], mate_u[mu], wm_u[mu] = mu, mh, mw
    if len(mh):
        node = np.full(n_h, -1, dtype=np.int64)
        node[mh] = 1 + np.arange(len(mh))
        rest = ~matched
        eh, eu, ew = h[rest], u[rest], w[rest]
        hm, um = mate_h[eh] >= 0, mate_u[eu] >= 0
        if np.any(ew[~hm & ~um] > 0):
            raise RuntimeError("dual prices: the matching is not maximal")
        lb = np.zeros(len(mh) + 1, dtype=np.int64)
        ub = np.zeros(len(mh) + 1, dtype=np.int64)
        ub[1:] = mw
        b = hm & ~um
        np.maximum.at(lb, node[eh[b]], ew[b])
        c = ~hm & um
        np.minimum.at(ub, node[mate_u[eu[c]]], wm_u[eu[c]] - ew[c])
        a = hm & um
        # original arc h -> mate(u): x_mate - x_h <= wm_u - w; reversed for "distance to
        # root": mate -> h. Bounds: x_h <= ub (root -> h), x_h >= lb (h -> root, -lb);
        # reversed: h -> root (ub), root -> h (-lb).
        k = np.arange(1, len(mh) + 1)
        tails = np.concatenate([node[mate_u[eu[a]]], k, np.zeros(len(mh), np.int64)])
        heads = np.concatenate([node[eh[a]], np.zeros(len(mh), np.int64), k])
        lens = np.concatenate([wm_u[eu[a]] - ew[a], ub[1:], -lb[1:]])
        dist = _shortest_from_root(len(mh) + 1, tails, heads, lens)
        x = -dist[1:]  # smallest feasible household prices
        pi_h[mh] = x
        pi_u[mu] = mw - x
    if (np.any(pi_h < 0) or np.any(pi_u < 0) or np.any(pi_h[h] + pi_u[u] < w)
            or int(pi_h.sum() + pi_u.sum()) != int(w[matched].sum())):
        raise RuntimeError("dual prices: certificate check failed (matching not optimal)")
    return pi_h, pi_u
