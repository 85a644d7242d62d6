"""A committee member opens the quarter, reads a chart's table, downloads the PDF; axe on every page."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from services.demo import ACCOUNTS
from tests.browser.conftest import check_accessibility
from tests.conftest import totp_code

pytestmark = pytest.mark.browser

ACCOUNT = next(a for a in ACCOUNTS if a.email == "comite@passerelle.demo")
NUMBER_OR_HIDDEN = re.compile(r"^(\d[\d\u202f\u00a0 ]*|< 5|\(s\)|—)$")


def log_in(live_server, page):
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(ACCOUNT.email)
    page.get_by_label("Mot de passe").fill("demo-comite-de-suivi")
    page.get_by_role("button", name="Se connecter").click()
    if getattr(ACCOUNT, "totp_secret", None):
        page.wait_for_url(re.compile(r"/connexion/code$"))
        page.get_by_label("Code à 6 chiffres").fill(totp_code(ACCOUNT.totp_secret, ACCOUNT.email))
        page.get_by_role("button", name="Valider").click()
    page.wait_for_url(re.compile(r"/comite/$"))


def test_committee_member_reads_the_quarter_and_downloads_the_pdf(live_server, page):
    log_in(live_server, page)
    assert page.get_by_role("heading", level=1).inner_text() == "Comité de suivi"
    check_accessibility(page)

    # The chart and the table beside it.
    chart = page.get_by_role("img", name=re.compile("Diagramme en barres des demandes déposées"))
    chart.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
    table = page.locator("table[data-table='headline']").first
    assert table.locator("caption").inner_text() == "Le trimestre en chiffres"
    row = table.get_by_role("row", name=re.compile("Demandes déposées"))
    values = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert len(values) == 3 and all(NUMBER_OR_HIDDEN.match(v) for v in values), values
    # Nowhere on the page a count of 1 to 4.
    counts = page.locator("td[data-kind='count']").all_inner_texts()
    assert counts and not {c.strip() for c in counts} & {"1", "2", "3", "4"}

    with page.expect_download(timeout=120_000) as info:  # WeasyPrint takes a few seconds
        page.get_by_role("link", name="PDF", exact=True).click()
    download = info.value
    assert download.suggested_filename.startswith("comite-") and download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as f:
        reader = PdfReader(io.BytesIO(f.read()))
    first = reader.pages[0].extract_text()
    assert "Comité de suivi" in first and "Sommaire" in first

    page.get_by_role("link", name="Besoins non couverts").click()
    page.wait_for_url(re.compile(r"/comite/besoins"))
    assert page.get_by_role("heading", level=1).inner_text() == "Besoins non couverts"
    check_accessibility(page)

    page.get_by_role("link", name="Simulation").click()
    page.wait_for_url(re.compile(r"/comite/simulation"))
    check_accessibility(page)
    page.get_by_label("Taux d'effort maximal (%)").fill("35")
    page.get_by_role("button", name="Simuler").click()
    page.get_by_role("heading", name="Résultat").wait_for()
    assert page.locator("table[data-table='whatif']").is_visible()
    check_accessibility(page)
