"""A journey per origin besides the run (issue 15): a candidacy from the offer board, a
landlord's offer on a rehousing request, a coordinator's direct match — each from its start
to the lease record, as the people concerned click it, every new kind of page checked for
accessibility.

The server is the demo's (`live_server`), plus, for each journey, one active household of
Solidarité Femmes Lille who looks in the Nord and must never live in Roubaix, and published
units of Lille Métropole Habitat in Lille (compatible) and in Roubaix (inside her zone).
On the offer board a unit shows no reference: each of ours has a rent no demo unit has.

The rehousing request is posted from the household's page, the direct match from the
coordinator's "Proposition directe" page.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from playwright.sync_api import expect

from models import Decision, Household, Lease, Organisation, Proposal, RefusedOffer, RehousingRequest, Unit
from services.demo import ACCOUNTS
from tests import factories
from tests.browser.conftest import check_accessibility, log_in
from tests.browser.test_whole_workflow import page_through, timeline_text

pytestmark = pytest.mark.browser

COORDINATION = next(a for a in ACCOUNTS if a.email == "coordination@passerelle.demo")
REFERENT = next(a for a in ACCOUNTS if a.email == "referente@sf-lille.demo")
LANDLORD = next(a for a in ACCOUNTS if a.email == "bailleur@lmh.demo")

LILLE = {"commune": "59350", "lat": 50.6292, "lon": 3.0573}
ROUBAIX = {"commune": "59512", "lat": 50.6942, "lon": 3.1746}
EXCLUDED = ("59512", "Roubaix")  # where none of our households may live
# Each unit: (reference, where, rent); the rent finds its row on the board (charges 58,83 €).
UNITS = {
    "cand_ok": ("ORIGINES-CAND-OK", LILLE, "401.17"),
    "cand_zone": ("ORIGINES-CAND-ZONE", ROUBAIX, "402.17"),
    "req_zone": ("ORIGINES-DEM-ZONE", ROUBAIX, "403.17"),
    "req_ok": ("ORIGINES-DEM-OK", LILLE, "404.17"),
    "dir_ok": ("ORIGINES-DIR-OK", LILLE, "405.17"),
}
HOUSEHOLDS = {"cand": "ORIGINES-CAND-MEN", "req": "ORIGINES-DEM-MEN", "dir": "ORIGINES-DIR-MEN"}
REQUEST_MESSAGE = "Mère seule avec deux enfants scolarisés, prête à emménager, sans voiture."
DIRECT_REASON = "Danger immédiat : mise en sécurité sans attendre le prochain rapprochement."

@pytest.fixture(scope="module")
def origins(live_server):  # type: ignore[no-untyped-def]
    """Our units and households, in the live server's database."""
    app = live_server.app
    today = dt.date.today()
    with app.app_context(), so.Session(app.extensions["db"].engine) as db:
        landlord = db.scalar(sa.select(Organisation).where(Organisation.name == "Lille Métropole Habitat"))
        association = db.scalar(sa.select(Organisation).where(Organisation.name == "Solidarité Femmes Lille"))
        ids = {}
        for key, (reference, place, rent) in UNITS.items():
            ids[key] = factories.create_unit(
                db, landlord=landlord, reference=reference, department="59", rooms=3, rent=Decimal(rent),
                charges=Decimal("58.83"), available_from=today, status="published", **place).public_id
        for key, reference in HOUSEHOLDS.items():
            ids[key] = factories.create_household(
                db, association=association, reference=reference, urgency=3, adults=1, children=2,
                requested_on=today - dt.timedelta(days=120), ready_from=today, consent_recorded_on=today,
                search_area={"communes": [], "departments": ["59"]},
                exclusion_zones=[{"commune": EXCLUDED[0]}], status="active").public_id
        db.commit()
    return ids


def new_page(browser: Any) -> Any:
    page = browser.new_context(locale="fr-FR").new_page()
    page.set_default_timeout(15_000)
    return page


