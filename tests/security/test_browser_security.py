"""In a real browser: the second-factor pages work and are accessible; the CSP breaks nothing."""

from __future__ import annotations

import re

import pyotp
import pytest

from services.demo import ACCOUNTS
from tests.browser.conftest import check_accessibility, live_server, log_in, page  # noqa: F401 - fixtures
from tests.conftest import totp_code

pytestmark = pytest.mark.browser


def _csp_errors(page) -> list[str]:  # type: ignore[no-untyped-def]  # noqa: F811
    errors: list[str] = []
    page.on("console",
            lambda m: errors.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None)
    return errors


def _axe(page, errors: list[str]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Accessibility check; what axe-core itself injects is not the app's doing."""
    before = len(errors)
    check_accessibility(page)
    del errors[before:]


def test_api_docs_render_under_the_csp(live_server, page):  # noqa: F811
    errors = _csp_errors(page)
    page.goto(live_server.url + "/api/v1/docs")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 20
    assert page.get_by_text("/api/v1/households", exact=True).first.is_visible()
    assert errors == []


def test_login_with_the_code_step_is_accessible(live_server, page):  # noqa: F811
    account = next(a for a in ACCOUNTS if a.role == "committee")
    errors = _csp_errors(page)
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(account.email)
    page.get_by_label("Mot de passe").fill(account.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/connexion/code$"))
    _axe(page, errors)
    page.get_by_label("Code à 6 chiffres").fill("000000")
    page.get_by_role("button", name="Valider").click()
    assert "Code incorrect." in page.locator(".field-error").inner_text()
    _axe(page, errors)
    page.get_by_label("Code à 6 chiffres").fill(totp_code(account.totp_secret, account.email))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(re.compile(r"/comite/$"))
    page.goto(live_server.url + "/compte/double-authentification")
    _axe(page, errors)
    assert errors == []


def test_a_landlord_enrols_with_the_qr_page(live_server, page):  # noqa: F811
    account = next(a for a in ACCOUNTS if a.email == "bailleur@paris-habitat.demo")
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(account.email)
    page.get_by_label("Mot de passe").fill(account.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/bailleur/$"))
    errors = _csp_errors(page)
    page.goto(live_server.url + "/compte/double-authentification")
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    _axe(page, errors)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code à 6 chiffres").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(re.compile(r"/bailleur/$"))
    assert "Double authentification activée." in page.get_by_role("status").first.inner_text()
    assert errors == []


@pytest.mark.parametrize("account", ACCOUNTS[::3] + [a for a in ACCOUNTS if a.totp_secret], ids=lambda a: a.email)
def test_no_page_breaks_the_csp(live_server, page, account):  # noqa: F811
    """Every page one click from each home loads without anything blocked by the CSP."""
    errors = _csp_errors(page)
    log_in(page, live_server.url, account)
    home = page.url
    links = page.eval_on_selector_all(
        "main a[href], nav a[href]", "els => els.map(e => e.getAttribute('href'))")
    paths = sorted({h for h in links if h.startswith("/") and not h.startswith(("/static/", "/deconnexion"))
                    and "export" not in h and not re.search(r"\.(csv|xlsx|ods|pdf)(\?|$)", h)})
    for path in paths[:25]:
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    page.goto(home)
    assert errors == [], "\n".join(errors)
