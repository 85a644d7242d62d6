"""A landlord imports her units from a spreadsheet and publishes one, in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser

HEADER = ("reference;commune;latitude;longitude;incertitude_km;pieces;surface_m2;etage;ascenseur;"
          "accessible_fauteuil;loyer;charges;financement;qpv;disponible_le\r\n")


def log_in(page, url):  # type: ignore[no-untyped-def]
    page.goto(url + "/connexion")
    page.get_by_label("Adresse e-mail").fill("bailleur@lmh.demo")
    page.get_by_label("Mot de passe").fill("demo-bailleur-lille")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/bailleur/$"))


def test_import_then_publish(live_server, page, tmp_path):
    log_in(page, live_server.url)
    assert page.get_by_role("heading", level=1).inner_text() == "Espace bailleur"
    check_accessibility(page)

    page.get_by_role("button", name="Voir tous mes logements").click()
    page.wait_for_url(re.compile(r"/bailleur/logements$"))
    check_accessibility(page)

    page.get_by_role("button", name="Importer un fichier").click()
    page.wait_for_url(re.compile(r"/bailleur/logements/importer$"))
    check_accessibility(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Modèle CSV").click()
    template = tmp_path / "modele.csv"
    download.value.save_as(template)
    assert download.value.suggested_filename == "modele-logements.csv"
    assert template.read_text(encoding="utf-8-sig").startswith(HEADER.rstrip())

    # A file with one bad line: nothing is stored, the line is named.
    bad = tmp_path / "logements-faux.csv"
    bad.write_bytes((HEADER
                     + "PARCOURS-1;Lille;;;;3;64,5;2;oui;non;412,50;85;PLUS;non;01/12/2026\r\n"
                     + "PARCOURS-2;Saint-Denis;;;;2;48;0;non;oui;356;60;PLAI;oui;30/02/2026\r\n").encode("cp1252"))
    page.get_by_label("Fichier à importer").set_input_files(str(bad))
    page.get_by_role("button", name="Importer", exact=True).click()
    alert = page.get_by_role("alert")
    assert "aucun logement n'a été enregistré" in alert.inner_text()
    report = page.get_by_role("table", name="Erreurs du fichier, ligne par ligne").inner_text()
    assert "Plusieurs communes s'appellent « Saint-Denis »" in report
    assert "Date invalide" in report and "3\tdisponible_le" in report
    check_accessibility(page)

    good = tmp_path / "logements.csv"
    good.write_bytes((HEADER
                      + "PARCOURS-1;Lille;;;;3;64,5;2;oui;non;412,50;85;PLUS;non;01/12/2026\r\n"
                      + "PARCOURS-2;Saint-Denis (93);;;;2;48;0;non;oui;356;60;PLAI;oui;15/12/2026\r\n"
                      + "PARCOURS-3;Marcq-en-Barœul;50,655;3,09;0,2;4;81;1;non;non;520;95;PLUS;non;2027-01-10\r\n"
                      ).encode("cp1252"))
    page.get_by_label("Fichier à importer").set_input_files(str(good))
    page.get_by_role("button", name="Importer", exact=True).click()
    page.get_by_role("heading", name="Import terminé").wait_for()
    assert "3 logements ont été créés comme brouillons." in page.get_by_role("status").inner_text()
    by_commune = page.get_by_role("table", name="Logements créés par commune").inner_text()
    assert "Saint-Denis (93)\t1" in by_commune and "Lille (59)\t1" in by_commune
    check_accessibility(page)

    page.get_by_role("link", name="PARCOURS-1").click()
    page.get_by_role("heading", level=1).wait_for()
    assert "Logement PARCOURS-1" in page.get_by_role("heading", level=1).inner_text()
    assert "Brouillon" in page.get_by_role("heading", level=1).inner_text()
    check_accessibility(page)

    # The form, as it is and with an error next to a field.
    page.get_by_role("button", name="Modifier", exact=True).click()
    page.get_by_role("heading", name="Modifier le logement PARCOURS-1").wait_for()
    assert page.get_by_label("Loyer (€ / mois)").input_value() == "412,50"
    check_accessibility(page)
    # Typing a commune's name brings suggestions with their codes.
    page.get_by_label("Commune").fill("Saint-Denis")
    page.locator('#communes-suggestions option[value="93066"]').wait_for(state="attached")
    page.get_by_label("Commune").fill("59350")
    page.get_by_label("Loyer (€ / mois)").fill("-3")
    page.get_by_role("button", name="Enregistrer").click()
    assert page.locator("#rent-error").inner_text() == "Le loyer doit être compris entre 0 et 5000 €."
    check_accessibility(page)
    page.get_by_label("Loyer (€ / mois)").fill("415")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("status").filter(has_text="Logement PARCOURS-1 modifié.").wait_for()

    page.get_by_role("button", name="Publier", exact=True).click()
    page.get_by_role("status").filter(has_text="Logement PARCOURS-1 publié").wait_for()
    assert "Publié" in page.get_by_role("heading", level=1).inner_text()
    check_accessibility(page)

    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role("link", name="Mes logements").click()
    page.wait_for_url(re.compile(r"/bailleur/logements$"))
    page.get_by_label("Statut").select_option(label="Publié")
    page.get_by_role("button", name="Filtrer", exact=True).click()
    page.wait_for_url(re.compile(r"status=published"))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="PARCOURS-1"))
    assert "Publié" in row.inner_text() and "415,00 €" in row.inner_text().replace("\xa0", " ")
    assert page.get_by_role("link", name="PARCOURS-2").count() == 0  # still a draft
    check_accessibility(page)

    # The two drafts left, ticked and published together.
    page.get_by_label("Statut").select_option(label="Brouillon")
    page.get_by_role("button", name="Filtrer", exact=True).click()
    page.wait_for_url(re.compile(r"status=draft"))
    check_accessibility(page)
    for reference in ("PARCOURS-2", "PARCOURS-3"):
        page.get_by_label(f"Publier le brouillon {reference}").check()
    page.get_by_role("button", name="Publier les brouillons cochés").click()
    page.get_by_role("status").filter(has_text="2 logements publiés").wait_for()
    assert page.get_by_role("link", name="PARCOURS-3").count() == 1
    check_accessibility(page)