def open_household(referent: Any, reference: str) -> str:
    """From the list of her households to the page of one: its public id (from the URL)."""
    referent.get_by_role("link", name="Ménages accompagnés").click()
    referent.wait_for_url(re.compile(r"/association/$"))
    referent.get_by_label("Référence").fill(reference)
    referent.get_by_role("button", name="Filtrer").click()
    referent.wait_for_url(re.compile(r"/association/\?.*reference="))
    referent.get_by_role("row").filter(has_text=reference).get_by_role("link", name=reference).click()
    referent.wait_for_url(re.compile(r"/association/menages/H-[^/?#]+$"))
    return referent.url.rsplit("/", 1)[1]


def referent_accepts(referent: Any, proposal_id: str, commune: str) -> None:
    """Her proposals, this one, read and accepted for the household."""
    referent.get_by_role("link", name="Propositions", exact=True).click()
    referent.wait_for_url(re.compile(r"/association/propositions$"))
    row = referent.get_by_role("row").filter(has=referent.get_by_role("link", name=proposal_id, exact=True))
    page_through(referent, row, re.compile("Page suivante"))
    assert "En attente de la réponse du ménage" in row.inner_text()
    row.get_by_role("link", name=proposal_id).click()
    referent.wait_for_url(re.compile(rf"/association/propositions/{proposal_id}$"))
    assert commune in referent.get_by_role("region", name="Le logement").inner_text()
    assert "Proposition transmise" in timeline_text(referent)
    referent.get_by_role("button", name="Accepter la proposition").click()
    expect(referent.get_by_role("status").first).to_contain_text("le ménage accepte")
    assert "Le ménage accepte la proposition" in timeline_text(referent)


def commission_accepts(landlord: Any, proposal_id: str, unit_ref: str) -> None:
    """Her home's worklist, the commission's list, the card of this proposal, retained at rank 1."""
    landlord.get_by_role("link", name="Mes logements").click()
    landlord.wait_for_url(re.compile(r"/bailleur/$"))
    todo = landlord.get_by_role("table", name=re.compile("Candidatures qui attendent votre commission"))
    item = todo.get_by_role("row").filter(has=landlord.locator(f'a[href$="/propositions/{proposal_id}"]'))
    expect(item).to_have_count(1)
    assert unit_ref in item.inner_text()
    check_accessibility(landlord)
    landlord.get_by_role("link", name="Toutes les candidatures à décider par ma commission").click()
    landlord.wait_for_url(re.compile(r"/bailleur/propositions\?vue=commission$"))
    card = landlord.get_by_role("article").filter(has=landlord.locator(f'form[action*="/{proposal_id}/"]'))
    page_through(landlord, card, re.compile("Page suivante"))
    assert "Acceptée par le ménage, en attente de la commission" in card.inner_text()
    assert "Solidarité Femmes Lille" in card.inner_text()
    card.get_by_label("Rang donné par la commission").select_option("1")
    card.get_by_role("button", name="Retenir ce ménage").click()
    landlord.wait_for_url(re.compile(rf"/bailleur/propositions/{proposal_id}$"))
    expect(landlord.get_by_role("status").first).to_contain_text("le ménage est retenu au rang 1")
    assert "La commission d'attribution retient le ménage" in timeline_text(landlord)


def record_lease(landlord: Any, kind: str, kind_label: str, move_in_after: int) -> tuple[str, str]:
    """The lease: signed on the form's first date (today), moving in `move_in_after` days on."""
    signed = dt.date.fromisoformat(landlord.get_by_label("Date de signature du bail").input_value())
    move_in = signed + dt.timedelta(days=move_in_after)
    landlord.get_by_label("Date d'entrée dans les lieux").fill(move_in.isoformat())
    landlord.get_by_label("Type de bail").select_option(kind)
    landlord.get_by_role("button", name="Le bail est signé").click()
    expect(landlord.get_by_role("status").first).to_contain_text("le logement est attribué")
    dates = (signed.strftime("%d/%m/%Y"), move_in.strftime("%d/%m/%Y"))
    lease = landlord.locator("dl.facts").filter(has_text=kind_label).inner_text()
    assert dates[0] in lease and dates[1] in lease, lease
    assert "Bail signé" in timeline_text(landlord)
    return dates


