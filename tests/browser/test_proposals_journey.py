"""After release: the referent answers for the household, the landlord's commission retains
her, the lease is signed — two people, two browsers, every page checked for accessibility.

The released run and its proposals are written straight into the live server's database
(the coordinator's release pages belong to the runs' journey).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from models import Organisation
from services.worklists import reference
from tests import factories
from tests.browser.conftest import check_accessibility

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def released(live_server):  # type: ignore[no-untyped-def]
    """Two candidates for one Lille Métropole Habitat unit, one of them from Solidarité Femmes Lille."""
    app = live_server.app
    with app.app_context(), so.Session(app.extensions["db"].engine) as db:
        landlord = db.scalar(sa.select(Organisation).where(Organisation.name == "Lille Métropole Habitat"))
        association = db.scalar(sa.select(Organisation).where(Organisation.name == "Solidarité Femmes Lille"))
        unit = factories.create_unit(db, landlord=landlord, reference="PARCOURS-PROP-1")
        household = factories.create_household(db, association=association, reference="PARCOURS-DOSSIER-1")
        run = factories.create_run(db)
        deadline = dt.date.today() + dt.timedelta(days=10)
        mine = factories.create_proposal(db, unit=unit, household=household, run=run, deadline=deadline)
        other = factories.create_proposal(db, unit=unit, run=run, rank=2, deadline=deadline)
        db.commit()
        return {"mine": mine.public_id, "other": other.public_id,
                "mine_ref": reference(mine), "other_ref": reference(other)}


def log_in(page, url, email, password):  # type: ignore[no-untyped-def]
    page.goto(url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/(bailleur|association)/$"))


def test_referent_then_landlord(live_server, browser, released):  # type: ignore[no-untyped-def]
    referent = browser.new_context(locale="fr-FR").new_page()
    landlord = browser.new_context(locale="fr-FR").new_page()
    for p in (referent, landlord):
        p.set_default_timeout(10_000)
    pid = released["mine"]

    # The landlord sees the candidates, but no profile before the household answers.
    log_in(landlord, live_server.url, "bailleur@lmh.demo", "demo-bailleur-lille")
    landlord.get_by_role("link", name="Propositions").click()
    landlord.wait_for_url(re.compile(r"/bailleur/propositions$"))
    section = landlord.get_by_role("region", name=re.compile("PARCOURS-PROP-1"))
    assert "n'a pas encore répondu" in section.inner_text()
    assert "Solidarité Femmes Lille" not in section.inner_text()
    check_accessibility(landlord)

    # The referent reads the unit and accepts for the household.
    log_in(referent, live_server.url, "referente@sf-lille.demo", "demo-referente-lille")
    referent.get_by_role("link", name="Propositions").click()
    referent.wait_for_url(re.compile(r"/association/propositions$"))
    check_accessibility(referent)
    referent.get_by_role("link", name=pid).click()
    assert "Lille (59350)" in referent.get_by_role("region", name="Le logement").inner_text()
    check_accessibility(referent)
    # Declining without a reason is refused on the field itself.
    referent.get_by_role("button", name="Décliner la proposition").click()
    assert referent.get_by_label("Motif du refus").get_attribute("aria-invalid") == "true"
    check_accessibility(referent)
    referent.get_by_role("button", name="Accepter la proposition").click()
    assert "le ménage accepte" in referent.get_by_role("status").first.inner_text()
    check_accessibility(referent)

    # The landlord now sees her anonymised profile, retains her at rank 1, then the lease.
    landlord.reload()
    section = landlord.get_by_role("region", name=re.compile("PARCOURS-PROP-1"))
    card = section.get_by_role("article", name=re.compile(released["mine_ref"]))
    text = card.inner_text()
    assert re.search(r"1\s000–1\s499\s€/mois", text) and "Solidarité Femmes Lille" in text
    assert "PARCOURS-DOSSIER-1" not in landlord.content()
    card.get_by_role("button", name="Retenir ce ménage").click()
    landlord.wait_for_url(re.compile(rf"/bailleur/propositions/{pid}$"))
    assert "le ménage est retenu au rang 1" in landlord.get_by_role("status").first.inner_text()
    # The unit's candidates in the commission's order: hers first; the other still waits.
    order = landlord.get_by_role("region", name=re.compile("ordre de la commission")).inner_text()
    assert order.index(released["mine_ref"]) < order.index(released["other_ref"]) and "rang 1" in order
    check_accessibility(landlord)
    # The dates start at today; the kind of lease is the landlord's to say.
    landlord.get_by_label("Type de bail").select_option("direct")
    landlord.get_by_role("button", name="Le bail est signé").click()
    assert "le logement est attribué" in landlord.get_by_role("status").first.inner_text()
    assert "Bail signé" in landlord.get_by_role("region", name="Historique").inner_text()
    # Signed: the other candidate is cancelled only now.
    assert "Annulée" in landlord.get_by_role("region", name=re.compile("ordre de la commission")).inner_text()
    check_accessibility(landlord)

    # The referent's notifications tell her, without any place in them.
    referent.goto(live_server.url + "/association/notifications")
    notes = referent.get_by_role("list").last.inner_text()
    assert "bail est signé" in notes and "Lille" not in notes
    check_accessibility(referent)
    referent.context.close()
    landlord.context.close()
