"""The landlord's rehousing-requests page: the anonymised requests of her departments, and an
offer of one of her units — refused as "not compatible", naming no rule, when unsafe."""

from __future__ import annotations

import sqlalchemy as sa

from models import Proposal, RefusedOffer
from services import offers
from tests import factories
from tests.web.api.test_offers_api import IN_ZONE


def text(response):
    return response.get_data(as_text=True)


def test_landlord_reads_requests_and_offers_a_unit_from_the_page(client, login_as, db):
    association = factories.create_organisation(db, "association", departments=["59"], name="Asso Nord")
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    unsafe = factories.create_unit(db, landlord=landlord, reference="DANS-LA-ZONE", **IN_ZONE)
    safe = factories.create_unit(db, landlord=landlord, reference="BIEN-LOIN")
    household = factories.create_household(db, association=association, reference="DOSSIER-SECRET-3",
                                           notes="rue Nationale")
    referent = factories.create_user(db, "association", organisation=association)
    request = offers.post_request(db, referent, household_id=household.public_id, message="Deux enfants, école")
    user = factories.create_user(db, "landlord", organisation=landlord)
    db.commit()
    login_as(user)
    page = text(client.get("/bailleur/demandes"))
    assert "Asso Nord" in page and "Deux enfants, école" in page and "3 personnes" in page
    for secret in ("DOSSIER-SECRET-3", household.public_id, "rue Nationale", "50.7236"):
        assert secret not in page
    assert "DANS-LA-ZONE" in page and "BIEN-LOIN" in page  # her published units, to choose from
    prefix = request.public_id
    # The unsafe unit: "not compatible", and nothing about why.
    r = client.post(f"/bailleur/demandes/{request.public_id}/offrir",
                    data={f"{prefix}-unit": unsafe.public_id}, follow_redirects=True)
    body = text(r)
    assert "Ce logement n&#39;est pas compatible avec cette demande." in body
    for word in ("zone", "exclusion", "km", "distance", "règle"):
        assert word not in body.split("Ce logement n&#39;est pas compatible")[1].split("</p>")[0]
    # The refusal is kept for the coordinator.
    assert db.scalar(sa.select(sa.func.count()).select_from(RefusedOffer)) == 1
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    # The safe one becomes a proposal of origin "request", which she follows on her worklist.
    r = client.post(f"/bailleur/demandes/{request.public_id}/offrir", data={f"{prefix}-unit": safe.public_id})
    assert r.status_code == 303
    proposal = db.scalar(sa.select(Proposal))
    assert proposal.origin == "request" and proposal.unit_id == safe.id
    assert r.headers["Location"].endswith(f"/bailleur/propositions/{proposal.public_id}")
    # The request is answered: no longer listed.
    assert "Aucune demande ouverte" in text(client.get("/bailleur/demandes"))


def test_an_offer_without_a_unit_is_refused_on_the_form(client, login_as, db):
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    factories.create_unit(db, landlord=landlord)
    association = factories.create_organisation(db, "association", departments=["59"])
    request = offers.post_request(db, factories.create_user(db, "association", organisation=association),
                                  household_id=factories.create_household(db, association=association).public_id)
    login_as(factories.create_user(db, "landlord", organisation=landlord))
    r = client.post(f"/bailleur/demandes/{request.public_id}/offrir", data={f"{request.public_id}-unit": ""},
                    follow_redirects=True)
    assert "Choisissez un logement à proposer." in text(r)
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_an_offer_works_whatever_the_request_id_ends_with(client, login_as, db):
    """A public id ends in "-" or "_" one time in 32: the form's field name must not change."""
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    safe = factories.create_unit(db, landlord=landlord, reference="BIEN-LOIN")
    association = factories.create_organisation(db, "association", departments=["59"])
    request = offers.post_request(db, factories.create_user(db, "association", organisation=association),
                                  household_id=factories.create_household(db, association=association).public_id)
    request.public_id = request.public_id[:-1] + "_"
    db.commit()
    login_as(factories.create_user(db, "landlord", organisation=landlord))
    page = text(client.get("/bailleur/demandes"))
    assert f'name="{request.public_id}-unit"' in page  # the name the page's form sends
    r = client.post(f"/bailleur/demandes/{request.public_id}/offrir",
                    data={f"{request.public_id}-unit": safe.public_id})
    assert r.status_code == 303 and "/bailleur/propositions/" in r.headers["Location"]
    assert db.scalar(sa.select(Proposal)).unit_id == safe.id