def unit_is_allocated(landlord: Any, unit_ref: str) -> None:
    """Her units filtered on "Attribué": ours is there, and its page says so."""
    landlord.get_by_role("link", name="Mes logements").click()
    landlord.wait_for_url(re.compile(r"/bailleur/$"))
    landlord.get_by_role("button", name="Voir tous mes logements").click()  # a link styled as a button
    landlord.wait_for_url(re.compile(r"/bailleur/logements$"))
    landlord.get_by_label("Statut").select_option(label="Attribué")
    landlord.get_by_role("button", name="Filtrer", exact=True).click()
    landlord.wait_for_url(re.compile(r"status=allocated"))
    row = landlord.get_by_role("row").filter(has=landlord.get_by_role("link", name=unit_ref, exact=True))
    page_through(landlord, row, re.compile("Page suivante"))
    row.get_by_role("link", name=unit_ref).click()
    landlord.wait_for_url(re.compile(r"/bailleur/logements/[^/?#]+$"))
    assert "Attribué" in landlord.get_by_role("heading", level=1).inner_text()
    assert "Ce logement est attribué." in landlord.content()


def referent_sees_lease(referent: Any, proposal_id: str, kind_label: str, dates: tuple[str, str],
                        household_ref: str) -> None:
    """The proposal's page has the lease; the household's page says she is rehoused."""
    referent.goto(referent.url.split("/association/")[0] + f"/association/propositions/{proposal_id}")
    lease = referent.get_by_role("region", name="Le bail").inner_text()
    assert kind_label in lease and dates[0] in lease and dates[1] in lease, lease
    decisions = referent.get_by_role("region", name="Décisions").inner_text()
    assert "Commission d'attribution : accord" in decisions and "Bail : accord" in decisions
    check_accessibility(referent)
    open_household(referent, household_ref)
    assert "Relogée" in referent.get_by_role("heading", level=1).inner_text()
    assert proposal_id in timeline_text(referent)


def the_database_agrees(app: Any, proposal_id: str, origin: str, unit_id: str, household_id: str,
                        steps: list[tuple[str, str]], kind: str) -> Proposal:
    with so.Session(app.extensions["db"].engine) as db:
        proposal = db.scalar(sa.select(Proposal).where(Proposal.public_id == proposal_id))
        assert proposal.origin == origin and proposal.run_id is None
        assert proposal.status == "leased" and proposal.commission_rank == 1
        assert proposal.unit.public_id == unit_id and proposal.household.public_id == household_id
        assert proposal.unit.status == "allocated" and proposal.household.status == "housed"
        taken = db.execute(sa.select(Decision.step, Decision.outcome)
                           .where(Decision.proposal_id == proposal.id).order_by(Decision.id)).all()
        assert [tuple(s) for s in taken] == steps
        assert db.scalar(sa.select(Lease.kind).where(Lease.proposal_id == proposal.id)) == kind
        db.expunge_all()
        return proposal


