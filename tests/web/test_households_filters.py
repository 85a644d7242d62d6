"""The association's households list: its filters (status, department, reference) and their pager."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests import factories


@pytest.fixture
def app_config():  # type: ignore[no-untyped-def]
    return {"PAGE_SIZE": 2}


@pytest.fixture
def referent(login_as, db):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "association", departments=["59", "62"])
    user = login_as(factories.create_user(db, "association", organisation=org))
    searching = {"59": {"communes": [], "departments": ["59"]},
                 "62": {"communes": ["62041"], "departments": []},  # Arras: in the Pas-de-Calais
                 "anywhere": {"communes": [], "departments": []}}
    for reference, status, area in [
        ("LIL-001", "active", "59"), ("LIL-002", "active", "59"), ("ARR-001", "active", "62"),
        ("ARR-002", "active", "62"), ("ARR-003", "active", "62"), ("ARR-004", "draft", "62"),
        ("ALL-001", "active", "anywhere"),
    ]:
        factories.create_household(db, association=org, reference=reference, status=status,
                                   search_area=searching[area])
    db.commit()
    return user


def page_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return html.unescape(response.get_data(as_text=True))


def selected(page: str, name: str) -> str | None:
    """The option shown as chosen in a select."""
    select = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    chosen = re.findall(r'<option value="([^"]*)" selected>', select[1])
    return chosen[0] if chosen else None


def shown(page: str) -> set[str]:
    return set(re.findall(r">((?:LIL|ARR|ALL)-\d{3})</a>", page))


def test_the_filters_are_labelled_and_the_form_keeps_their_values(client, referent):
    page = page_of(client.get("/association/?statut=active&departement=62&reference=arr"))
    for name, label in (("statut", "Statut"), ("departement", "Département recherché"), ("reference", "Référence")):
        assert f'<label for="{name}">{label}</label>' in page
    assert selected(page, "statut") == "active" and selected(page, "departement") == "62"
    assert re.search(r'<input type="search" id="reference" name="reference" value="arr"', page)
    # Only the association's own departments are offered.
    assert re.findall(r'<option value="(\d+)"', page) == ["59", "62"]
    assert "Effacer les filtres" in page


def test_the_filters_choose_the_households(client, referent):
    # The department: households searching there, or anywhere.
    first = shown(page_of(client.get("/association/?statut=active&departement=62&reference=")))
    in_62 = first | shown(page_of(client.get("/association/?statut=active&departement=62&page=2")))
    assert in_62 == {"ARR-001", "ARR-002", "ARR-003", "ALL-001"}
    assert shown(page_of(client.get("/association/?departement=62&statut=draft"))) == {"ARR-004"}
    assert shown(page_of(client.get("/association/?reference=lil"))) == {"LIL-001", "LIL-002"}


def test_an_unknown_department_or_status_is_ignored(client, referent):
    page = page_of(client.get("/association/?departement=75&statut=nope"))
    assert selected(page, "departement") is None and selected(page, "statut") is None
    assert "7 ménages" in page and "Effacer les filtres" not in page


def test_the_pager_keeps_the_filters(client, referent):
    page = page_of(client.get("/association/?statut=active&departement=62"))
    assert "4 ménages" in page
    following = re.search(r'<a href="([^"]+)" rel="next">', page)[1]
    parts = urlsplit(following)
    assert parts.path == "/association/"
    assert dict(parse_qsl(parts.query)) == {"statut": "active", "departement": "62", "page": "2"}
    second = page_of(client.get(following))
    assert selected(second, "statut") == "active" and selected(second, "departement") == "62"
    assert "Page 2 sur 2" in second


def test_one_department_needs_no_choice(client, login_as, db):
    org = factories.create_organisation(db, "association", departments=["80"])
    login_as(factories.create_user(db, "association", organisation=org))
    page = page_of(client.get("/association/"))
    assert 'id="departement"' not in page and 'id="statut"' in page
