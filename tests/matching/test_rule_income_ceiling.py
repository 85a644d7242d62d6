"""Rule 9, income ceiling by financing and household size."""

from tests.matching.util import feasible, household, instance, unit

CEILINGS = {"PLAI": (10000.0, 15000.0, 20000.0, 25000.0, 30000.0, 35000.0)}


def test_at_the_ceiling() -> None:
    inst = instance([unit(financing="PLAI")], [household(reference_income=15000.0)],
                    income_ceilings=CEILINGS)
    assert feasible(inst, "income_ceiling") and feasible(inst)


def test_above_the_ceiling() -> None:
    inst = instance([unit(financing="PLAI")], [household(reference_income=15000.5)],
                    income_ceilings=CEILINGS)
    assert not feasible(inst, "income_ceiling") and not feasible(inst)


def test_zero_income_is_under_any_ceiling() -> None:
    inst = instance([unit(financing="PLAI")], [household(reference_income=0.0)],
                    income_ceilings=CEILINGS)
    assert feasible(inst, "income_ceiling")


def test_unknown_income_or_financing_or_table() -> None:
    assert feasible(instance([unit(financing="PLAI")], [household(reference_income=None)],
                             income_ceilings=CEILINGS))
    assert feasible(instance([unit(financing="PLS")], [household(reference_income=99999.0)],
                             income_ceilings=CEILINGS))
    assert feasible(instance([unit(financing=None)], [household(reference_income=99999.0)],
                             income_ceilings=CEILINGS))
    assert feasible(instance([unit(financing="PLAI")], [household(reference_income=99999.0)]))


def test_seven_persons_use_the_six_plus_ceiling() -> None:
    big = unit(rooms=5, surface_m2=90.0, financing="PLAI", rent=100.0)
    ok = household(adults=2, children=5, reference_income=35000.0)
    assert feasible(instance([big], [ok], income_ceilings=CEILINGS), "income_ceiling")
    over = household(adults=2, children=5, reference_income=35001.0)
    assert not feasible(instance([big], [over], income_ceilings=CEILINGS), "income_ceiling")
