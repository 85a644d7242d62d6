"""Rule 4, stairs: the need requires floor 0 or an elevator."""

from tests.matching.util import feasible, household, instance, unit


def test_ground_floor() -> None:
    assert feasible(instance([unit(floor=0, elevator=False)], [household(needs_no_stairs=True)]))


def test_elevator() -> None:
    assert feasible(instance([unit(floor=5, elevator=True)], [household(needs_no_stairs=True)]))


def test_upper_floor_without_elevator() -> None:
    inst = instance([unit(floor=1, elevator=False)], [household(needs_no_stairs=True)])
    assert not feasible(inst, "stairs") and not feasible(inst)


def test_no_need() -> None:
    assert feasible(instance([unit(floor=4, elevator=False)], [household()]))