def test_candidacy_from_the_offer_board(live_server, browser, origins):  # type: ignore[no-untyped-def]
    url, ok_ref = live_server.url, UNITS["cand_ok"][0]
    referent, landlord = new_page(browser), new_page(browser)
    try:
        # --- The referent: the board, her household chosen, what suits her and what does not.
        log_in(referent, url, REFERENT)
        referent.get_by_role("link", name="Offres", exact=True).click()
        referent.wait_for_url(re.compile(r"/association/offres$"))
        check_accessibility(referent)
        referent.get_by_label("Ménage").select_option(label=HOUSEHOLDS["cand"])
        referent.get_by_label("Département").select_option("59")
        referent.get_by_role("button", name="Filtrer").click()
        referent.wait_for_url(re.compile(rf"/association/offres\?menage={origins['cand']}&"))
        board = referent.get_by_role("table", name="Logements publiés")
        compatible = board.get_by_role("row").filter(has_text="401,17")
        inside = board.get_by_role("row").filter(has_text="402,17")
        expect(compatible).to_have_count(1)
        expect(inside).to_have_count(1)
        assert "Lille (59350)" in compatible.inner_text() and "Lille Métropole Habitat" in compatible.inner_text()
        assert compatible.get_by_role("button", name="Proposer sa candidature").count() == 1
        # The unit inside her zone: no button, the rule in words (the association may know it).
        assert "Roubaix (59512)" in inside.inner_text()
        assert "Ne convient pas : zone d'exclusion" in inside.inner_text()
        assert inside.get_by_role("button").count() == 0
        # The board never shows a unit's reference.
        assert ok_ref not in referent.content()
        check_accessibility(referent)

        compatible.get_by_role("button", name="Proposer sa candidature").click()
        referent.wait_for_url(re.compile(r"/association/propositions/[^/?#]+$"))
        proposal_id = referent.url.rsplit("/", 1)[1]
        expect(referent.get_by_role("status").first).to_contain_text("Candidature enregistrée")
        # Her consent is already given: straight to the commission, nothing to answer.
        assert "Acceptée par le ménage, en attente de la commission" in referent.content()
        assert referent.get_by_role("button", name="Accepter la proposition").count() == 0
        assert "Lille (59350)" in referent.get_by_role("region", name="Le logement").inner_text()
        check_accessibility(referent)

        # --- The landlord: her worklist, the commission's list, the commission accepts, the lease.
        log_in(landlord, url, LANDLORD)
        commission_accepts(landlord, proposal_id, ok_ref)
        check_accessibility(landlord)
        dates = record_lease(landlord, "sliding", "Bail glissant (par une association)", 14)
        assert HOUSEHOLDS["cand"] not in landlord.content() and EXCLUDED[1] not in landlord.content()
        check_accessibility(landlord)
        unit_is_allocated(landlord, ok_ref)
        check_accessibility(landlord)

        # --- The referent: the lease on her side; the unit has left the board.
        referent_sees_lease(referent, proposal_id, "Bail glissant (par une association)", dates,
                            HOUSEHOLDS["cand"])
        referent.get_by_role("link", name="Offres", exact=True).click()
        referent.wait_for_url(re.compile(r"/association/offres$"))
        expect(referent.get_by_role("row").filter(has_text="401,17")).to_have_count(0)
        expect(referent.get_by_role("row").filter(has_text="402,17")).to_have_count(1)

        the_database_agrees(live_server.app, proposal_id, "candidacy", origins["cand_ok"], origins["cand"],
                            [("household", "accept"), ("commission", "accept"), ("lease", "accept")], "sliding")
    finally:
        referent.context.close()
        landlord.context.close()


