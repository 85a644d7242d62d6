"""The whole workflow, in three browsers at once (issue 5): a unit goes from published to
allocated through the pages, with every decision recorded in the timeline.

The coordinator starts a run for the Nord and watches it work, finds our unit proposed to
our household in the review, and releases; the referent accepts for the household; the
landlord reads the anonymised profile, records the commission's choice, then the lease;
then each side sees the outcome — every page checked for accessibility.

The server is our own (the demo, a real job queue with an in-process consumer, as
`passerelle demo` runs it), with one published unit of Lille Métropole Habitat and one
active household of Solidarité Femmes Lille made for each other: she looks only in the
unit's commune, at the highest urgency, so the solver must give her that unit at rank 1.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from playwright.sync_api import expect

from models import Decision, MatchRun, Organisation, Proposal, Unit
from services.demo import ACCOUNTS
from tests import factories
from tests.browser.conftest import LiveServer, check_accessibility, demo_app, log_in
from web import jobs as web_jobs

pytestmark = pytest.mark.browser

COORDINATION = next(a for a in ACCOUNTS if a.email == "coordination@passerelle.demo")
REFERENT = next(a for a in ACCOUNTS if a.email == "referente@sf-lille.demo")
LANDLORD = next(a for a in ACCOUNTS if a.email == "bailleur@lmh.demo")

UNIT_REF = "PARCOURS-ENTIER-LOG"
HOUSEHOLD_REF = "PARCOURS-ENTIER-MEN"
COMMUNE = "59009"  # Villeneuve-d'Ascq: where the unit is, and the only place she looks
EXCLUDED = ("59178", "Douai")  # where she must never live: no unit of the demo's landlord is there


@pytest.fixture(scope="module")
def workflow_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo, served for real with a job consumer, plus our unit and our household."""
    tmp = tmp_path_factory.mktemp("whole-workflow")
    with demo_app(database_url, tmp, JOBS_IMMEDIATE=False,
                  JOBS_SQLITE_PATH=str(tmp / "jobs.sqlite")) as app:
        today = dt.date.today()
        with app.app_context(), so.Session(app.extensions["db"].engine) as db:
            landlord = db.scalar(sa.select(Organisation).where(Organisation.name == "Lille Métropole Habitat"))
            association = db.scalar(sa.select(Organisation).where(Organisation.name == "Solidarité Femmes Lille"))
            unit = factories.create_unit(db, landlord=landlord, reference=UNIT_REF, commune=COMMUNE,
                                         department="59", lat=50.63238, lon=3.15298, location_uncertainty_km=4.69,
                                         rooms=3, available_from=today, status="published")
            household = factories.create_household(
                db, association=association, reference=HOUSEHOLD_REF, urgency=3, adults=1, children=2,
                requested_on=today - dt.timedelta(days=200), ready_from=today, consent_recorded_on=today,
                search_area={"communes": [COMMUNE], "departments": []},
                exclusion_zones=[{"commune": EXCLUDED[0]}], status="active")
            db.commit()
            ids = {"unit": unit.public_id, "household": household.public_id}
        consumer = web_jobs.start_embedded_consumer(app)
        try:
            with LiveServer(app) as server:
                yield {"server": server, **ids}
        finally:
            web_jobs.stop_consumer(consumer)


def page_through(page: Any, locator: Any, next_name: re.Pattern[str]) -> None:
    """Follow the list's "next page" links until `locator` is on the page (each page checked)."""
    while True:
        check_accessibility(page)
        if locator.count():
            return
        following = page.get_by_role("link", name=next_name)
        assert following.count(), "not found on any page of the list"
        previous = page.url
        following.first.click()
        page.wait_for_url(lambda url, before=previous: url != before)


def timeline_text(page: Any, heading: str = "Historique") -> str:
    return page.get_by_role("region", name=heading).inner_text()


