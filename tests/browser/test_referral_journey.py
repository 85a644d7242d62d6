"""Before and after the lease (issue 18), in two browsers: a landlord's staff refer a tenant
in danger to an association, the referent takes her on and activates her file, she is
rehoused, and the referent records the first follow-up checkpoint — every new page checked
for accessibility, and neither side shown what belongs to the other.

The server is the demo's, plus one published unit of Lille Métropole Habitat that suits her
(written into its database: publishing units is the landlord's journey). She reaches it
through the pages, without a matching run: the referent puts her forward on the offer board,
the landlord's commission retains her, then the lease is recorded with its dates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from models import Organisation
from services.demo import ACCOUNTS
from tests import factories
from tests.browser.conftest import check_accessibility, log_in

pytestmark = pytest.mark.browser

LANDLORD = next(a for a in ACCOUNTS if a.email == "bailleur@lmh.demo")
CARETAKER = next(a for a in ACCOUNTS if a.email == "gardienne@lmh.demo")  # role referrer
REFERENT = next(a for a in ACCOUNTS if a.email == "referente@sf-lille.demo")

UNIT_REF = "PARCOURS-ORIENT-LOG"
LANDLORD_REF = "BAIL-LMH-4471"  # the landlord's own reference: never shown to the association
FILE_REF = "SFL-ORIENT-0042"  # the association's file: never shown to the landlord


@pytest.fixture(scope="module")
def unit(live_server: Any) -> str:
    """A T3 of Lille Métropole Habitat at Villeneuve-d'Ascq, free today, at a rent she can bear."""
    app = live_server.app
    with app.app_context(), so.Session(app.extensions["db"].engine) as db:
        landlord = db.scalar(sa.select(Organisation).where(Organisation.name == "Lille Métropole Habitat"))
        made = factories.create_unit(db, landlord=landlord, reference=UNIT_REF, commune="59009", department="59",
                                     lat=50.63238, lon=3.15298, location_uncertainty_km=4.69, rooms=3,
                                     rent=Decimal("398.40"), charges=Decimal("71.60"), available_from=dt.date.today(),
                                     status="published")
        db.commit()
        return made.public_id


