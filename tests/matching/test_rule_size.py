"""Rule 1, size: occupancy by room count and minimum surface."""

from tests.matching.util import feasible, household, instance, unit


def test_two_persons_fit_a_t2() -> None:
    assert feasible(instance([unit(rooms=2)], [household(adults=1, children=1)]), "size")
    assert feasible(instance([unit(rooms=2)], [household(adults=1, children=1)]))


def test_four_persons_do_not_fit_a_t2() -> None:
    assert not feasible(instance([unit(rooms=2)], [household(children=3)]), "size")
    assert not feasible(instance([unit(rooms=2)], [household(children=3)]))


def test_single_person_not_in_a_t3() -> None:
    # occupancy "3": [2, 5]
    assert not feasible(instance([unit(rooms=3, surface_m2=60.0)], [household(children=0)]))


def test_seven_rooms_use_the_six_row() -> None:
    big = unit(rooms=7, surface_m2=140.0)
    assert feasible(instance([big], [household(adults=2, children=3)]), "size")  # 5 in [5,10]
    assert not feasible(instance([big], [household(adults=1, children=3)]), "size")  # 4 < 5
    assert feasible(instance([big], [household(adults=2, children=8)]))  # 10 persons
    assert not feasible(instance([big], [household(adults=2, children=9)]))  # 11 > 10


def test_surface_boundary() -> None:
    # 2 persons need 16 m2.
    assert feasible(instance([unit(rooms=1, surface_m2=16.0)], [household()]), "size")
    assert not feasible(instance([unit(rooms=1, surface_m2=15.99)], [household()]), "size")
    # 1 person needs 9 m2.
    assert feasible(instance([unit(rooms=1, surface_m2=9.0)], [household(children=0)]))
    assert not feasible(instance([unit(rooms=1, surface_m2=8.9)], [household(children=0)]))


def test_surface_requirement_is_capped_at_70() -> None:
    # 9 persons would need 16 + 7 * 9 = 79 m2, capped at 70.
    hh = household(adults=2, children=7)
    assert feasible(instance([unit(rooms=5, surface_m2=70.0)], [hh]), "size")
    assert not feasible(instance([unit(rooms=5, surface_m2=69.9)], [hh]), "size")


def test_no_surface_means_no_surface_requirement() -> None:
    assert feasible(instance([unit(rooms=2, surface_m2=None)], [household()]))


def test_custom_occupancy() -> None:
    occ = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6))
    assert not feasible(instance([unit(rooms=2)], [household(children=0)], occupancy=occ))
    assert feasible(instance([unit(rooms=2)], [household(children=1)], occupancy=occ))