def test_offer_on_a_rehousing_request(live_server, browser, origins):  # type: ignore[no-untyped-def]
    url = live_server.url
    zone_ref, ok_ref = UNITS["req_zone"][0], UNITS["req_ok"][0]
    referent, landlord = new_page(browser), new_page(browser)
    try:
        # --- The referent posts an anonymised request for her household, from its page. A
        # message that may locate her is refused, named.
        log_in(referent, url, REFERENT)
        household_id = open_household(referent, HOUSEHOLDS["req"])
        assert household_id == origins["req"]
        assert "Active" in referent.get_by_role("heading", level=1).inner_text()
        check_accessibility(referent)
        message = referent.get_by_label("Message pour les bailleurs (facultatif)")
        message.fill("Joignable au 06 12 34 56 78.")
        referent.get_by_role("button", name="Envoyer la demande aux bailleurs").click()
        expect(referent.get_by_role("alert")).to_contain_text("numéro de téléphone")
        referent.get_by_label("Message pour les bailleurs (facultatif)").fill(REQUEST_MESSAGE)
        referent.get_by_role("button", name="Envoyer la demande aux bailleurs").click()
        expect(referent.get_by_text("Demande envoyée")).to_be_visible()
        expect(referent.get_by_text(f"ouverte : « {REQUEST_MESSAGE} »")).to_be_visible()
        check_accessibility(referent)
        with so.Session(live_server.app.extensions["db"].engine) as db:
            posted = db.scalar(sa.select(RehousingRequest)
                               .join(Household, Household.id == RehousingRequest.household_id)
                               .where(Household.public_id == household_id))
            assert posted is not None and posted.departments == ["59"] and posted.status == "open"
            request_id = posted.public_id

        # --- The landlord: the anonymised request, nothing that locates her.
        log_in(landlord, url, LANDLORD)
        landlord.get_by_role("link", name="Demandes", exact=True).click()
        landlord.wait_for_url(re.compile(r"/bailleur/demandes$"))
        check_accessibility(landlord)
        article = landlord.get_by_role("article").filter(has_text=REQUEST_MESSAGE)
        expect(article).to_have_count(1)
        text = article.inner_text()
        assert "Solidarité Femmes Lille" in text
        assert re.search(r"3 personnes : 1 adulte, 2 enfants", text), text
        assert re.search(r"Départements recherchés\s+59\b", text), text
        content = landlord.content()
        for secret in (HOUSEHOLDS["req"], household_id, *EXCLUDED, "zone d'exclusion", "Lille (59350)"):
            assert secret not in content, secret
        for word in ("exclusion", "jamais", "commune"):
            assert word not in text.lower(), word

        # An offer of a unit inside her zone: "not compatible", no rule, no place named.
        article.get_by_label("Logement à proposer").select_option(label=f"{zone_ref} — T3")
        article.get_by_role("button", name="Proposer ce logement").click()
        landlord.wait_for_url(re.compile(r"/bailleur/demandes$"))
        alert = landlord.get_by_role("alert")
        expect(alert).to_have_text("Ce logement n'est pas compatible avec cette demande.")
        content = landlord.content()
        for secret in (*EXCLUDED, "zone d'exclusion", "règle", HOUSEHOLDS["req"], household_id):
            assert secret not in content, secret
        # The request is still open: she may offer another.
        article = landlord.get_by_role("article").filter(has_text=REQUEST_MESSAGE)
        expect(article).to_have_count(1)
        check_accessibility(landlord)

        article.get_by_label("Logement à proposer").select_option(label=f"{ok_ref} — T3")
        article.get_by_role("button", name="Proposer ce logement").click()
        landlord.wait_for_url(re.compile(r"/bailleur/propositions/[^/?#]+$"))
        proposal_id = landlord.url.rsplit("/", 1)[1]
        expect(landlord.get_by_role("status").first).to_contain_text("Offre enregistrée")
        assert "n'a pas encore répondu" in landlord.content()
        assert "Proposition transmise" in timeline_text(landlord)
        check_accessibility(landlord)
        # Answered: the request has left the landlord's list.
        landlord.get_by_role("link", name="Demandes", exact=True).click()
        landlord.wait_for_url(re.compile(r"/bailleur/demandes$"))
        expect(landlord.get_by_role("article").filter(has_text=REQUEST_MESSAGE)).to_have_count(0)

        # --- The referent accepts the proposal for the household.
        referent_accepts(referent, proposal_id, "Lille (59350)")
        check_accessibility(referent)

        # --- The commission accepts; the lease is recorded.
        commission_accepts(landlord, proposal_id, ok_ref)
        dates = record_lease(landlord, "sublet", "Sous-location (par une association)", 30)
        history = timeline_text(landlord)
        for label in ("Proposition transmise", "Le ménage accepte la proposition",
                      "La commission d'attribution retient le ménage", "Bail signé"):
            assert label in history, label
        assert HOUSEHOLDS["req"] not in landlord.content() and EXCLUDED[1] not in landlord.content()
        unit_is_allocated(landlord, ok_ref)
        referent_sees_lease(referent, proposal_id, "Sous-location (par une association)", dates,
                            HOUSEHOLDS["req"])

        the_database_agrees(live_server.app, proposal_id, "request", origins["req_ok"], origins["req"],
                            [("household", "accept"), ("commission", "accept"), ("lease", "accept")], "sublet")
        with so.Session(live_server.app.extensions["db"].engine) as db:
            request = db.scalar(sa.select(RehousingRequest).where(RehousingRequest.public_id == request_id))
            assert request.status == "answered" and request.message == REQUEST_MESSAGE
            # The refusal is kept, with its rule, for the coordinator only.
            rules = db.scalars(sa.select(RefusedOffer.rules).where(RefusedOffer.request_id == request.id)).all()
            assert rules == [["exclusion_zone"]]
            assert db.scalar(sa.select(Unit.status).where(Unit.public_id == origins["req_zone"])) == "published"
    finally:
        referent.context.close()
        landlord.context.close()


