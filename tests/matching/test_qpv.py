"""The QPV target: pursued among optimal matchings, never with vacant units."""

from datetime import date

from matching import check, solve
from tests.matching.util import household, instance, unit


def _twins() -> list:
    # Same urgency, same waiting, same everything that scores: ties.
    poor = household("H-poor", monthly_income=700.0, housing_allowance=300.0)
    rich = household("H-rich", monthly_income=2000.0, housing_allowance=0.0)
    return [rich, poor]


def test_ties_are_broken_toward_the_target() -> None:
    units = [unit("U-out", in_qpv=False, rent=200.0, charges=10.0),
             unit("U-in", in_qpv=True, rent=200.0, charges=10.0)]
    hs = _twins()
    plain = solve(instance(units, hs))
    inst = instance(units, hs, lowest_quartile_income=750.0, qpv_lowest_quartile_share=0.5)
    result = solve(inst)
    assert check(inst, result) == []
    rank1 = {p.unit: p.household for p in result.proposals if p.rank == 1}
    assert result.stats["qpv"]["share"] >= result.stats["qpv"]["share_at_plain_optimum"]
    assert result.stats["objective"] == plain.stats["objective"]
    assert result.stats["qpv"]["target"] == 0.5
    if rank1 and result.stats["qpv"]["reached"]:
        assert rank1["U-out"] == "H-poor"


def test_tolerance_trades_a_little_score_never_a_unit() -> None:
    # The rich household is a better fit for the unit outside QPV (waited longer).
    rich = household("H-rich", monthly_income=2000.0, requested_on=date(2025, 1, 1))
    poor = household("H-poor", monthly_income=700.0, housing_allowance=300.0)
    units = [unit("U-out", rent=200.0, charges=10.0),
             unit("U-in", in_qpv=True, rent=200.0, charges=10.0, rooms=1, surface_m2=30.0)]
    strict = instance(units, [rich, poor], lowest_quartile_income=750.0,
                      qpv_lowest_quartile_share=1.0)
    loose = instance(units, [rich, poor], lowest_quartile_income=750.0,
                     qpv_lowest_quartile_share=1.0, qpv_score_tolerance=0.5)
    for inst in (strict, loose):
        result = solve(inst)
        assert check(inst, result) == []
        assert result.stats["matched"] == 2  # both units stay filled
    r_loose = solve(loose)
    r_strict = solve(strict)
    assert r_loose.stats["qpv"]["share"] >= r_strict.stats["qpv"]["share"]
    assert r_loose.stats["objective"] >= (1 - 0.5) * r_strict.stats["objective"]


def test_no_target_no_qpv_stats() -> None:
    assert "qpv" not in solve(instance()).stats
