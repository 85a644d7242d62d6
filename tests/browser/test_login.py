"""Each demo account logs in through a real browser and lands on its home page."""

from __future__ import annotations

import re

import pytest

from services.demo import ACCOUNTS
from tests.browser.conftest import check_accessibility, log_in

pytestmark = pytest.mark.browser

HEADINGS = {"landlord": "Espace bailleur", "association": "Espace association",
            "coordinator": "Coordination", "committee": "Comité de suivi",
            "admin": "Administration", "referrer": "Orientations vers une association"}


@pytest.mark.parametrize("account", ACCOUNTS[::1], ids=lambda a: a.email)
def test_demo_account_logs_in(live_server, page, account):
    log_in(page, live_server.url, account)
    assert page.get_by_role("heading", level=1).inner_text() == HEADINGS[account.role]
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(re.compile(r"/connexion"))


def test_login_page_is_accessible(live_server, page):
    page.goto(live_server.url + "/connexion")
    check_accessibility(page)
    page.get_by_label("Adresse e-mail").fill("nobody@example.org")
    page.get_by_label("Mot de passe").fill("wrong password 123")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("alert").inner_text() == "Adresse e-mail ou mot de passe incorrect."
    check_accessibility(page)


def test_english_is_available(live_server, page):
    page.goto(live_server.url + "/connexion?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
