"""The landlord commission's worklist: views, order by due date, readable references, the
stalled flag, and the printable commission pack per unit (issues 15 and 21)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from models import Decision
from services import clock
from services.worklists import reference
from tests import factories


def text(response):
    return response.get_data(as_text=True)


def said_yes(db, proposal, days_ago=0):
    proposal.status = "household_accepted"
    db.add(Decision(proposal_id=proposal.id, step="household", outcome="accept",
                    decided_at=clock.utcnow() - dt.timedelta(days=days_ago)))
    db.flush()


@pytest.fixture
def board(db):
    landlord = factories.create_organisation(db, "landlord", name="Habitat Nord")
    association = factories.create_organisation(db, "association", name="Solidarité Test")
    recent = factories.create_unit(db, landlord=landlord, reference="AAA-RECENT")
    old = factories.create_unit(db, landlord=landlord, reference="ZZZ-OLD")
    quiet = factories.create_unit(db, landlord=landlord, reference="MMM-PENDING")
    secret = factories.create_household(db, association=association, reference="DOSSIER-SECRET-9",
                                        notes="Elle vit rue Nationale", exclusion_zones=[{"commune": "59512"}])
    a = factories.create_proposal(db, unit=recent, household=secret)
    b = factories.create_proposal(db, unit=old)
    c = factories.create_proposal(db, unit=quiet)
    said_yes(db, a, days_ago=2)
    said_yes(db, b, days_ago=40)  # past the 30 days a commission is given: stalled
    user = factories.create_user(db, "landlord", organisation=landlord)
    return {"user": user, "recent": recent, "old": old, "quiet": quiet, "a": a, "b": b, "c": c}


def test_awaiting_my_commission_lists_only_those_to_decide_longest_waiting_first(client, login_as, board):
    login_as(board["user"])
    page = text(client.get("/bailleur/propositions?vue=commission"))
    # Only the two units whose candidate said yes, the one waiting for 40 days first.
    assert page.index("ZZZ-OLD") < page.index("AAA-RECENT") and "MMM-PENDING" not in page
    assert re.search(r"À décider par ma commission \(2\)", page) and re.search(r"Toutes \(3\)", page)
    # The stalled one is flagged, with its due date; the recent one is not.
    due_old = (clock.today() - dt.timedelta(days=40) + dt.timedelta(days=30)).strftime("%d/%m/%Y")
    assert f"Décision de la commission attendue au plus tard le {due_old}." in page
    assert page.count("En retard") == 1
    # Every view, the unit waiting longest still comes first; the pending one last.
    everything = text(client.get("/bailleur/propositions"))
    assert everything.index("ZZZ-OLD") < everything.index("AAA-RECENT") < everything.index("MMM-PENDING")


def test_candidates_are_named_by_readable_references_not_opaque_ids(client, login_as, board):
    login_as(board["user"])
    page = text(client.get("/bailleur/propositions"))
    for p in (board["a"], board["b"], board["c"]):
        assert re.fullmatch(r"\d{4}-\d{4,}", reference(p))
        assert f"Candidature {reference(p)}" in page
        # The opaque id is only in links, never read out.
        assert f"Candidature {p.public_id}" not in page and f">{p.public_id}<" not in page


def test_worklist_pages_by_unit(client, login_as, board, db, app):
    app.config["WORKLIST_PAGE_SIZE"] = 2
    login_as(board["user"])
    first = text(client.get("/bailleur/propositions"))
    assert "Page 1 sur 2" in first and "MMM-PENDING" not in first
    second = text(client.get("/bailleur/propositions?page=2"))
    assert "MMM-PENDING" in second and "ZZZ-OLD" not in second


def test_commission_pack_prints_the_anonymised_profiles_of_up_to_three(client, login_as, board, db):
    unit = board["recent"]
    others = [factories.create_proposal(db, unit=unit, run=board["a"].run, rank=n) for n in (2, 3, 4)]
    for p in others:
        said_yes(db, p, days_ago=1)
    pending = factories.create_proposal(db, unit=unit, run=board["a"].run, rank=5)
    login_as(board["user"])
    r = client.get(f"/bailleur/logements/{unit.public_id}/dossier-commission")
    assert r.status_code == 200
    page = text(r)
    assert "Dossier de commission — logement AAA-RECENT" in page
    assert page.count("Candidate ") == 3 and "Candidate 3 sur 3" in page
    assert "Solidarité Test" in page and "Composition" in page
    # The fourth who said yes and the one who has not answered are not in the pack.
    assert f"candidature {reference(others[2])}" not in page and reference(pending) not in page
    for secret in ("DOSSIER-SECRET-9", board["a"].household.public_id, "rue Nationale", "59512"):
        assert secret not in page
    assert 'data-print' in page


def test_commission_pack_of_another_landlords_unit_is_not_found(client, login_as, board, db):
    stranger = factories.create_user(db, "landlord", organisation=factories.create_organisation(db, "landlord"))
    login_as(stranger)
    assert client.get(f"/bailleur/logements/{board['recent'].public_id}/dossier-commission").status_code == 404
