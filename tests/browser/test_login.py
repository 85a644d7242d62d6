"""Each demo account logs in through a real browser and lands on its home page."""

from __future__ import annotations

import re

import pytest

from services.demo import ACCOUNTS
from tests.browser.conftest import check_accessibility
from tests.conftest import totp_code

pytestmark = pytest.mark.browser

HEADINGS = {"landlord": "Espace bailleur", "association": "Espace association",
            "coordinator": "Coordination", "committee": "Comité de suivi",
            "admin": "Administration"}


@pytest.mark.parametrize("account", ACCOUNTS[::1], ids=lambda a: a.email)
def test_demo_account_logs_in(live_server, page, account):
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(account.email)
    page.get_by_label("Mot de passe").fill(account.password)
    page.get_by_role("button", name="Se connecter").click()
    if account.totp_secret:
        # Coordination, committee and admin have a second factor: type the app's code.
        page.wait_for_url(re.compile(r"/connexion/code$"))
        page.get_by_label("Code à 6 chiffres").fill(totp_code(account.totp_secret, account.email))
        page.get_by_role("button", name="Valider").click()
    page.wait_for_url(re.compile(r"/(bailleur|association|coordination|comite|admin)/$"))
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
