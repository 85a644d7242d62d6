"""GET/POST /api/v1/proposals/{id}/messages: the two organisations only (404 otherwise)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.web.api.test_proposals_api import Caller


@pytest.fixture
def both(client, db):  # type: ignore[no-untyped-def]
    proposal = factories.create_proposal(db)
    association = Caller(client, db, factories.create_user(db, "association",
                                                           organisation=proposal.household.association))
    landlord = Caller(client, db, factories.create_user(db, "landlord", organisation=proposal.unit.landlord))
    return proposal, association, landlord


def test_the_two_sides_exchange(both):
    proposal, association, landlord = both
    path = f"/proposals/{proposal.public_id}/messages"
    r = association.post(path, {"body": "Elle peut visiter jeudi."})
    assert r.status_code == 201 and r.json["side"] == "association" and r.json["mine"] is True
    items = landlord.get(path).json["items"]
    assert [(m["side"], m["mine"], m["body"]) for m in items] == [("association", False, "Elle peut visiter jeudi.")]
    assert set(items[0]) == {"side", "mine", "body", "created_at"}  # no author, no organisation name


def test_an_address_or_a_phone_number_is_refused(both):
    proposal, association, landlord = both
    path = f"/proposals/{proposal.public_id}/messages"
    r = association.post(path, {"body": "Elle est au 3 avenue Foch"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["body"]
    assert landlord.post(path, {"body": "Rappelez-moi au 0320123456"}).status_code == 422
    assert landlord.post(path, {}).status_code == 422
    assert association.get(path).json["items"] == []


@pytest.mark.parametrize("role", ["landlord", "association", "coordinator", "committee"])
def test_anybody_else_gets_404_or_is_refused_by_the_table(both, client, db, role):
    proposal, association, _ = both
    path = f"/proposals/{proposal.public_id}/messages"
    association.post(path, {"body": "Bonjour."})
    outsider = Caller(client, db, factories.create_user(db, role))
    assert outsider.get(path).status_code == 404
    assert outsider.post(path, {"body": "Bonjour."}).status_code == 404


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    operations = spec["paths"]["/api/v1/proposals/{proposal_id}/messages"]
    assert (operations["get"]["operationId"], operations["post"]["operationId"]) == (
        "listProposalMessages", "postProposalMessage")
    assert "201" in operations["post"]["responses"] and "404" in operations["get"]["responses"]
