"""The urgent transfer from the household's page and through the API (issue 18)."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from models import Household, Proposal, Transfer
from services import proposals
from tests import factories


@pytest.fixture
def rehoused(db):  # type: ignore[no-untyped-def]
    association = factories.create_organisation(db, "association", departments=["59"])
    referent = factories.create_user(db, "association", organisation=association)
    landlord = factories.create_user(db, "landlord")
    household = factories.create_household(db, association=association, reference="SF-MUT",
                                           exclusion_zones=[{"department": "80"}])
    unit = factories.create_unit(db, landlord=landlord.organisation, commune="59350", department="59")
    lease = factories.create_proposal(db, unit=unit, household=household, status="commission_accepted",
                                      commission_rank=1)
    proposals.decide(db, landlord, lease.public_id, decision="accept", step="lease")
    db.commit()
    return referent, landlord, household, lease


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_the_referent_reopens_her_file_from_her_page(client, db, login_as, rehoused):
    referent, _landlord, household, lease = rehoused
    login_as(referent)
    url = f"/association/menages/{household.public_id}"
    page = text(client.get(url))
    assert "Rouvrir son dossier pour une mutation urgente" in page and "un cercle de 10 km" in page
    # Without the confirmation, nothing changes.
    r = client.post(f"{url}/mutation", data={"reason": "threats"}, follow_redirects=True)
    assert "Cochez la confirmation" in text(r)
    assert db.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 0
    r = client.post(f"{url}/mutation", data={"reason": "", "confirmed": "y"}, follow_redirects=True)
    assert "Choisissez le motif" in text(r)
    r = client.post(f"{url}/mutation", data={"reason": "aggressor_found", "confirmed": "y"}, follow_redirects=True)
    page = text(r)
    assert "Dossier rouvert pour une mutation urgente" in page
    assert "L'agresseur a retrouvé son adresse" in page
    assert "Rouvrir son dossier" not in page  # active again: nothing to transfer from
    db.expire_all()
    h = db.get(Household, household.id)
    assert (h.status, h.urgency) == ("active", 3) and {"commune": "59350"} in h.exclusion_zones
    assert db.get(Proposal, lease.id).status == "transferred"
    # Her zones, the new one included, read on her page in words.
    assert "Lille" in page


def test_another_association_gets_404(client, db, login_as, rehoused):
    _referent, _landlord, household, _lease = rehoused
    login_as("association")
    r = client.post(f"/association/menages/{household.public_id}/mutation",
                    data={"reason": "threats", "confirmed": "y"})
    assert r.status_code == 404
    assert db.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 0


def test_the_api_transfers_and_the_landlord_learns_no_zone(client, db, rehoused):
    referent, landlord, household, lease = rehoused
    token = factories.create_token(db, referent)
    db.commit()
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/households/{household.public_id}/transfer"
    r = client.post(url, json={"reason": "nowhere"}, headers=auth)
    assert r.status_code == 422 and r.json["errors"]["reason"]
    r = client.post(url, json={"reason": "threats", "address": "x"}, headers=auth)
    assert r.status_code == 422 and "address" in r.json["errors"]
    r = client.post(url, json={"reason": "threats"}, headers=auth)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "active" and r.json["urgency"] == 3
    assert {"commune": "59350"} in r.json["exclusion_zones"]
    assert client.post(url, json={"reason": "threats"}, headers=auth).status_code == 409
    # The landlord of the home she leaves reads the lease's status, never her zones.
    landlord_token = factories.create_token(db, landlord)
    db.commit()
    r = client.get(f"/api/v1/proposals/{lease.public_id}", headers={"Authorization": f"Bearer {landlord_token}"})
    assert r.status_code == 200 and r.json["status"] == "transferred"
    body = r.get_data(as_text=True)
    assert not {"exclusion", "radius", "zone", "lat", "urgency"} & set(r.json) | set(r.json.get("profile") or {})
    assert "exclusion" not in body and "radius_km" not in body
