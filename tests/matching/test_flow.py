"""The flow helpers: by component, or in two lexicographic stages, the optimum is the one
of a single flow over all edges."""

from __future__ import annotations

import numpy as np

from matching.flow import (
    b_matching,
    b_matching_by_component,
    lexicographic_matching,
    matching_duals,
)


def _random_territories(seed: int, territories: int, n_h: int, n_u: int, degree: int,
                        levels: tuple[int, ...] = (1, 2, 3)):
    """Bipartite graphs of several territories side by side (no edge between them)."""
    rng = np.random.default_rng(seed)
    hs, us, ws = [], [], []
    for k in range(territories):
        h = np.repeat(np.arange(n_h), degree)
        u = rng.integers(0, n_u, len(h))
        # urgency-like levels far apart, plus a fine part: the structure of real scores
        w = rng.choice(levels, n_h)[h] * 10**9 + rng.integers(0, 10**5, len(h))
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


def _is_matching(h, u, mask) -> bool:
    return bool(np.bincount(h[mask]).max() <= 1 and np.bincount(u[mask]).max() <= 1)


def test_lexicographic_stages_reach_the_optimum_of_one_flow() -> None:
    cases = [(1, 300, 100, (1, 2, 3)), (3, 800, 300, (1, 2, 3, 4)), (20, 12, 9, (2, 4)),
             (1, 50, 400, (1,)), (2, 400, 150, (1, 4))]
    for seed, (territories, n_h, n_u, levels) in enumerate(cases):
        h, u, w, n_h_all, n_u_all = _random_territories(seed, territories, n_h, n_u, 5,
                                                        levels)
        lex = lexicographic_matching(h, u, w, n_h_all, n_u_all, 10**9)
        assert lex is not None
        whole = b_matching(h, u, w, n_h_all, n_u_all)
        assert int(w[lex].sum()) == int(w[whole].sum())
        assert _is_matching(h, u, lex)
        matching_duals(h, u, w, lex, n_h_all, n_u_all)
        # the solver's entry point takes the same road, component by component
        split = b_matching_by_component(h, u, w, n_h_all, n_u_all, 10**9)
        assert int(w[split].sum()) == int(w[whole].sum())


def test_lexicographic_stages_refuse_weights_without_the_structure() -> None:
    h = np.array([0, 0, 1], dtype=np.int64)
    u = np.array([0, 1, 1], dtype=np.int64)
    # household 0 has edges of two levels
    assert lexicographic_matching(h, u, np.array([10**9, 2 * 10**9, 10**9]), 2, 2,
                                  10**9) is None
    # the fine part could add up to more than a level
    assert lexicographic_matching(h, u, np.array([10**9 + 6 * 10**8, 10**9, 10**9]), 2, 2,
                                  10**9) is None
    # a level 0 edge
    assert lexicographic_matching(h, u, np.array([5, 7, 10**9]), 2, 2, 10**9) is None
    # then the solver's entry point falls back to one flow and still finds the optimum
    # (both households matched, 2e9, or household 0 alone on unit 1, 2e9 too)
    w = np.array([10**9, 2 * 10**9 + 1, 10**9], dtype=np.int64)
    best = b_matching_by_component(h, u, w, 2, 2, 10**9)
    assert h[best].tolist() == [0] and u[best].tolist() == [1]
