"""A referent describes a household in a real browser, checks its zones in words, saves, activates it."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "referente@sf-lille.demo", "demo-referente-lille"


def test_referent_creates_checks_saves_and_activates_a_household(live_server, page):
    reference = f"DOS-E2E-{secrets.token_hex(3).upper()}"
    page.goto(live_server.url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/association/$"))
    check_accessibility(page)

    page.get_by_role("link", name="Décrire un nouveau ménage").click()
    page.wait_for_url(re.compile(r"/association/menages/nouveau$"))
    check_accessibility(page)
    page.get_by_label("Référence du dossier").fill(reference)
    page.get_by_label("Adultes").fill("1")
    page.get_by_label("Enfants").fill("2")
    page.get_by_label("Ressources mensuelles (€)").fill("1380")
    page.get_by_label("Aide au logement attendue (APL ou AL, € par mois)").fill("262")
    # The rent she can bear appears as the amounts are typed (30 % of 1 380 + 262).
    assert "676" in page.locator("#max-rent").inner_text()
    page.get_by_label("3 — Danger immédiat : mise en sécurité sans délai").check()
    page.get_by_label("Victime de violences au sein du couple ou de la famille").check()
    page.get_by_label("Prête à emménager à partir du").fill("2026-12-01")
    page.get_by_label("Départements recherchés").fill("59, 62")
    page.get_by_label("Départements où elle ne doit jamais être logée").fill("Somme")
    first_zone = page.get_by_role("group", name="Zone autour d'un lieu n° 1")
    first_zone.get_by_label("Commune").fill("Roubaix")
    first_zone.get_by_label("Distance ou rayon (km)").fill("10")

    # A name several communes share is refused, with the candidates, next to the field.
    page.get_by_label("Communes où elle ne doit jamais être logée").fill("Saint-Martin")
    page.get_by_role("button", name="Vérifier").click()
    page.get_by_role("alert").filter(has_text="Le formulaire contient des erreurs").wait_for()
    error = page.locator("#excluded_communes-error").inner_text()
    assert "Plusieurs communes s'appellent « Saint-Martin »" in error and "code INSEE" in error
    assert page.get_by_label("Distance ou rayon (km)").first.input_value() == "10"  # nothing typed is lost
    check_accessibility(page)
    page.get_by_label("Communes où elle ne doit jamais être logée").fill("")

    page.get_by_role("button", name="Vérifier").click()
    check = page.get_by_role("region", name="Vérifiez avant d'enregistrer")
    check.wait_for()
    zones = check.locator("#preview-zones").inner_text()
    assert "Jamais à moins de 10 km de Roubaix (59512)" in zones
    assert "Jamais dans le département Somme (80)" in zones
    assert "676" in check.inner_text()
    check_accessibility(page)

    check.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(re.compile(r"/association/menages/H-[\w-]+$"))
    assert page.get_by_role("status").first.inner_text() == f"Ménage {reference} enregistré."
    assert "Brouillon" in page.get_by_role("heading", level=1).inner_text()
    summary = page.locator("#summary-zones").inner_text()
    assert "Jamais à moins de 10 km de Roubaix (59512)" in summary and "Somme (80)" in summary
    check_accessibility(page)

    page.get_by_label("Consentement recueilli le").fill("2026-11-20")
    page.get_by_role("button", name="Enregistrer le consentement et activer").click()
    page.get_by_text("Demande activée").wait_for()
    assert "Active" in page.get_by_role("heading", level=1).inner_text()
    check_accessibility(page)

    page.get_by_role("link", name="← Tous les ménages").click()
    page.get_by_label("Référence").fill(reference)
    page.get_by_label("Statut").select_option(label="Active")
    page.get_by_role("button", name="Filtrer").click()
    row = page.get_by_role("row").filter(has_text=reference)
    assert "Active" in row.inner_text() and "1 adulte, 2 enfants" in row.inner_text()
    check_accessibility(page)
