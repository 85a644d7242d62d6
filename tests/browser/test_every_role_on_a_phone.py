"""Each role walks her home (her worklist) and main pages at 1280 and 390 px wide (issue 21):
axe finds no WCAG 2 A/AA violation and no page scrolls sideways, on a desktop as on a phone.

The demo is loaded with its first round played (as `passerelle demo` does), so that every
worklist, proposal and run page has something on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy.orm as so

from services.demo import ACCOUNTS
from tests.browser.conftest import LiveServer, check_accessibility, demo_app, log_in

pytestmark = pytest.mark.browser

WIDTHS = ((1280, 800), (390, 844))
# The site header on a phone: at most a sixth of an 844 px screen (it took 270 px).
MAX_PHONE_HEADER = 140


@pytest.fixture(scope="module")
def played_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo after its first match was released and partly decided, served for real."""
    from services import demo

    with demo_app(database_url, tmp_path_factory.mktemp("phone")) as app:
        engine = app.extensions["db"].engine
        with app.app_context(), so.Session(engine) as db:
            demo.play_first_round(db, so.sessionmaker(engine))
            db.commit()
        with LiveServer(app) as server:
            yield server


def account(email: str) -> Any:
    return next(a for a in ACCOUNTS if a.email == email)


def check_both_widths(page: Any, url: str) -> list[str]:
    """At each width: axe is clean, nothing is wider than the window; the problems found."""
    problems = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        response = page.goto(url)
        assert response.ok, f"{url}: {response.status}"
        scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll[0] > scroll[1]:
            problems.append(f"{url} at {width} px is {scroll[0]} px wide")
        header = page.evaluate("document.querySelector('body > header').getBoundingClientRect().height")
        if width < 576 and header > MAX_PHONE_HEADER:
            problems.append(f"{url} at {width} px: the header takes {header:.0f} px")
        try:
            check_accessibility(page)
        except AssertionError as exc:
            problems.append(f"{url} at {width} px:\n{exc}")
    return problems


def first_href(page: Any, pattern: str) -> str:
    """The first link on the page whose address matches `pattern` (a detail page to walk to)."""
    href = page.evaluate("p => [...document.querySelectorAll('a[href]')].map(a => a.href)"
                         ".find(h => new RegExp(p).test(h))", pattern)
    assert href, f"no link matching {pattern} on {page.url}"
    return str(href)


@pytest.fixture
def role_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def walk(page: Any, server: LiveServer, email: str, pages: list[str], details: list[tuple[str, str]]) -> None:
    """Her home, then `pages`, then for each (page, pattern) of `details` the first link of
    that page matching the pattern (a page may be a pattern's link on the previous one)."""
    log_in(page, server.url, account(email))
    problems = []
    for url in [page.url] + [server.url + p for p in pages]:
        problems += check_both_widths(page, url)
    found = ""
    for on, pattern in details:
        page.goto(found if on == "^" else server.url + on)
        found = first_href(page, pattern)
        problems += check_both_widths(page, found)
    assert not problems, "\n".join(problems)


def test_referent_pages(played_server, role_page):
    walk(role_page, played_server, "referente@sf-lille.demo",
         ["/association/propositions", "/association/offres", "/association/notifications",
          "/association/menages/nouveau"],
         [("/association/", r"/association/menages/[^/]+$"),
          ("^", r"/association/menages/[^/]+/modifier$"),
          ("/association/propositions", r"/association/propositions/[^/?]+$")])


def test_landlord_pages(played_server, role_page):
    walk(role_page, played_server, "bailleur@lmh.demo",
         ["/bailleur/logements", "/bailleur/propositions", "/bailleur/propositions?vue=commission",
          "/bailleur/demandes", "/bailleur/notifications", "/bailleur/logements/importer"],
         [("/bailleur/logements", r"/bailleur/logements/[^/]+$"),
          ("/bailleur/propositions?vue=commission", r"/bailleur/propositions/[^/?]+$"),
          ("/bailleur/propositions?vue=commission", r"/dossier-commission$")])


def test_coordinator_pages(played_server, role_page):
    walk(role_page, played_server, "coordination@passerelle.demo",
         ["/coordination/regles", "/coordination/conventions", "/coordination/offres-refusees"],
         [("/coordination/", r"/coordination/rapprochements/[^/]+$")])


def test_committee_pages(played_server, role_page):
    walk(role_page, played_server, "comite@passerelle.demo",
         ["/comite/besoins", "/comite/simulation", "/comite/conventions"], [])
    assert re.search(r"/comite/conventions$", role_page.url)
