"""Tests for the commune/department reference data in ``matching.geo``."""

from __future__ import annotations

import pytest

from matching.geo import (
    commune,
    communes,
    department_name,
    department_of,
    departments,
    haversine_km,
    search_communes,
)


def test_roubaix() -> None:
    roubaix = commune("59512")
    assert roubaix is not None
    assert roubaix.name == "Roubaix"
    assert roubaix.department == "59"
    assert haversine_km(roubaix.lat, roubaix.lon, 50.69, 3.18) < 3
    assert roubaix.population > 90_000


def test_paris_and_arrondissements() -> None:
    paris = commune("75056")
    eleventh = commune("75111")
    assert paris is not None and paris.name == "Paris"
    assert eleventh is not None and eleventh.department == "75"
    assert all(commune(f"751{n:02d}") is not None for n in range(1, 21))
    assert commune("69381") is not None and commune("13201") is not None
    # An arrondissement lies within the city's disc.
    distance = haversine_km(paris.lat, paris.lon, eleventh.lat, eleventh.lon)
    assert distance + eleventh.radius_km <= paris.radius_km + 0.5


def test_unknown_commune() -> None:
    assert commune("00000") is None
    assert commune(" 2a004 ") is not None


@pytest.mark.parametrize(
    ("code", "department"),
    [("2A004", "2A"), ("2B033", "2B"), ("97105", "971"), ("97611", "976"), ("59350", "59")],
)
def test_department_of(code: str, department: str) -> None:
    assert department_of(code) == department


def test_department_rule_matches_data() -> None:
    known = departments()
    assert len(known) == 101
    for item in communes().values():
        assert item.department == department_of(item.code)
        assert item.department in known
    ajaccio = commune("2A004")
    assert ajaccio is not None and ajaccio.name == "Ajaccio"


def test_departments() -> None:
    assert department_name("59") == "Nord"
    assert department_name("2a") == "Corse-du-Sud"
    assert department_name("974") == "La Réunion"
    assert department_name("20") is None


def test_search_by_code() -> None:
    assert [c.code for c in search_communes("59512")] == ["59512"]


def test_search_by_name() -> None:
    assert search_communes("roubaix")[0].code == "59512"
    assert search_communes("Villeneuve d'Ascq")[0].code == "59009"
    assert search_communes("VILLENEUVE D ASCQ")[0].code == "59009"
    assert search_communes("havre")[0].code == "76351"  # leading article optional
    assert search_communes("Évry-Courcouronnes")[0].code == "91228"


def test_search_saint_denis() -> None:
    # Saint-Denis (La Réunion) is slightly more populous than Saint-Denis (93).
    top = [c.code for c in search_communes("st denis", limit=5)]
    assert top[:2] == ["97411", "93066"]
    assert search_communes("saint-denis", department="93")[0].code == "93066"
    assert search_communes("SAINT DENIS")[0].name == "Saint-Denis"
    # Exact matches (all four Saint-Denis) rank before longer names, whatever
    # their population.
    names = [c.name for c in search_communes("saint denis", limit=20)]
    assert names[:4] == ["Saint-Denis"] * 4
    assert names[4].startswith("Saint-Denis-")
    # Whole-word matches come last: "denis" also finds "L'Île-Saint-Denis".
    assert "L'Île-Saint-Denis" in [c.name for c in search_communes("denis", limit=10)]


def test_search_prefix_and_limit() -> None:
    results = search_communes("lyon", limit=5)
    assert results[0].code == "69123"
    assert len(results) == 5
    assert all(r.name.startswith("Lyon") for r in results)
    assert search_communes("lyon", limit=0) == []
    assert search_communes("   ") == []


def test_lille_radius() -> None:
    lille = commune("59350")
    assert lille is not None
    assert 2 < lille.radius_km < 10


def test_radius_sane() -> None:
    for item in communes().values():
        assert 0 < item.radius_km < 150, item
        assert -22 < item.lat < 52 and -62 < item.lon < 56, item


def test_haversine() -> None:
    assert haversine_km(48.8566, 2.3522, 48.8566, 2.3522) == 0
    # Paris - Lille is about 204 km as the crow flies.
    assert haversine_km(48.8566, 2.3522, 50.6292, 3.0573) == pytest.approx(204, abs=3)