def test_direct_match_by_the_coordinator(live_server, browser, origins):  # type: ignore[no-untyped-def]
    url, ok_ref = live_server.url, UNITS["dir_ok"][0]
    coordinator, referent, landlord = new_page(browser), new_page(browser), new_page(browser)
    try:
        # --- The coordinator: a direct match from its page. Without a reason it is refused;
        # with one, it is made.
        log_in(coordinator, url, COORDINATION)
        check_accessibility(coordinator)
        coordinator.get_by_role("link", name="Proposition directe", exact=True).click()
        coordinator.wait_for_url(re.compile(r"/coordination/proposition-directe$"))
        check_accessibility(coordinator)
        coordinator.get_by_label("Ménage").select_option(origins["dir"])
        coordinator.get_by_label("Logement").select_option(origins["dir_ok"])
        coordinator.get_by_role("button", name="Proposer ce logement").click()
        expect(coordinator.get_by_role("alert")).to_contain_text("La proposition n'a pas été faite")
        expect(coordinator.get_by_text("Indiquez la raison de cette proposition directe.")).to_be_visible()
        check_accessibility(coordinator)
        coordinator.get_by_label("Ménage").select_option(origins["dir"])
        coordinator.get_by_label("Logement").select_option(origins["dir_ok"])
        coordinator.get_by_label("Raison de cette proposition directe").fill(DIRECT_REASON)
        coordinator.get_by_role("button", name="Proposer ce logement").click()
        expect(coordinator.get_by_text("envoyée : l'association référente va la présenter")).to_be_visible()
        with so.Session(live_server.app.extensions["db"].engine) as db:
            made = db.scalar(sa.select(Proposal).join(Household, Household.id == Proposal.household_id)
                             .where(Household.public_id == origins["dir"]))
            assert made is not None and (made.origin, made.origin_reason, made.status) == (
                "direct", DIRECT_REASON, "pending")
            proposal_id = made.public_id

        # --- The referent accepts for the household.
        log_in(referent, url, REFERENT)
        referent_accepts(referent, proposal_id, "Lille (59350)")
        check_accessibility(referent)

        # --- The commission accepts; the lease is recorded.
        log_in(landlord, url, LANDLORD)
        commission_accepts(landlord, proposal_id, ok_ref)
        dates = record_lease(landlord, "direct", "Bail direct", 7)
        assert HOUSEHOLDS["dir"] not in landlord.content() and DIRECT_REASON not in landlord.content()
        check_accessibility(landlord)
        unit_is_allocated(landlord, ok_ref)
        referent_sees_lease(referent, proposal_id, "Bail direct", dates, HOUSEHOLDS["dir"])

        # The coordinator saw it as a direct match in the API's answer above: no page of hers
        # shows a proposal made outside a run. Signed, it is recorded as hers, with its reason.
        proposal = the_database_agrees(live_server.app, proposal_id, "direct", origins["dir_ok"], origins["dir"],
                                       [("household", "accept"), ("commission", "accept"), ("lease", "accept")],
                                       "direct")
        assert proposal.origin_reason == DIRECT_REASON
    finally:
        for p in (coordinator, referent, landlord):
            p.context.close()
