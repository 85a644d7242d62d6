"""Rule 8, decisions: forbidden pairs are never proposed; locked pairs are rank 1."""

import pytest

from matching import InstanceError, check, instance_from_dict, instance_to_dict, solve
from tests.matching.util import feasible, household, instance, unit


def test_forbidden_pair_is_refused() -> None:
    inst = instance(forbidden=[("U-1", "H-1")])
    assert not feasible(inst, "forbidden") and not feasible(inst)
    result = solve(inst)
    assert result.proposals == ()
    assert [u.reasons for u in result.unmatched] == [("forbidden",)]
    assert check(inst, result) == []


def test_other_pairs_stay_allowed() -> None:
    inst = instance([unit("U-1"), unit("U-2")], [household("H-1")], forbidden=[("U-1", "H-1")])
    result = solve(inst)
    assert [(p.unit, p.household, p.rank) for p in result.proposals] == [("U-2", "H-1", 1)]


def test_locked_pair_is_rank_one_even_when_not_optimal() -> None:
    urgent = household("H-2", urgency=3)
    inst = instance([unit("U-1")], [household("H-1", urgency=0), urgent],
                    locked=[("U-1", "H-1")])
    result = solve(inst)
    rank1 = [(p.unit, p.household) for p in result.proposals if p.rank == 1]
    assert rank1 == [("U-1", "H-1")]
    assert check(inst, result) == []
    assert [(u.household, u.reasons) for u in result.unmatched] == [("H-2", ("competition",))]


def test_locked_pair_breaking_a_rule_is_bad_input() -> None:
    inst = instance([unit("U-1", rooms=1)], [household("H-1", children=3)])
    doc = instance_to_dict(inst)
    doc["locked"] = [{"unit": "U-1", "household": "H-1"}]
    with pytest.raises(InstanceError, match=r'locked\[0\].*"size"'):
        instance_from_dict(doc)


def test_locked_and_forbidden_pair_is_bad_input() -> None:
    doc = instance_to_dict(instance())
    doc["locked"] = [{"unit": "U-1", "household": "H-1"}]
    doc["forbidden"] = [{"unit": "U-1", "household": "H-1"}]
    with pytest.raises(InstanceError, match="both locked and forbidden"):
        instance_from_dict(doc)