def test_published_to_allocated(workflow_server, browser):  # type: ignore[no-untyped-def]
    url = workflow_server["server"].url
    app = workflow_server["server"].app
    unit_id, household_id = workflow_server["unit"], workflow_server["household"]
    pages = {}
    for who in ("coordinator", "referent", "landlord"):
        pages[who] = browser.new_context(locale="fr-FR").new_page()
        pages[who].set_default_timeout(15_000)
    coordinator, referent, landlord = pages["coordinator"], pages["referent"], pages["landlord"]
    try:
        log_in(coordinator, url, COORDINATION)
        log_in(referent, url, REFERENT)
        log_in(landlord, url, LANDLORD)

        # --- The coordinator: a run for the Nord, its progress to the end, the review, the release.
        check_accessibility(coordinator)
        coordinator.get_by_label("Départements").fill("59")
        coordinator.get_by_role("button", name="Lancer le rapprochement").click()
        coordinator.wait_for_url(re.compile(r"/coordination/rapprochements/R-[^/?#]+$"))
        assert coordinator.get_by_role("status").first.inner_text() == "Rapprochement lancé."
        check_accessibility(coordinator)
        run_url = coordinator.url
        # htmx polls the progress; once the run is over the page comes back with the review.
        expect(coordinator.locator("progress#run-progress-bar")).to_have_attribute("value", "100.0", timeout=120_000)
        expect(coordinator.get_by_role("heading", name="Propositions par logement")).to_be_visible(timeout=30_000)
        assert "Terminé" in coordinator.locator("#run-phase").inner_text()
        assert coordinator.get_by_role("button", name="Diffuser les propositions").count() == 1

        # Our unit, on whichever page of the review, proposed at rank 1 to our household.
        article = coordinator.locator(f"article#unite-{unit_id}")
        page_through(coordinator, article, re.compile("Page suivante"))
        assert UNIT_REF in article.get_by_role("heading").inner_text()
        first = article.get_by_role("row").filter(has=coordinator.get_by_role("rowheader", name="1", exact=True))
        assert household_id in first.inner_text()
        assert "Solidarité Femmes Lille" in first.inner_text()
        assert HOUSEHOLD_REF not in coordinator.content()  # never the association's own reference
        # Back to the first page of the review, where the release button is.
        if coordinator.url != run_url:
            coordinator.goto(run_url)
        coordinator.once("dialog", lambda dialog: dialog.accept())
        coordinator.get_by_role("button", name="Diffuser les propositions").click()
        expect(coordinator.get_by_role("status").first).to_contain_text(re.compile(r"\d+ propositions? envoyées?\."))
        assert coordinator.get_by_role("button", name="Diffuser les propositions").count() == 0
        check_accessibility(coordinator)
        coordinator.get_by_role("link", name="← Tous les rapprochements").click()
        coordinator.wait_for_url(re.compile(r"/coordination/$"))
        assert "Diffusé" in coordinator.get_by_role("table").first.inner_text()
        check_accessibility(coordinator)

        # --- The referent: her proposals, the one for our unit, accepted for the household.
        referent.get_by_role("link", name="Propositions", exact=True).click()
        referent.wait_for_url(re.compile(r"/association/propositions$"))
        row = referent.get_by_role("row").filter(has_text=HOUSEHOLD_REF)
        page_through(referent, row, re.compile("Page suivante"))
        assert "Villeneuve-d'Ascq" in row.inner_text()
        assert "En attente de la réponse du ménage" in row.inner_text()
        link = row.get_by_role("link")
        proposal_id = link.inner_text().strip()
        link.click()
        referent.wait_for_url(re.compile(rf"/association/propositions/{proposal_id}$"))
        assert "Villeneuve-d'Ascq (59009)" in referent.get_by_role("region", name="Le logement").inner_text()
        assert "Proposition transmise" in timeline_text(referent)
        check_accessibility(referent)
        referent.get_by_role("button", name="Accepter la proposition").click()
        expect(referent.get_by_role("status").first).to_contain_text("le ménage accepte")
        assert "Le ménage accepte la proposition" in timeline_text(referent)
        check_accessibility(referent)

        # --- The landlord: the board, the anonymised profile, the commission's choice, the lease.
        landlord.get_by_role("link", name="Propositions", exact=True).click()
        landlord.wait_for_url(re.compile(r"/bailleur/propositions$"))
        # The landlord reads a readable reference, not the opaque id: her card is the one whose
        # forms act on this proposal.
        card = landlord.get_by_role("article").filter(has=landlord.locator(f'form[action*="/{proposal_id}/"]'))
        page_through(landlord, card, re.compile("Page suivante"))
        section = landlord.get_by_role("region", name=re.compile(UNIT_REF))
        assert "Villeneuve-d'Ascq" in section.get_by_role("heading").first.inner_text()
        profile = card.inner_text()
        assert "Acceptée par le ménage, en attente de la commission" in profile
        assert re.search(r"3 personnes : 1 adulte, 2 enfants", profile), profile
        assert "Solidarité Femmes Lille" in profile
        # Nothing that identifies her, nothing that says where she must not live.
        content = landlord.content()
        assert HOUSEHOLD_REF not in content and household_id not in content
        for word in (*EXCLUDED, "exclusion", "jamais"):
            assert word not in profile, word
        assert EXCLUDED[1] not in content and "zone d'exclusion" not in content
        card.get_by_label("Rang donné par la commission").select_option("1")
        card.get_by_role("button", name="Retenir ce ménage").click()
        landlord.wait_for_url(re.compile(rf"/bailleur/propositions/{proposal_id}$"))
        expect(landlord.get_by_role("status").first).to_contain_text("le ménage est retenu")
        assert "La commission d'attribution retient le ménage" in timeline_text(landlord)
        check_accessibility(landlord)
        # The dates start at today; the kind of lease is the landlord's to say.
        landlord.get_by_label("Type de bail").select_option("direct")
        landlord.get_by_role("button", name="Le bail est signé").click()
        expect(landlord.get_by_role("status").first).to_contain_text("le logement est attribué")
        history = timeline_text(landlord)
        for label in ("Proposition transmise", "Le ménage accepte la proposition",
                      "La commission d'attribution retient le ménage", "Bail signé"):
            assert label in history, label
        assert HOUSEHOLD_REF not in landlord.content() and EXCLUDED[1] not in landlord.content()
        check_accessibility(landlord)

        # The landlord's units: ours is allocated, in the list and on its page.
        landlord.get_by_role("link", name="Mes logements").click()
        landlord.wait_for_url(re.compile(r"/bailleur/$"))
        recent = landlord.get_by_role("region", name="Derniers logements enregistrés")
        assert re.search(rf"{UNIT_REF}\s+— T3 —\s+Attribué", recent.inner_text()), recent.inner_text()
        check_accessibility(landlord)
        landlord.get_by_role("button", name="Voir tous mes logements").click()  # a link styled as a button
        landlord.wait_for_url(re.compile(r"/bailleur/logements$"))
        unit_row = landlord.get_by_role("row").filter(has=landlord.get_by_role("link", name=UNIT_REF, exact=True))
        page_through(landlord, unit_row, re.compile("Page suivante"))
        assert "Attribué" in unit_row.inner_text()
        unit_row.get_by_role("link", name=UNIT_REF).click()
        landlord.wait_for_url(re.compile(rf"/bailleur/logements/{unit_id}$"))
        assert "Attribué" in landlord.get_by_role("heading", level=1).inner_text()
        assert "Ce logement est attribué." in landlord.content()
        check_accessibility(landlord)

        # --- The referent again: the proposal's page and the household's page tell it all.
        referent.reload()
        history = timeline_text(referent)
        steps = ["Proposition transmise", "Le ménage accepte la proposition",
                 "La commission d'attribution retient le ménage", "Bail signé"]
        positions = [history.find(label) for label in steps]
        assert -1 not in positions and positions == sorted(positions), history
        decisions = referent.get_by_role("region", name="Décisions").inner_text()
        assert "Ménage : accord" in decisions and "Commission d'attribution : accord" in decisions
        assert "Bail : accord" in decisions
        assert "Bail signé" in referent.get_by_role("paragraph").filter(has_text="Pour le ménage").inner_text()
        check_accessibility(referent)

        referent.get_by_role("link", name="Ménages accompagnés").click()
        referent.wait_for_url(re.compile(r"/association/$"))
        check_accessibility(referent)
        referent.get_by_label("Référence").fill(HOUSEHOLD_REF)
        referent.get_by_role("button", name="Filtrer").click()
        referent.wait_for_url(re.compile(r"/association/\?.*reference="))
        household_row = referent.get_by_role("row").filter(has_text=HOUSEHOLD_REF)
        expect(household_row).to_have_count(1)
        assert "Relogée" in household_row.inner_text()
        check_accessibility(referent)
        household_row.get_by_role("link", name=HOUSEHOLD_REF).click()
        referent.wait_for_url(re.compile(rf"/association/menages/{household_id}$"))
        assert "Relogée" in referent.get_by_role("heading", level=1).inner_text()
        history = timeline_text(referent)
        for label in steps:
            assert label in history, label
        assert proposal_id in history
        check_accessibility(referent)

        # The database agrees with the pages.
        with so.Session(app.extensions["db"].engine) as db:
            proposal = db.scalar(sa.select(Proposal).where(Proposal.public_id == proposal_id))
            assert proposal.status == "leased" and proposal.commission_rank == 1
            assert proposal.unit.public_id == unit_id and proposal.household.public_id == household_id
            assert db.scalar(sa.select(Unit.status).where(Unit.public_id == unit_id)) == "allocated"
            assert proposal.household.status == "housed"
            run = db.scalar(sa.select(MatchRun).where(MatchRun.id == proposal.run_id))
            assert run.status == "released" and run.departments == ["59"]
            steps_taken = db.execute(sa.select(Decision.step, Decision.outcome)
                                     .where(Decision.proposal_id == proposal.id).order_by(Decision.id)).all()
            assert [tuple(s) for s in steps_taken] == [("household", "accept"), ("commission", "accept"),
                                                       ("lease", "accept")]
    finally:
        for p in pages.values():
            p.context.close()
