"""Rule 3, wheelchair: the need requires an accessible unit."""

from tests.matching.util import feasible, household, instance, unit


def test_need_met() -> None:
    inst = instance([unit(wheelchair_accessible=True)], [household(needs_wheelchair_access=True)])
    assert feasible(inst, "wheelchair") and feasible(inst)


def test_need_not_met() -> None:
    inst = instance([unit(wheelchair_accessible=False)],
                    [household(needs_wheelchair_access=True)])
    assert not feasible(inst, "wheelchair") and not feasible(inst)


def test_no_need() -> None:
    assert feasible(instance([unit(wheelchair_accessible=False)], [household()]))
