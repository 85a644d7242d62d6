"""The run page's two paged lists (proposals by unit, households without one) page independently."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests import factories

UNITS, UNMATCHED = 45, 120  # 3 pages of 20 units, 3 pages of 50 households
PROPOSALS_NAV, UNMATCHED_NAV = "Pages de propositions", "Pages des ménages sans proposition"


@pytest.fixture
def run(login_as, db):  # type: ignore[no-untyped-def]
    login_as("coordinator")
    run = factories.create_run(db, status="succeeded", released_at=None, stats={"units": UNITS},
                               unmatched=[{"household": f"H-GONE-{i:03d}", "reasons": ["size"]}
                                          for i in range(UNMATCHED)])
    for i in range(UNITS):
        # Best score first: unit 0 opens the first page, unit 20 the second.
        factories.create_proposal(db, unit=factories.create_unit(db, reference=f"LOG-PG-{i:03d}"), run=run,
                                  status="review", score=1000.0 - i)
    db.commit()
    return run


def pager(page: str, label: str) -> dict[str, str]:
    """A pager's links (by their text) and its "page n of m", as the page shows them."""
    nav = re.search(rf'<nav class="pager" aria-label="{re.escape(label)}">(.*?)</nav>', page, re.S)
    assert nav, f"no pager named {label!r}"
    links = {text: html.unescape(href) for href, text in re.findall(r'<a href="([^"]+)" rel="\w+">([^<]+)</a>', nav[1])}
    links["current"] = re.search(r'<li aria-current="page">([^<]+)</li>', nav[1])[1]
    return links


def target(url: str) -> tuple[str, dict[str, str], str]:
    """Where a link leads: path, query arguments (in any order), fragment."""
    parts = urlsplit(url)
    return parts.path, dict(parse_qsl(parts.query)), parts.fragment


def test_each_list_shows_its_own_page(client, run):
    page = client.get(f"/coordination/rapprochements/{run.public_id}?page=2&sans=3").get_data(as_text=True)
    assert "LOG-PG-020" in page and "LOG-PG-039" in page
    assert "LOG-PG-019" not in page and "LOG-PG-040" not in page
    assert "H-GONE-100" in page and "H-GONE-119" in page and "H-GONE-099" not in page
    assert pager(page, PROPOSALS_NAV)["current"] == "Page 2 sur 3"
    assert pager(page, UNMATCHED_NAV)["current"] == "Page 3 sur 3"


def test_paging_one_list_keeps_the_other_on_its_page(client, run):
    base = f"/coordination/rapprochements/{run.public_id}"
    page = client.get(f"{base}?page=2&sans=3").get_data(as_text=True)
    units, unmatched = pager(page, PROPOSALS_NAV), pager(page, UNMATCHED_NAV)
    assert target(units["Page suivante"]) == (base, {"sans": "3", "page": "3"}, "proposals-title")
    assert target(units["Page précédente"]) == (base, {"sans": "3", "page": "1"}, "proposals-title")
    assert target(unmatched["Page précédente"]) == (base, {"page": "2", "sans": "2"}, "unmatched-title")
    assert "Page suivante" not in unmatched  # the last page

    # Following the unmatched list's link moves that list only.
    after = client.get(unmatched["Page précédente"].split("#")[0]).get_data(as_text=True)
    assert pager(after, PROPOSALS_NAV)["current"] == "Page 2 sur 3" and "LOG-PG-020" in after
    assert pager(after, UNMATCHED_NAV)["current"] == "Page 2 sur 3" and "H-GONE-050" in after


def test_the_first_pages_leave_the_other_list_alone(client, run):
    base = f"/coordination/rapprochements/{run.public_id}"
    page = client.get(base).get_data(as_text=True)
    assert target(pager(page, PROPOSALS_NAV)["Page suivante"]) == (base, {"page": "2"}, "proposals-title")
    assert target(pager(page, UNMATCHED_NAV)["Page suivante"]) == (base, {"sans": "2"}, "unmatched-title")


def test_dropping_a_proposal_comes_back_to_both_pages(client, run, db):
    base = f"/coordination/rapprochements/{run.public_id}"
    page = client.get(f"{base}?page=2&sans=3").get_data(as_text=True)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+/ecarter[^"]*)"', page)[1])
    proposal_id = action.split("/propositions/")[1].split("/")[0]
    r = client.post(action, data={f"{proposal_id}-drop-reason": "Trop loin de l'école"})
    assert r.status_code == 303
    location = r.headers["Location"]
    assert "page=2" in location and "sans=3" in location and "#unite-" in location
    back = client.get(location.split("#")[0]).get_data(as_text=True)
    assert "Proposition écartée." in back
    assert pager(back, PROPOSALS_NAV)["current"] == "Page 2 sur 3"
    assert pager(back, UNMATCHED_NAV)["current"] == "Page 3 sur 3"
