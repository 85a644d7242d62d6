"""Recording the lease through the API: its dates and kind are required and checked, and
the association reads them on her proposal."""

from __future__ import annotations

import datetime as dt

import pytest

from models import Decision
from tests import factories
from tests.web.api.test_proposals_api import Caller

TODAY = dt.date.today()


@pytest.fixture
def retained(client, db):  # type: ignore[no-untyped-def]
    """A proposal the commission retained at rank 1, and both sides' callers."""
    proposal = factories.create_proposal(db, status="commission_accepted", commission_rank=1)
    for step in ("household", "commission"):
        db.add(Decision(proposal_id=proposal.id, step=step, outcome="accept"))
    db.flush()
    landlord = Caller(client, db, factories.create_user(db, "landlord", organisation=proposal.unit.landlord))
    association = Caller(client, db, factories.create_user(db, "association",
                                                           organisation=proposal.household.association))
    return proposal, landlord, association


def test_the_lease_needs_its_dates_and_kind(retained):
    proposal, landlord, _ = retained
    r = landlord.post(f"/proposals/{proposal.public_id}/lease", {})
    assert r.status_code == 422 and set(r.json["errors"]) == {"signed_on", "move_in_on", "kind"}
    r = landlord.post(f"/proposals/{proposal.public_id}/lease",
                      {"signed_on": TODAY.isoformat(), "move_in_on": TODAY.isoformat(), "kind": "verbal"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["kind"]


def test_a_move_in_before_the_signature_or_far_ahead_is_refused(retained, db):
    proposal, landlord, _ = retained
    r = landlord.post(f"/proposals/{proposal.public_id}/lease",
                      {"signed_on": TODAY.isoformat(), "move_in_on": (TODAY - dt.timedelta(days=2)).isoformat(),
                       "kind": "direct"})
    assert r.status_code == 422 and list(r.json["errors"]) == ["move_in_on"]
    far = (TODAY + dt.timedelta(days=400)).isoformat()
    r = landlord.post(f"/proposals/{proposal.public_id}/lease",
                      {"signed_on": far, "move_in_on": far, "kind": "direct"})
    assert r.status_code == 422 and "signed_on" in r.json["errors"]
    db.refresh(proposal)
    assert proposal.status == "commission_accepted"


def test_the_recorded_lease_is_read_by_both_sides(retained, client, db):
    proposal, landlord, association = retained
    move_in = (TODAY + dt.timedelta(days=15)).isoformat()
    r = landlord.post(f"/proposals/{proposal.public_id}/lease",
                      {"signed_on": TODAY.isoformat(), "move_in_on": move_in, "kind": "sliding"})
    assert r.status_code == 200 and r.json["status"] == "leased"
    expected = {"signed_on": TODAY.isoformat(), "move_in_on": move_in, "kind": "sliding"}
    assert r.json["lease"] == expected
    assert association.get(f"/proposals/{proposal.public_id}").json["lease"] == expected
    # Anybody else: the proposal does not exist for her.
    other = Caller(client, db, factories.create_user(db, "landlord"))
    assert other.get(f"/proposals/{proposal.public_id}").status_code == 404
    assert other.post(f"/proposals/{proposal.public_id}/lease", expected).status_code == 404


def test_the_decision_route_takes_the_same_terms(retained):
    proposal, landlord, _ = retained
    body = {"decision": "accept", "step": "lease",
            "lease": {"signed_on": TODAY.isoformat(), "move_in_on": TODAY.isoformat(), "kind": "sublet"}}
    r = landlord.post(f"/proposals/{proposal.public_id}/decision", body)
    assert r.status_code == 200 and r.json["lease"]["kind"] == "sublet"


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    body = spec["paths"]["/api/v1/proposals/{proposal_id}/lease"]["post"]["requestBody"]
    assert body["required"] is True
    assert set(spec["components"]["schemas"]["Lease"]["properties"]) == {"signed_on", "move_in_on", "kind"}
