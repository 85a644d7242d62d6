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


def test_a_household_gets_at_most_k_proposals_and_the_others_the_slots_she_leaves() -> None:
    # Eight units, and one household more urgent than all the others: without a cap she
    # would be an alternate on every unit she does not get at rank 1.
    units = [unit(f"U-{i}") for i in range(8)]
    hs = [household("H-top", urgency=3)] + [household(f"H-{i}", urgency=1) for i in range(9)]
    inst = instance(units, hs, candidates_per_unit=3)
    result = solve(inst)
    assert check(inst, result) == []
    per_household: dict[str, int] = {}
    for p in result.proposals:
        per_household[p.household] = per_household.get(p.household, 0) + 1
    assert per_household["H-top"] == 3  # her rank 1 and two alternates
    assert max(per_household.values()) <= 3
    # Every unit still has its three candidates: others take the slots she leaves.
    per_unit: dict[str, int] = {}
    for p in result.proposals:
        per_unit[p.unit] = per_unit.get(p.unit, 0) + 1
    assert per_unit == {u.id: 3 for u in units}


def test_no_household_is_offered_more_than_k_units_on_a_generated_instance() -> None:
    from matching.generate import generate

    inst = generate(1_500, 400, seed=7)
    result = solve(inst)
    assert check(inst, result) == []
    counts: dict[str, int] = {}
    for p in result.proposals:
        counts[p.household] = counts.get(p.household, 0) + 1
    assert max(counts.values()) <= inst.policy.candidates_per_unit