@pytest.fixture
def referent(browser: Any) -> Iterator[Any]:
    """The referent's own browser (her own cookies), beside the landlord's `page`."""
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def test_a_referral_taken_on_rehoused_and_followed(live_server, page, referent, unit):  # type: ignore[no-untyped-def]
    landlord, url = page, live_server.url
    today = dt.date.today()
    consent = today - dt.timedelta(days=2)
    # The tenancy starts on the first of next month: the checkpoints fall on the first, 3, 6, 12 months on.
    move_in = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)

    def months_after(months: int) -> dt.date:
        month0 = move_in.month - 1 + months
        return dt.date(move_in.year + month0 // 12, month0 % 12 + 1, 1)

    # 1. The landlord's caretaker refers her tenant, with her consent. Her account opens on her
    # referrals and reaches nothing else of the landlord's: no units, no proposals.
    log_in(landlord, url, CARETAKER)
    landlord.wait_for_url(re.compile(r"/bailleur/orientations$"))
    menu = landlord.get_by_role("navigation", name="Navigation principale")
    assert menu.get_by_role("link", name="Orientations").count() == 1
    for elsewhere in ("Logements", "Propositions", "Demandes"):
        assert menu.get_by_role("link", name=elsewhere).count() == 0, elsewhere
    assert landlord.request.get(url + "/bailleur/logements").status == 404  # not her pages
    assert "0 orientation" in landlord.get_by_role("status").inner_text()
    check_accessibility(landlord)
    landlord.get_by_role("button", name="Orienter une personne").click()
    landlord.wait_for_url(re.compile(r"/bailleur/orientations/nouvelle$"))
    check_accessibility(landlord)
    landlord.get_by_label("Votre référence pour ce dossier").fill(LANDLORD_REF)
    landlord.get_by_label("Département de son logement actuel").select_option("59")
    landlord.get_by_label("Association à qui vous l'orientez").select_option(label="Solidarité Femmes Lille (59)")
    landlord.get_by_label("Adultes").fill("1")
    landlord.get_by_label("Enfants").fill("2")
    landlord.get_by_label("Urgence").select_option(label="3 — Danger immédiat : mise en sécurité sans délai")
    landlord.get_by_label("Elle vit encore sous le même toit que l'agresseur").check()
    # Two mistakes: her consent dated tomorrow, and a message that gives away where she lives.
    landlord.get_by_label("Date de son accord pour cette orientation").fill((today + dt.timedelta(days=1)).isoformat())
    landlord.get_by_label("Message pour l'association (facultatif)").fill(
        "Elle peut être jointe au 12 rue des Lilas, le matin.")
    landlord.get_by_role("button", name="Envoyer l'orientation").click()
    assert "L'orientation n'a pas été envoyée" in landlord.get_by_role("alert").inner_text()
    assert landlord.locator("#consent_on-error").inner_text() == "La date de son accord ne peut pas être dans le futur."
    assert landlord.locator("#message-error").inner_text() == "Le message contient ce qui ressemble à une adresse."
    assert landlord.get_by_label("Message pour l'association (facultatif)").get_attribute("aria-invalid") == "true"
    assert landlord.get_by_label("Votre référence pour ce dossier").input_value() == LANDLORD_REF  # nothing lost
    check_accessibility(landlord)
    landlord.get_by_label("Date de son accord pour cette orientation").fill(consent.isoformat())
    landlord.get_by_label("Message pour l'association (facultatif)").fill(
        "Départ urgent souhaité, deux enfants scolarisés.")
    landlord.get_by_role("button", name="Envoyer l'orientation").click()
    landlord.wait_for_url(re.compile(r"/bailleur/orientations/R-[\w-]+$"))
    referral_id = landlord.url.rsplit("/", 1)[1]
    assert "Orientation envoyée à Solidarité Femmes Lille" in landlord.get_by_role("status").first.inner_text()
    assert "pas encore répondu" in landlord.get_by_role("status").last.inner_text()
    check_accessibility(landlord)
    landlord.get_by_role("navigation", name="Fil d’Ariane").get_by_role("link", name="Orientations").click()
    row = landlord.get_by_role("row").filter(has=landlord.get_by_role("link", name=LANDLORD_REF))
    assert "Solidarité Femmes Lille" in row.inner_text() and "À examiner" in row.inner_text()
    check_accessibility(landlord)

    # 2. The referent finds it, without the landlord's reference, and takes her on.
    log_in(referent, url, REFERENT)
    referent.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Orientations").click()
    referent.wait_for_url(re.compile(r"/association/orientations$"))
    assert "1 orientation à examiner" in referent.get_by_role("status").inner_text()
    row = referent.get_by_role("row").filter(has=referent.get_by_role("link", name=referral_id))
    text = row.inner_text()
    assert "Lille Métropole Habitat" in text and "1 adulte, 2 enfants" in text and "À examiner" in text
    assert "sous le même toit que l'agresseur" in text
    assert LANDLORD_REF not in referent.content()
    check_accessibility(referent)
    row.get_by_role("link", name=referral_id).click()
    referent.wait_for_url(re.compile(rf"/association/orientations/{referral_id}$"))
    facts = referent.locator("dl.facts").inner_text()
    assert "3 — Danger immédiat" in facts and "Départ urgent souhaité" in facts and _ddmmyyyy(consent) in facts
    assert LANDLORD_REF not in referent.content()
    check_accessibility(referent)
    # Accepting without her own file's reference is refused on the field.
    referent.get_by_role("button", name="Accepter et ouvrir son dossier").click()
    assert referent.locator("#reference-error").inner_text() == "Indiquez la référence de votre dossier."
    check_accessibility(referent)
    referent.get_by_label("Référence de votre dossier pour elle").fill(FILE_REF)
    referent.get_by_role("button", name="Accepter et ouvrir son dossier").click()
    referent.wait_for_url(re.compile(r"/association/menages/H-[\w-]+/modifier$"))
    assert f"Dossier {FILE_REF} ouvert en brouillon" in referent.get_by_role("status").first.inner_text()
    assert referent.get_by_role("heading", level=1).inner_text() == f"Modifier le ménage {FILE_REF}"
    assert referent.get_by_label("Enfants").input_value() == "2"  # what the landlord's staff said
    # She completes the file: resources, and where she must never live.
    referent.get_by_label("Ressources mensuelles (€)").fill("1380")
    referent.get_by_label("Aide au logement attendue (APL ou AL, € par mois)").fill("262")
    referent.get_by_label("Départements où elle ne doit jamais être logée").fill("Somme")
    referent.get_by_role("button", name="Vérifier").click()
    check = referent.get_by_role("region", name="Vérifiez avant d'enregistrer")
    assert "Jamais dans le département Somme (80)" in check.locator("#preview-zones").inner_text()
    check.get_by_role("button", name="Enregistrer").click()
    referent.wait_for_url(re.compile(r"/association/menages/H-[\w-]+$"))
    assert "Brouillon" in referent.get_by_role("heading", level=1).inner_text()
    referent.get_by_label("Consentement recueilli le").fill(consent.isoformat())
    referent.get_by_role("button", name="Enregistrer le consentement et activer").click()
    referent.get_by_text("Demande activée").wait_for()
    assert "Active" in referent.get_by_role("heading", level=1).inner_text()

    # 3. Rehoused: the referent puts her forward on the unit, the commission retains her, the lease.
    referent.get_by_role("link", name="Offres").click()
    referent.get_by_label("Ménage").select_option(label=FILE_REF)
    referent.get_by_role("button", name="Filtrer").click()
    referent.wait_for_url(re.compile(r"/association/offres\?menage="))
    offer = referent.get_by_role("row").filter(has_text=re.compile(r"398,40")).filter(
        has_text="Villeneuve-d'Ascq")
    offer.get_by_role("button", name="Proposer sa candidature").click()
    assert "Candidature enregistrée" in referent.get_by_role("status").first.inner_text()

    # The landlord's allocation officer (not the caretaker) takes it to the commission.
    landlord.context.clear_cookies()
    log_in(landlord, url, LANDLORD)
    landlord.get_by_role("link", name="Propositions").click()
    landlord.get_by_role("link", name=re.compile(r"^À décider par ma commission")).click()
    section = landlord.get_by_role("region", name=re.compile(UNIT_REF))
    while not section.count():  # the units whose commission waited longest come first
        landlord.get_by_role("link", name="Page suivante").click()
    assert "Solidarité Femmes Lille" in section.inner_text() and FILE_REF not in landlord.content()
    section.get_by_role("button", name="Retenir ce ménage").click()
    landlord.wait_for_url(re.compile(r"/bailleur/propositions/[\w-]+$"))
    assert "le ménage est retenu au rang 1" in landlord.get_by_role("status").first.inner_text()
    landlord.get_by_label("Date de signature du bail").fill(today.isoformat())
    landlord.get_by_label("Date d'entrée dans les lieux").fill(move_in.isoformat())
    landlord.get_by_label("Type de bail").select_option("direct")
    landlord.get_by_role("button", name="Le bail est signé").click()
    assert "le logement est attribué" in landlord.get_by_role("status").first.inner_text()
    assert _ddmmyyyy(move_in) in landlord.get_by_label(re.compile("^Bail de la candidature")).inner_text()

    # 4. The referent's follow-up: three checkpoints from the move-in date, the first recorded.
    referent.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Suivi").click()
    referent.wait_for_url(re.compile(r"/association/suivi$"))
    due_before = int(re.match(r"\d+", referent.get_by_role("status").inner_text())[0])
    mine = referent.get_by_role("row").filter(has=referent.get_by_role("link", name=FILE_REF))
    assert mine.count() == 3
    for months in (3, 6, 12):
        row = mine.filter(has_text=re.compile(rf"\b{months} mois"))
        assert _ddmmyyyy(months_after(months)) in row.inner_text() and "À faire" in row.inner_text()
    check_accessibility(referent)
    mine.filter(has_text=re.compile(r"\b3 mois")).get_by_role("link", name=FILE_REF).click()
    referent.wait_for_url(re.compile(r"/association/suivi/[\w-]+$"))
    assert referent.get_by_role("heading", level=1).inner_text() == f"Point de suivi à 3 mois — {FILE_REF}"
    facts = referent.locator("dl.facts").inner_text()
    assert _ddmmyyyy(move_in) in facts and _ddmmyyyy(months_after(3)) in facts
    check_accessibility(referent)
    referent.get_by_label("Tout va bien").check()
    referent.get_by_label("Constat principal").select_option(label="Accompagnement en place")
    referent.get_by_role("button", name="Enregistrer le point de suivi").click()
    referent.wait_for_url(re.compile(r"/association/suivi$"))
    assert referent.get_by_role("status").first.inner_text() == "Point de suivi enregistré."
    left = referent.get_by_role("status").last.inner_text()
    assert re.fullmatch(rf"{due_before - 1} points? de suivi à faire", left), left
    assert mine.filter(has_text="À faire").count() == 2
    assert "Tout va bien — Accompagnement en place" in mine.filter(has_text=re.compile(r"\b3 mois")).inner_text()
    check_accessibility(referent)

    # 5. The landlord's staff read the answer, and nothing of her file.
    landlord.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Orientations").click()
    row = landlord.get_by_role("row").filter(has=landlord.get_by_role("link", name=LANDLORD_REF))
    assert "Acceptée" in row.inner_text()
    row.get_by_role("link", name=LANDLORD_REF).click()
    landlord.wait_for_url(re.compile(rf"/bailleur/orientations/{referral_id}$"))
    assert "L'association l'accompagne" in landlord.get_by_role("status").last.inner_text()
    content = landlord.content()
    assert FILE_REF not in content and "Tout va bien" not in content and "Accompagnement en place" not in content
    check_accessibility(landlord)
