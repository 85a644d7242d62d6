"""The committee's pages: the quarter, charts with tables, exports, needs, what-if, notes; aggregates only."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from models import AuditEvent, FollowUpAction, ReviewNote, SnapshotSolve, crypto
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import build_quarter_world

SMALL = {"1", "2", "3", "4"}


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


@pytest.fixture
def member(db, login_as):
    committee = factories.create_organisation(db, "committee", departments=["59", "62"])
    return login_as("committee", organisation=committee)


def count_cells(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<td class="num" data-kind="count" data-status="(\w+)">([^<]*)</td>', html)


def test_dashboard_shows_the_quarter_with_small_counts_hidden(client, db, member):
    build_quarter_world(db)
    db.commit()
    response = client.get("/comite/?quarter=2026-Q4&departments=59,62")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "T4 2026 — départements 59, 62" in html
    cells = count_cells(html)
    assert len(cells) > 100
    assert ("masked", "(s)") in cells  # a selection's hidden counts all read "(s)" (see test_differencing)
    assert not [text for _s, text in cells if text in SMALL]
    alone = count_cells(client.get("/comite/?quarter=2026-Q4&departments=62").get_data(as_text=True))
    assert ("small", "&lt; 5") in alone and not [text for _s, text in alone if text in SMALL]
    # Each chart is served by a route, with a text alternative and its table.
    for name in ("flow", "delays", "refusals", "map_waiting", "map_housed"):
        assert f"/comite/graphiques/{name}.svg?quarter=2026-Q4&amp;departments=59,62" in html
    assert html.count('<img src="/comite/graphiques/') == 5
    assert html.count('alt="') >= 5
    assert "Demandes déposées (ménages activés)</th><td" in html.replace("\n", "").replace("  ", "")


def test_empty_quarter_and_default_selection(client, member):
    response = client.get("/comite/")
    assert response.status_code == 200
    assert "départements 59, 62" in response.get_data(as_text=True)


def test_departments_outside_the_committee_are_refused(client, member):
    response = client.get("/comite/?quarter=2026-Q4&departments=75")
    assert response.status_code == 200  # falls back to the committee's departments, with a message
    html = response.get_data(as_text=True)
    assert "Hors du périmètre de votre organisation : 75." in html
    assert client.get("/comite/graphiques/flow.svg?quarter=2026-Q4&departments=75").status_code == 422


def test_chart_route_serves_svg_never_cached(client, db, member):
    build_quarter_world(db)
    db.commit()
    response = client.get("/comite/graphiques/map_waiting.svg?quarter=2026-Q4&departments=59,62")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    assert b"&lt; 5" in response.data
    assert client.get("/comite/graphiques/nope.svg").status_code == 404


def test_exports_download(client, db, member):
    build_quarter_world(db)
    db.commit()
    csv_response = client.get("/comite/rapport.csv?quarter=2026-Q4&departments=59,62")
    assert csv_response.status_code == 200
    assert csv_response.data.startswith(b"\xef\xbb\xbf")
    assert 'filename="comite-2026-Q4-59-62.csv"' in csv_response.headers["Content-Disposition"]
    for line in csv_response.data.decode("utf-8-sig").splitlines()[1:]:
        assert line.rsplit(";", 1)[1] not in SMALL, line
    xlsx = client.get("/comite/rapport.xlsx?quarter=2026-Q4&departments=59,62")
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert "Le trimestre en chiffres" in wb.sheetnames
    assert client.get("/comite/rapport.doc?quarter=2026-Q4").status_code == 404


def test_notes_actions_and_flags_carry_over_to_the_next_quarter(client, db, member):
    landlord = factories.create_organisation(db, "landlord", name="Bailleur Signalé")
    db.commit()
    response = client.post("/comite/notes", data={"quarter": "2026-Q4", "departments": "59,62",
                                                  "text": "Beaucoup de refus pour trop cher",
                                                  "organisation": str(landlord.id)})
    assert response.status_code == 302
    client.post("/comite/actions", data={"quarter": "2026-Q4", "departments": "59,62",
                                         "text": "Proposer plus de T4 sous 550 €", "owner": str(landlord.id),
                                         "due_on": "2027-02-15"})
    db.expire_all()
    note = db.scalar(sa.select(ReviewNote))
    assert note.flagged_organisation_id == landlord.id and note.quarter == "2026-Q4"
    action = db.scalar(sa.select(FollowUpAction))
    assert action.status == "open"
    html = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    assert "Chiffres à discuter : Bailleur Signalé" in html
    assert "jamais sur un ménage" in html  # the forms' help
    # The next quarter lists the open action; the PDF's HTML too (checked in test_reports).
    html = client.get("/comite/?quarter=2027-Q1&departments=59,62").get_data(as_text=True)
    carried = html.split("Actions encore ouvertes des trimestres précédents")[1].split("Actions décidées")[0]
    assert "Proposer plus de T4 sous 550 €" in carried
    client.post(f"/comite/actions/{action.id}/statut", data={"status": "done", "quarter": "2027-Q1"})
    html = client.get("/comite/?quarter=2027-Q1&departments=59,62").get_data(as_text=True)
    carried = html.split("Actions encore ouvertes des trimestres précédents")[1].split("Actions décidées")[0]
    assert "Proposer plus de T4" not in carried


def test_empty_note_is_refused(client, db, member):
    client.post("/comite/notes", data={"quarter": "2026-Q4", "departments": "59,62", "text": "  "})
    assert db.scalar(sa.select(sa.func.count()).select_from(ReviewNote)) == 0


def test_needs_and_simulation_pages(client, db, member):
    build_quarter_world(db)
    db.commit()
    # The solve runs in a worker (here at once, after the commit): the page follows it.
    html = client.get("/comite/besoins?departments=59,62", follow_redirects=True).get_data(as_text=True)
    assert "Ménages sans proposition, par taille et règle bloquante" in html
    assert "Calculé le" in html
    assert not [t for _s, t in count_cells(html) if t in SMALL]
    form = client.get("/comite/simulation?departments=59,62").get_data(as_text=True)
    assert 'value="30"' in form
    response = client.post("/comite/simulation", data={"departments": "59,62", "max_effort_rate": "35",
                                                       "horizon_days": "90", "candidates_per_unit": "3"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Effet de la politique simulée" in html
    assert 'value="35"' in html  # the form shows the policy this answer simulated
    assert not [t for _s, t in count_cells(html) if t in SMALL]
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == "committee.whatif")) == 1
    bad = client.post("/comite/simulation", data={"departments": "59,62", "max_effort_rate": "90",
                                                  "horizon_days": "90", "candidates_per_unit": "3"})
    assert "Entre 5 et 60 %." in bad.get_data(as_text=True)


def test_the_same_question_is_solved_once_and_recomputed_on_demand(client, db, member):
    build_quarter_world(db)
    db.commit()
    first = client.get("/comite/besoins?departments=59,62")
    assert first.status_code == 303 and "calcul=" in first.headers["Location"]
    again = client.get("/comite/besoins?departments=59,62")
    assert again.status_code == 200 and "Calculé le" in again.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(SnapshotSolve)) == 1
    recompute = client.post("/comite/besoins", data={"departments": "59,62"})
    assert recompute.status_code == 303
    assert db.scalar(sa.select(sa.func.count()).select_from(SnapshotSolve)) == 2
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                     .where(AuditEvent.action == "committee.needs")) == 3


def test_a_solve_of_other_departments_answers_404(client, db, member):
    other = SnapshotSolve(kind="needs", key="x" * 64, departments="13", params={}, locale="fr", status="queued")
    db.add(other)
    db.commit()
    assert client.get(f"/comite/besoins?calcul={other.id}").status_code == 404
    assert client.get(f"/comite/calculs/{other.id}/etat").status_code == 404
    assert client.get(f"/comite/simulation?calcul={other.id}").status_code == 404


def test_a_waiting_solve_is_polled_and_the_page_reloads_when_it_is_done(client, db, member):
    solve = SnapshotSolve(kind="needs", key="y" * 64, departments="59,62", params={}, locale="fr", status="running")
    db.add(solve)
    db.commit()
    page = client.get(f"/comite/besoins?calcul={solve.id}").get_data(as_text=True)
    assert "Calcul en cours" in page and f"/comite/calculs/{solve.id}/etat" in page
    poll = client.get(f"/comite/calculs/{solve.id}/etat", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in poll.headers
    solve.status, solve.result = "failed", None
    db.commit()
    poll = client.get(f"/comite/calculs/{solve.id}/etat", headers={"HX-Request": "true"})
    assert poll.headers.get("HX-Refresh") == "true"
    assert "Le calcul n'a pas abouti" in poll.get_data(as_text=True)


@pytest.mark.parametrize("role", ["landlord", "association", "coordinator"])
def test_other_roles_do_not_see_committee_pages(client, login_as, role):
    login_as(role)
    for path in ("/comite/", "/comite/rapport.pdf", "/comite/besoins", "/comite/graphiques/flow.svg"):
        assert client.get(path).status_code == 404


@pytest.mark.parametrize("app_config", [{"JOBS_IMMEDIATE": False}])
def test_the_page_never_solves_in_the_request(client, db, member, app_config, monkeypatch):
    from services import whatif

    build_quarter_world(db)
    db.commit()
    monkeypatch.setattr(whatif, "unmet_needs", lambda *a, **k: pytest.fail("solved in the web request"))
    page = client.get("/comite/besoins?departments=59,62", follow_redirects=True).get_data(as_text=True)
    assert "Calcul en attente" in page
    solve = db.scalars(sa.select(SnapshotSolve)).one()
    assert solve.status == "queued"


def test_the_pdf_in_english_leaves_her_pages_in_french_and_is_a_file_of_its_own(client, db, member):
    """The committee page's "PDF in English": an English report, her interface unchanged."""
    from pypdf import PdfReader

    build_quarter_world(db)
    db.commit()
    page = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)" download hreflang="en" lang="en">PDF in English</a>', page)
    assert link, "the committee page offers the English PDF"
    english = client.get(link.group(1).replace("&amp;", "&"))
    assert english.status_code == 200 and english.mimetype == "application/pdf"
    french = client.get("/comite/rapport.pdf?quarter=2026-Q4&departments=59,62")
    names = [r.headers["Content-Disposition"] for r in (english, french)]
    assert names == ['attachment; filename="comite-2026-Q4-59-62-en.pdf"',
                     'attachment; filename="comite-2026-Q4-59-62.pdf"']
    first_page = PdfReader(io.BytesIO(english.data)).pages[0].extract_text()
    assert "Passerelle — monitoring committee" in first_page and "comité de suivi" not in first_page
    assert "Passerelle — comité de suivi" in PdfReader(io.BytesIO(french.data)).pages[0].extract_text()
    # Her own pages stay in French.
    again = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    assert '<html lang="fr"' in again and "Comité de suivi" in again


