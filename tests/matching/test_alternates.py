"""Ranks 2..k: alternates so that a commission always has candidates to examine."""

from matching import check, solve
from tests.matching.util import household, instance, unit


def test_unit_gets_ranked_alternates_with_gaps() -> None:
    hs = [household(f"H-{i}", urgency=u) for i, u in enumerate([3, 2, 1, 0])]
    inst = instance([unit("U-1")], hs, candidates_per_unit=3)
    result = solve(inst)
    assert check(inst, result) == []
    ranks = [(p.rank, p.household) for p in result.proposals]
    assert ranks == [(1, "H-0"), (2, "H-1"), (3, "H-2")]
    gaps = [p.score_gap for p in result.proposals]
    assert gaps[0] == 0 and 0 < gaps[1] < gaps[2]
    assert [u.household for u in result.unmatched] == ["H-1", "H-2", "H-3"]


def test_unmatched_households_come_first_then_others() -> None:
    # Two units, three households: the rank-1 households are also candidates elsewhere.
    hs = [household("H-0", urgency=3), household("H-1", urgency=3), household("H-2", urgency=0)]
    inst = instance([unit("U-1"), unit("U-2")], hs, candidates_per_unit=3)
    result = solve(inst)
    assert check(inst, result) == []
    by_unit: dict[str, list[str]] = {}
    for p in result.proposals:
        by_unit.setdefault(p.unit, []).append(p.household)
    for unit_id, members in by_unit.items():
        assert len(members) == 3, unit_id
        assert "H-2" in members  # the unmatched household is examined for both units


def test_one_candidate_per_unit() -> None:
    inst = instance([unit("U-1")], [household("H-0"), household("H-1")], candidates_per_unit=1)
    result = solve(inst)
    assert [p.rank for p in result.proposals] == [1]
    assert check(inst, result) == []


def test_vacant_unit_gets_no_alternates() -> None:
    inst = instance([unit("U-1"), unit("U-2", rooms=6, surface_m2=100.0)], [household("H-0")])
    result = solve(inst)
    assert {p.unit for p in result.proposals} == {"U-1"}
