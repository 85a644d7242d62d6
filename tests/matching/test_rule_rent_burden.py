"""Rule 2, rent burden: (rent + charges - allowance) / income <= max_effort_rate."""

from tests.matching.util import feasible, household, instance, unit


def test_exact_boundary_is_allowed() -> None:
    # net = 300 + 50 - 50 = 300 = 0.30 * 1000
    inst = instance([unit(rent=300.0, charges=50.0)],
                    [household(monthly_income=1000.0, housing_allowance=50.0)])
    assert feasible(inst, "rent_burden")
    assert feasible(inst)


def test_one_cent_over_is_refused() -> None:
    inst = instance([unit(rent=300.01, charges=50.0)],
                    [household(monthly_income=1000.0, housing_allowance=50.0)])
    assert not feasible(inst, "rent_burden")
    assert not feasible(inst)


def test_policy_rate() -> None:
    inst = instance([unit(rent=300.0, charges=50.0)],
                    [household(monthly_income=1000.0, housing_allowance=50.0)],
                    max_effort_rate=0.25)
    assert not feasible(inst)


def test_zero_income_only_when_net_rent_is_not_positive() -> None:
    covered = household(monthly_income=0.0, housing_allowance=350.0, reference_income=0.0)
    assert feasible(instance([unit(rent=300.0, charges=50.0)], [covered]))
    short = household(monthly_income=0.0, housing_allowance=349.99)
    assert not feasible(instance([unit(rent=300.0, charges=50.0)], [short]), "rent_burden")
    assert not feasible(instance([unit(rent=300.0, charges=50.0)], [short]))
