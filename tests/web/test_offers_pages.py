"""The association's offer board page: the verdict for her household in words, and the
candidacy from the page."""

from __future__ import annotations

import sqlalchemy as sa

from models import Proposal
from tests import factories
from tests.web.api.test_offers_api import IN_ZONE


def test_the_board_says_in_words_why_a_unit_does_not_suit_her_and_puts_her_forward(client, login_as, db):
    association = factories.create_organisation(db, "association", departments=["59"])
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    safe = factories.create_unit(db, landlord=landlord)
    unsafe = factories.create_unit(db, landlord=landlord, **IN_ZONE)
    household = factories.create_household(db, association=association)
    login_as("association", organisation=association)
    page = client.get(f"/association/offres?menage={household.public_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ne convient pas : zone d&#39;exclusion" in html or "Ne convient pas : zone d'exclusion" in html
    assert html.count("Proposer sa candidature") == 1
    assert safe.reference not in html and unsafe.reference not in html
    refused = client.post(f"/association/offres/{unsafe.public_id}/candidature?menage={household.public_id}")
    assert refused.status_code == 303
    assert db.scalars(sa.select(Proposal)).all() == []
    done = client.post(f"/association/offres/{safe.public_id}/candidature?menage={household.public_id}")
    assert done.status_code == 303
    proposal = db.scalar(sa.select(Proposal))
    assert proposal.origin == "candidacy" and proposal.unit_id == safe.id
    assert done.headers["Location"].endswith(f"/association/propositions/{proposal.public_id}")


def test_the_coordinator_sees_the_refused_offers_with_the_rules(client, login_as, db):
    from services import offers

    association = factories.create_organisation(db, "association", departments=["59"])
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    unsafe = factories.create_unit(db, landlord=landlord, **IN_ZONE)
    household = factories.create_household(db, association=association)
    referent = factories.create_user(db, "association", organisation=association)
    request = offers.post_request(db, referent, household_id=household.public_id)
    with __import__("pytest").raises(offers.RefusedOfferError):
        offers.offer_on_request(db, factories.create_user(db, "landlord", organisation=landlord),
                                request_id=request.public_id, unit_id=unsafe.public_id)
    login_as("coordinator", organisation=factories.create_organisation(db, "coordinator", departments=["59"]))
    html = client.get("/coordination/offres-refusees").get_data(as_text=True)
    assert request.public_id in html and landlord.name in html
    assert "zone d&#39;exclusion" in html or "zone d'exclusion" in html
