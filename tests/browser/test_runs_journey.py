"""The coordinator's run, in a browser: start it, watch the progress bar reach the end,
review, drop one proposal with a reason, release — every page checked for accessibility.

The server has a real job queue (the embedded SQLite queue and a consumer thread, as
`passerelle demo` runs it), so the progress comes from the job, polled by htmx.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from playwright.sync_api import Error as PlaywrightError

import matching
import models
from models import MatchRun, Organisation, Proposal
from services.demo import ACCOUNTS
from tests import factories
from tests.browser.conftest import LiveServer, check_accessibility, demo_app
from tests.conftest import totp_code
from web import jobs as web_jobs

pytestmark = pytest.mark.browser

COORDINATION = next(a for a in ACCOUNTS if a.email == "coordination@passerelle.demo")


@pytest.fixture(scope="module")
def queued_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo, served for real, with jobs taken by an in-process consumer."""
    tmp = tmp_path_factory.mktemp("runs-live")
    with demo_app(database_url, tmp, JOBS_IMMEDIATE=False,
                  JOBS_SQLITE_PATH=str(tmp / "jobs.sqlite")) as app:
        with app.app_context(), so.Session(app.extensions["db"].engine) as db:
            # A unit and two households of our own, besides the demo's.
            landlord = db.scalar(sa.select(Organisation).where(Organisation.name == "Lille Métropole Habitat"))
            association = db.scalar(sa.select(Organisation).where(Organisation.name == "Solidarité Femmes Lille"))
            factories.create_unit(db, landlord=landlord, reference="PARCOURS-RUN-1")
            factories.create_household(db, association=association, reference="PARCOURS-RUN-H1", urgency=3)
            factories.create_household(db, association=association, reference="PARCOURS-RUN-H2", urgency=3,
                                       exclusion_zones=[{"department": "59"}], search_area={"departments": ["59"]})
            db.commit()
        consumer = web_jobs.start_embedded_consumer(app)
        try:
            with LiveServer(app) as server:
                yield server
        finally:
            web_jobs.stop_consumer(consumer)


@pytest.fixture
def slow_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver, slowed down between its progress reports so that a person can watch it."""
    real_solve = matching.solve

    def slow(instance: Any, **kw: Any) -> Any:
        def progress(phase: str, fraction: float) -> None:
            kw["progress"](phase, fraction)
            time.sleep(0.15)
        return real_solve(instance, time_limit_s=kw.get("time_limit_s"), progress=progress)

    monkeypatch.setattr(matching, "solve", slow)


def log_in(page: Any, url: str) -> None:
    page.goto(url + "/connexion")
    page.get_by_label("Adresse e-mail").fill(COORDINATION.email)
    page.get_by_label("Mot de passe").fill(COORDINATION.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/connexion/code$"))
    page.get_by_label("Code à 6 chiffres").fill(totp_code(COORDINATION.totp_secret, COORDINATION.email))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(re.compile(r"/coordination/$"))


def test_start_watch_review_drop_release(queued_server, page, slow_solver):
    url = queued_server.url
    log_in(page, url)
    check_accessibility(page)

    # A new run for the Nord only.
    page.get_by_label("Départements").fill("59")
    page.get_by_role("button", name="Lancer le rapprochement").click()
    page.wait_for_url(re.compile(r"/coordination/rapprochements/R-"))
    assert page.get_by_role("status").first.inner_text() == "Rapprochement lancé."
    bar = page.locator("progress#run-progress-bar")

    # The bar moves without a reload, then the page comes back with the review.
    seen: list[float] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            value = page.evaluate("() => { const p = document.querySelector('#run-progress-bar');"
                                  " return p ? Number(p.value) : null; }")
            if value is not None:
                seen.append(value)
            if page.get_by_role("heading", name="Propositions par logement").count():
                break
            if len(seen) == 3:
                check_accessibility(page)  # the page at work
        except PlaywrightError:
            pass  # the page is reloading: the run is over
        time.sleep(0.1)
    assert any(0 < v < 100 for v in seen), seen
    assert seen == sorted(seen)
    assert bar.get_attribute("value") == "100.0"
    assert "Terminé" in page.locator("#run-phase").inner_text()
    check_accessibility(page)

    run_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    with so.Session(queued_server.app.extensions["db"].engine) as db:
        run = db.scalar(sa.select(MatchRun).where(MatchRun.public_id == run_id))
        assert run.status == "succeeded"
        excluded = db.scalar(sa.select(models.Household.public_id)
                             .where(models.Household.reference == "PARCOURS-RUN-H2"))
    # She must never live in the Nord: she is among the unmatched, for that reason, in words.
    unmatched = page.get_by_role("table", name=re.compile("sans proposition"))
    row = unmatched.get_by_role("row", name=re.compile(excluded))
    assert "zone d'exclusion" in row.inner_text()
    assert "PARCOURS-RUN-H" not in page.content()  # never the association's own reference

    # Drop the first proposal of the first unit, with a reason.
    first_unit = page.get_by_role("article").first
    first_unit.locator("summary", has_text="Écarter").first.click()
    reason = first_unit.get_by_label(re.compile("Motif pour écarter la proposition"))
    reason.first.fill("Trop proche de l'école de l'ancien domicile")
    check_accessibility(page)
    first_unit.get_by_role("button", name="Écarter cette proposition").first.click()
    page.wait_for_load_state()
    assert "Proposition écartée." in page.get_by_role("status").first.inner_text()
    assert "Trop proche de l'école de l'ancien domicile" in page.content()
    check_accessibility(page)

    # Release, after confirming.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Diffuser les propositions").click()
    page.wait_for_load_state()
    assert re.search(r"\d+ propositions? envoyées?\.", page.get_by_role("status").first.inner_text())
    assert page.get_by_role("button", name="Diffuser les propositions").count() == 0
    check_accessibility(page)
    with so.Session(queued_server.app.extensions["db"].engine) as db:
        statuses = set(db.scalars(sa.select(Proposal.status).join(MatchRun).where(MatchRun.public_id == run_id)))
        assert statuses == {"pending", "dropped"}

    # Back home: the run is listed as released.
    page.get_by_role("link", name="← Tous les rapprochements").click()
    assert "Diffusé" in page.get_by_role("table").first.inner_text()
    check_accessibility(page)

    # The territory's rules, the defaults of the next runs.
    page.get_by_role("link", name="Règles du calcul de votre territoire").click()
    assert page.get_by_label("Taux d'effort maximal (%)").input_value() == "30"
    check_accessibility(page)
