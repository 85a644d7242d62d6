"""The flow helpers: one flow per component gives the optimum of one flow over all."""

from __future__ import annotations

import numpy as np

from matching.flow import b_matching, b_matching_by_component, matching_duals


def _random_territories(seed: int, territories: int, n_h: int, n_u: int, degree: int):
    """Bipartite graphs of several territories side by side (no edge between them)."""
    rng = np.random.default_rng(seed)
    hs, us, ws = [], [], []
    for k in range(territories):
        h = np.repeat(np.arange(n_h), degree)
        u = rng.integers(0, n_u, len(h))
        # urgency-like levels far apart, plus a fine part: the structure of real scores
        w = rng.integers(1, 4, n_h)[h] * 10**9 + rng.integers(0, 10**5, len(h))
        hs.append(h + k * n_h)
        us.append(u + k * n_u)
        ws.append(w)
    h, u, w = (np.concatenate(x).astype(np.int64) for x in (hs, us, ws))
    key = h * territories * n_u + u
    _, first = np.unique(key, return_index=True)
    return h[first], u[first], w[first], territories * n_h, territories * n_u


def test_by_component_reaches_the_optimum_of_one_flow() -> None:
    for seed, (territories, n_h, n_u) in enumerate([(1, 300, 100), (5, 2_500, 900),
                                                     (40, 30, 10)]):
        h, u, w, n_h_all, n_u_all = _random_territories(seed, territories, n_h, n_u, 4)
        whole = b_matching(h, u, w, n_h_all, n_u_all)
        split = b_matching_by_component(h, u, w, n_h_all, n_u_all)
        assert int(w[split].sum()) == int(w[whole].sum())
        # a matching: each household and each unit at most once
        assert np.bincount(h[split]).max() <= 1 and np.bincount(u[split]).max() <= 1
        # and its dual certificate holds on every edge
        matching_duals(h, u, w, split, n_h_all, n_u_all)


def test_by_component_on_no_edge() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert len(b_matching_by_component(empty, empty, empty, 3, 2)) == 0
