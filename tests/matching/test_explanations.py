"""Reasons of unmatched households and per-rule statistics."""

from datetime import timedelta

from matching import DepartmentZone, SearchArea, check, solve
from tests.matching.util import AS_OF, household, instance, unit


def test_competition_when_feasible_units_went_to_others() -> None:
    inst = instance([unit("U-1")], [household("H-0", urgency=3), household("H-1", urgency=1)])
    result = solve(inst)
    assert [(u.household, u.reasons) for u in result.unmatched] == [("H-1", ("competition",))]
    assert check(inst, result) == []


def test_reasons_follow_the_cascade() -> None:
    units = [
        unit("U-1", rooms=1, surface_m2=20.0),  # size for a family of 4
        unit("U-2", rooms=3, surface_m2=60.0, commune="80021"),  # outside her area
        unit("U-3", rooms=3, surface_m2=60.0, rent=900.0),  # rent burden
        unit("U-4", rooms=3, surface_m2=60.0, available_from=AS_OF + timedelta(days=200)),
    ]
    hh = household("H-0", children=3, search_area=SearchArea(departments=("59",)))
    inst = instance(units, [hh])
    result = solve(inst)
    assert result.unmatched[0].reasons == ("dates", "size", "search_area", "rent_burden")
    removed = result.stats["removed_pairs"]
    assert removed["dates"] == 1 and removed["size"] == 1 and removed["search_area"] == 1
    assert removed["rent_burden"] == 1 and result.stats["feasible_pairs"] == 0
    assert check(inst, result) == []


def test_removed_pairs_add_up() -> None:
    units = [unit(f"U-{i}", commune=c) for i, c in enumerate(["59350", "62041", "80021"])]
    hs = [household("H-0", exclusion_zones=(DepartmentZone("62"),)),
          household("H-1", search_area=SearchArea(departments=("80",))),
          household("H-2")]
    inst = instance(units, hs)
    result = solve(inst)
    stats = result.stats
    assert sum(stats["removed_pairs"].values()) + stats["feasible_pairs"] == 9
    assert stats["removed_pairs"]["exclusion_zone"] == 1
    assert stats["removed_pairs"]["search_area"] == 2
    assert check(inst, result) == []


def test_no_unit_at_all() -> None:
    inst = instance([], [household("H-0")])
    result = solve(inst)
    assert result.unmatched[0].reasons == ()
    assert check(inst, result) == []


def test_timings_per_phase() -> None:
    timings = solve(instance()).stats["timings"]
    for phase in ("candidates", "flow", "pricing", "alternates", "explain", "total"):
        assert phase in timings
