"""In a real browser: the households filters (wide and narrow screens, keyboard), the run page's
two pagers, and the unread-notifications badge; each page checked with axe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask_babel import lazy_gettext as _l

from services import notifications
from services.demo import ACCOUNTS
from tests import factories
from tests.browser.conftest import check_accessibility, log_in

pytestmark = pytest.mark.browser

REFERENT = next(a for a in ACCOUNTS if a.email == "referente@sf-lille.demo")
COORDINATION = next(a for a in ACCOUNTS if a.role == "coordinator")


def _in_app(live_server: Any, work: Any) -> Any:
    """Run `work(session)` in the live server's app and commit it."""
    from web.db import get_session

    with live_server.app.app_context():
        result = work(get_session())
        get_session().commit()
        return result


def _box(page: Any, label: str) -> dict[str, float]:
    return page.get_by_label(label, exact=True).bounding_box()


def test_households_filters_on_a_wide_then_a_narrow_screen(live_server, page):
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, REFERENT)
    statut, departement, reference = (_box(page, label) for label in ("Statut", "Département recherché", "Référence"))
    button = page.get_by_role("button", name="Filtrer").bounding_box()
    # One row: the three controls and the button side by side, their bottoms aligned.
    assert statut["x"] < departement["x"] < reference["x"] < button["x"]
    bottoms = {round(b["y"] + b["height"]) for b in (statut, departement, reference, button)}
    assert max(bottoms) - min(bottoms) <= 2, bottoms
    check_accessibility(page)

    # Keyboard: from the status, Tab goes through the filters in order; Enter applies them.
    page.get_by_label("Statut", exact=True).select_option(label="Active")
    page.get_by_label("Statut", exact=True).focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reference"
    page.keyboard.type("SFL")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"reference=SFL"))
    assert page.get_by_label("Référence", exact=True).input_value() == "SFL"
    assert page.get_by_label("Statut", exact=True).input_value() == "active"
    assert page.get_by_role("link", name="Effacer les filtres").is_visible()

    # Narrow: the filters wrap, one under the other, and nothing is wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    statut, departement = _box(page, "Statut"), _box(page, "Département recherché")
    assert departement["y"] > statut["y"] + statut["height"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    check_accessibility(page)


def test_the_run_page_pagers_page_their_own_list(live_server, page):
    def make_run(db: Any) -> str:
        run = factories.create_run(db, status="succeeded", released_at=None, stats={},
                                   unmatched=[{"household": f"H-GONE-{i:03d}", "reasons": ["size"]} for i in range(60)])
        for i in range(25):
            factories.create_proposal(db, unit=factories.create_unit(db, reference=f"LOG-PG-{i:03d}"), run=run,
                                      status="review", score=1000.0 - i)
        return str(run.public_id)

    run_id = _in_app(live_server, make_run)
    log_in(page, live_server.url, COORDINATION)
    page.goto(f"{live_server.url}/coordination/rapprochements/{run_id}")
    units = page.get_by_role("navigation", name="Pages de propositions")
    unmatched = page.get_by_role("navigation", name="Pages des ménages sans proposition")
    unmatched.get_by_role("link", name="Page suivante").click()
    page.wait_for_url(re.compile(r"sans=2"))
    assert "Page 1 sur 2" in units.inner_text() and "Page 2 sur 2" in unmatched.inner_text()
    units.get_by_role("link", name="Page suivante").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert "sans=2" in page.url
    assert "Page 2 sur 2" in units.inner_text() and "Page 2 sur 2" in unmatched.inner_text()
    assert page.get_by_text("LOG-PG-024", exact=False).first.is_visible()
    check_accessibility(page)
    # On a phone the tables scroll inside their box: the page is no wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # and so does the coordinator's home, with its list of runs
    page.goto(f"{live_server.url}/coordination/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_badge_counts_unread_notifications_until_they_are_read(live_server, page):
    def notify(db: Any) -> int:
        org = factories.create_organisation(db, "association", departments=["59"])
        user = factories.create_user(db, "association", organisation=org)
        for _ in range(2):
            notifications.notify(db, message=_l("De nouvelles propositions vous attendent."),
                                 link="/association/propositions", organisation=org)
        return user.email

    email = _in_app(live_server, notify)
    account = type("Account", (), {"email": email, "password": factories.PASSWORD, "totp_secret": None})
    log_in(page, live_server.url, account)
    page.get_by_role("link", name="2 notifications non lues").click()
    page.wait_for_url(re.compile(r"/association/notifications$"))
    check_accessibility(page)
    page.get_by_role("button", name="Tout marquer comme lu").click()
    page.wait_for_url(re.compile(r"/association/notifications$"))
    assert page.get_by_role("link", name="0 notifications non lues").is_visible()
    page.goto(live_server.url + "/association/?lang=en")
    assert page.get_by_role("link", name="0 unread notifications").is_visible()
    check_accessibility(page)
