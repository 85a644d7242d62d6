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


# A unit's own ceilings (its financing in its zone, set by the adapter) and the
# household's official category: additions to the contract.
PARIS_PLAI = (14811.0, 24140.0, 31642.0, 34637.0, 41204.0, 46369.0, 5165.0)


def test_unit_ceiling_applies_by_category() -> None:
    u = unit(financing="PLAI", income_ceiling=PARIS_PLAI)
    # a mother and her child are category 3 (single person with one dependant)
    assert feasible(instance([u], [household(reference_income=31642.0, income_category=3)]))
    assert not feasible(instance([u], [household(reference_income=31643.0, income_category=3)]),
                        "income_ceiling")
    # read as two persons (no category), the same income is over category 2's ceiling
    assert not feasible(instance([u], [household(reference_income=31642.0)]), "income_ceiling")


def test_categories_past_six_add_the_per_person_amount() -> None:
    big = unit(rooms=5, surface_m2=90.0, financing="PLAI", rent=100.0, income_ceiling=PARIS_PLAI)
    limit = 46369.0 + 2 * 5165.0
    ok = household(adults=1, children=6, reference_income=limit, income_category=8)
    over = household(adults=1, children=6, reference_income=limit + 1, income_category=8)
    assert feasible(instance([big], [ok]), "income_ceiling")
    assert not feasible(instance([big], [over]), "income_ceiling")


def test_the_run_policy_wins_over_the_unit_ceiling() -> None:
    u = unit(financing="PLAI", income_ceiling=PARIS_PLAI)
    h = household(reference_income=20000.5, income_category=3)
    assert feasible(instance([u], [h]))
    assert not feasible(instance([u], [h], income_ceilings=CEILINGS), "income_ceiling")


def test_checker_rejects_a_proposal_over_the_unit_ceiling() -> None:
    from matching import Proposal, Result, check, solve

    u = unit(financing="PLAI", income_ceiling=PARIS_PLAI)
    h = household(reference_income=40000.0, income_category=3)
    inst = instance([u], [h])
    assert solve(inst).proposals == ()
    forged = Result(proposals=(Proposal(unit="U-1", household="H-1", rank=1, score=0.0,
                                        components={}),), unmatched=())
    assert "income_ceiling" in {v.code for v in check(inst, forged)}


def test_io_round_trips_unit_ceiling_and_category() -> None:
    from matching import instance_from_dict, instance_to_dict

    inst = instance([unit(financing="PLAI", income_ceiling=PARIS_PLAI)],
                    [household(reference_income=1.0, income_category=3)])
    again = instance_from_dict(instance_to_dict(inst))
    assert again.units[0].income_ceiling == PARIS_PLAI
    assert again.households[0].income_category == 3
