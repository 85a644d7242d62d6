"""A household's page tells her referent what happened to her proposals, and when."""

from __future__ import annotations

from services import proposals
from tests import factories


def test_household_page_shows_the_decisions_on_her_proposals(client, db, login_as):
    referent = login_as("association")
    household = factories.create_household(db, association=referent.organisation)
    proposal = factories.create_proposal(db, household=household)
    proposals.decide(db, referent, proposal.public_id, decision="decline", reason="too_small")
    db.commit()
    page = client.get(f"/association/menages/{household.public_id}").get_data(as_text=True)
    assert "Historique" in page
    assert proposal.public_id in page
    assert "trop petit" in page.lower()
