"""Rule 5, exclusion zones: points (haversine - uncertainty > radius), communes, departments."""

import math

from matching import CommuneZone, DepartmentZone, PointZone, solve
from tests.matching.util import feasible, household, instance, unit

R = 6371.0088
LAT, LON = 50.6292, 3.0573


def north(km: float) -> float:
    """Latitude ``km`` north of LAT on the same meridian (haversine distance = km)."""
    return LAT + math.degrees(km / R)


def zone(radius: float = 10.0) -> PointZone:
    return PointZone(lat=LAT, lon=LON, radius_km=radius)


def test_ten_centimetres_inside_a_ten_km_zone_is_unsafe() -> None:
    inst = instance([unit(lat=north(9.9999), lon=LON)], [household(exclusion_zones=(zone(),))])
    assert not feasible(inst, "exclusion_zone")
    assert not feasible(inst)


def test_ten_centimetres_outside_is_safe() -> None:
    inst = instance([unit(lat=north(10.0001), lon=LON)], [household(exclusion_zones=(zone(),))])
    assert feasible(inst, "exclusion_zone")
    assert feasible(inst)


def test_uncertainty_pushes_a_unit_inside() -> None:
    placed = unit(lat=north(10.5), lon=LON, location_uncertainty_km=0.6)
    inst = instance([placed], [household(exclusion_zones=(zone(),))])
    assert not feasible(inst, "exclusion_zone")
    assert not feasible(inst)
    sure = unit(lat=north(10.5), lon=LON, location_uncertainty_km=0.4)
    assert feasible(instance([sure], [household(exclusion_zones=(zone(),))]))


def test_unit_without_coordinates_never_meets_a_point_zone() -> None:
    inst = instance([unit(lat=None, lon=None)], [household(exclusion_zones=(zone(0.1),))])
    assert not feasible(inst, "exclusion_zone")
    assert not feasible(inst)
    assert solve(inst).unmatched[0].reasons == ("exclusion_zone",)


def test_unit_without_coordinates_is_fine_without_point_zone() -> None:
    inst = instance([unit(lat=None, lon=None)],
                    [household(exclusion_zones=(CommuneZone("59512"),))])
    assert feasible(inst)


def test_commune_zone() -> None:
    hh = household(exclusion_zones=(CommuneZone("59350"),))
    assert not feasible(instance([unit(commune="59350")], [hh]))
    assert feasible(instance([unit(commune="59512")], [hh]))


def test_department_zone() -> None:
    hh = household(exclusion_zones=(DepartmentZone("59"),))
    assert not feasible(instance([unit(commune="59350")], [hh]))
    assert feasible(instance([unit(commune="62041")], [hh]))


def test_corsica_departments_2a_and_2b() -> None:
    hh = household(exclusion_zones=(DepartmentZone("2A"),))
    ajaccio = unit(commune="2A004", lat=41.9192, lon=8.7386)
    bastia = unit(commune="2B033", lat=42.6977, lon=9.4508)
    assert not feasible(instance([ajaccio], [hh]))
    assert feasible(instance([bastia], [hh]))


def test_overseas_department_has_three_characters() -> None:
    guadeloupe = unit(commune="97105", lat=16.0, lon=-61.7)
    assert not feasible(instance([guadeloupe], [household(
        exclusion_zones=(DepartmentZone("971"),))]))
    assert feasible(instance([guadeloupe], [household(
        exclusion_zones=(DepartmentZone("97"),))]))


def test_far_zone_costs_nothing() -> None:
    far = PointZone(lat=43.3, lon=5.4, radius_km=20.0)  # Marseille
    assert feasible(instance([unit()], [household(exclusion_zones=(far,))]))
