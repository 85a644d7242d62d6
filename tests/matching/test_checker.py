"""The independent checker catches broken results."""

from dataclasses import replace

from matching import Proposal, Unmatched, check, solve
from matching.generate import generate
from tests.matching.util import household, instance, unit


def _codes(violations: list) -> set[str]:
    return {v.code for v in violations}


def test_valid_result_has_no_violation() -> None:
    inst = generate(80, 25, 11)
    assert check(inst, solve(inst)) == []


def test_unsafe_proposal_is_reported() -> None:
    inst = instance([unit("U-1", rooms=1)], [household("H-1", children=3)])
    result = solve(inst)
    comps = {"urgency": 1.0, "waiting": 0.0, "location": 0.0, "fit": 0.0, "rent": 0.0,
             "availability": 0.0}
    bad = replace(result, proposals=(Proposal("U-1", "H-1", 1, 1.0, comps),), unmatched=())
    assert "size" in _codes(check(inst, bad))


def test_two_rank_one_for_a_household_and_gaps() -> None:
    inst = instance([unit("U-1"), unit("U-2")], [household("H-1"), household("H-2")])
    result = solve(inst)
    p = result.proposals[0]
    twice = replace(result, proposals=(
        p, replace(p, unit="U-2" if p.unit == "U-1" else "U-1"),
        replace(p, household="H-2", rank=3)))
    codes = _codes(check(inst, twice))
    assert "one_to_one" in codes and "ranks" in codes


def test_missing_unmatched_and_wrong_reasons() -> None:
    inst = instance([unit("U-1")], [household("H-1", urgency=3), household("H-2", urgency=0)])
    result = solve(inst)
    assert "unmatched" in _codes(check(inst, replace(result, unmatched=())))
    wrong = replace(result, unmatched=(Unmatched("H-2", ("size",)),))
    assert "reasons" in _codes(check(inst, wrong))


def test_suboptimal_result_is_reported() -> None:
    inst = instance([unit("U-1")], [household("H-1", urgency=3), household("H-2", urgency=0)])
    result = solve(inst)
    other = solve(instance([unit("U-1")], [household("H-2", urgency=0)]))
    swapped = replace(result, proposals=other.proposals,
                      unmatched=(Unmatched("H-1", ("competition",)),))
    codes = _codes(check(inst, swapped))
    assert "optimality" in codes and "urgency" in codes


def test_locked_pair_not_at_rank_one() -> None:
    inst = instance([unit("U-1")], [household("H-1"), household("H-2")],
                    locked=[("U-1", "H-2")])
    result = solve(inst)
    assert check(inst, result) == []
    moved = replace(result, proposals=tuple(replace(p, rank=3 - p.rank)
                                            for p in result.proposals))
    assert "locked" in _codes(check(inst, moved))


def test_time_limit_still_gives_a_safe_result() -> None:
    inst = generate(300, 90, 5)
    result = solve(inst, time_limit_s=0.0)
    assert result.stats["optimality"] in ("proven", "time_limit")
    assert _codes(check(inst, result)) <= {"optimality", "urgency"}
