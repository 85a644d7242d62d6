"""Rule 6, search area: the unit is in a listed commune or department."""

from matching import SearchArea
from tests.matching.util import feasible, household, instance, unit


def test_no_search_area_means_anywhere() -> None:
    assert feasible(instance([unit(commune="80021")], [household()]))


def test_listed_department() -> None:
    hh = household(search_area=SearchArea(departments=("59", "62")))
    assert feasible(instance([unit(commune="59350")], [hh]), "search_area")
    assert feasible(instance([unit(commune="62041")], [hh]))
    assert not feasible(instance([unit(commune="80021")], [hh]), "search_area")
    assert not feasible(instance([unit(commune="80021")], [hh]))


def test_listed_commune_outside_listed_departments() -> None:
    hh = household(search_area=SearchArea(communes=("80021",), departments=("62",)))
    assert feasible(instance([unit(commune="80021")], [hh]))
    assert not feasible(instance([unit(commune="80001")], [hh]))
    assert not feasible(instance([unit(commune="59350")], [hh]))


def test_communes_only() -> None:
    hh = household(search_area=SearchArea(communes=("59350", "59512")))
    assert feasible(instance([unit(commune="59512")], [hh]))
    assert not feasible(instance([unit(commune="59009")], [hh]))


def test_corsica_and_overseas() -> None:
    hh = household(search_area=SearchArea(departments=("2B", "971")))
    assert feasible(instance([unit(commune="2B033")], [hh]))
    assert not feasible(instance([unit(commune="2A004")], [hh]))
    assert feasible(instance([unit(commune="97105")], [hh]))
    assert not feasible(instance([unit(commune="97209")], [hh]))
