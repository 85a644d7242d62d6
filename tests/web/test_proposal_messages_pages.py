"""The messages page of a proposal, on both sides: the banner, the thread, the refusals."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def sides(db):  # type: ignore[no-untyped-def]
    proposal = factories.create_proposal(db)
    referent = factories.create_user(db, "association", organisation=proposal.household.association)
    staff = factories.create_user(db, "landlord", organisation=proposal.unit.landlord)
    db.commit()
    return proposal, referent, staff


def test_referent_and_landlord_write_to_each_other(client, login_as, auth, sides):
    proposal, referent, staff = sides
    login_as(referent)
    detail = client.get(f"/association/propositions/{proposal.public_id}").get_data(as_text=True)
    assert f"/association/propositions/{proposal.public_id}/messages" in detail
    page = f"/association/propositions/{proposal.public_id}/messages"
    body = client.get(page).get_data(as_text=True)
    assert "N'écrivez ici ni l'adresse" in body and "Aucun message pour l'instant." in body
    r = client.post(page, data={"body": "Elle vit au 12 rue des Lilas"})
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "ressemble à une adresse" in text and 'aria-invalid="true"' in text
    assert client.post(page, data={"body": ""}).status_code == 422
    r = client.post(page, data={"body": "Elle peut visiter jeudi."}, follow_redirects=True)
    assert "Message envoyé." in r.get_data(as_text=True)
    auth.logout()
    login_as(staff)
    body = client.get(f"/bailleur/propositions/{proposal.public_id}/messages").get_data(as_text=True)
    assert "Elle peut visiter jeudi." in body and "L'association référente" in body
    # The association's name is not given: before she accepts, the landlord does not know it.
    assert proposal.household.association.name not in body


@pytest.mark.parametrize("role", ["landlord", "association"])
def test_another_organisation_gets_404(client, login_as, sides, role):
    proposal, _, _ = sides
    login_as(role)
    base = "/bailleur" if role == "landlord" else "/association"
    assert client.get(f"{base}/propositions/{proposal.public_id}/messages").status_code == 404
    assert client.post(f"{base}/propositions/{proposal.public_id}/messages",
                       data={"body": "Bonjour."}).status_code == 404
