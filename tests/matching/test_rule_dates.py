"""Rule 7, dates: both dates on or before as_of + horizon_days."""

from datetime import timedelta

from tests.matching.util import AS_OF, feasible, household, instance, unit


def test_last_day_of_the_horizon_is_allowed() -> None:
    day = AS_OF + timedelta(days=90)
    assert feasible(instance([unit(available_from=day)], [household(ready_from=day)]))


def test_unit_one_day_too_late() -> None:
    day = AS_OF + timedelta(days=91)
    inst = instance([unit(available_from=day)], [household()])
    assert not feasible(inst, "dates") and not feasible(inst)


def test_household_one_day_too_late() -> None:
    day = AS_OF + timedelta(days=91)
    inst = instance([unit()], [household(ready_from=day)])
    assert not feasible(inst, "dates") and not feasible(inst)


def test_policy_horizon() -> None:
    day = AS_OF + timedelta(days=10)
    assert not feasible(instance([unit(available_from=day)], [household()], horizon_days=9))
    assert feasible(instance([unit(available_from=day)], [household()], horizon_days=10))