def test_the_quarter_page_opens_with_the_commitments_of_its_conventions(client, db, member):
    import datetime as dt
    import html as html_lib

    from services import conventions
    from tests.services.test_snapshots import _commitment_world

    _world, _parts, convention = _commitment_world(db)
    elsewhere = factories.create_user(db, role="coordinator",
                                      organisation=factories.create_organisation(db, "coordinator",
                                                                                 departments=["75"]))
    conventions.create_convention(db, user=elsewhere, title="Paris Habitat ESPEREM", parties="FNSF", funders="",
                                  departments="75", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2028, 1, 1))
    db.commit()
    page = html_lib.unescape(client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True))
    commitments = page.index('id="h-commitments"')
    # Before the charts and every other figure of the quarter.
    assert commitments < page.index('data-table="headline"') and commitments < page.index('class="chart-section"')
    assert commitments < page.index('data-table="commitments-units_posted-landlord"') < page.index(
        'data-table="headline"')
    assert page.index(f'id="convention-{convention.id}"') > commitments
    assert "Pass'Logement Nord 2026" in page and "Paris Habitat ESPEREM" not in page
    section = page[commitments:page.index('data-table="headline"')]
    assert 'data-status="shown">6<' in section and 'data-status="shown">20<' in section
    # Only the selected departments' conventions: the 62 alone has none.
    alone = html_lib.unescape(client.get("/comite/?quarter=2026-Q4&departments=62").get_data(as_text=True))
    assert "Pass'Logement Nord 2026" not in alone and "Aucune convention sur le territoire du comité." in alone
    # The page of commitments still works.
    assert "Pass'Logement Nord 2026" in html_lib.unescape(
        client.get("/comite/conventions?quarter=2026-Q4").get_data(as_text=True))


def test_the_page_reads_one_woman_rehoused_per_violence_household(client, db, member):
    _world, parts = build_quarter_world(db)
    for h in parts["q3"]:
        h.adults = 2  # a second adult in each of five of the six rehoused households
    db.commit()
    page = client.get("/comite/?quarter=2026-Q4&departments=59,62").get_data(as_text=True)
    row = re.search(r"<th scope=\"row\">Femmes relogées</th>(.*?)</tr>", page, re.S)
    assert row is not None
    assert re.findall(r'data-status="\w+">([^<]*)</td>', row.group(1)) == ["6", "0", "6"]
