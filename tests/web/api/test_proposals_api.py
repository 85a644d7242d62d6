"""The proposals API: each side reads its own, decides in turn, and gets 404/409/422 otherwise."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from models import OutboxEmail
from services import profiles
from tests import factories

# The lease's terms as the landlord records them (the day of the test, a direct lease).
LEASE = {"signed_on": dt.date.today().isoformat(), "move_in_on": dt.date.today().isoformat(), "kind": "direct"}


class Caller:
    """The test client speaking for one user with a bearer token."""

    def __init__(self, client, db, user):  # type: ignore[no-untyped-def]
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {factories.create_token(db, user)}"}
        db.commit()

    def get(self, path):  # type: ignore[no-untyped-def]
        return self.client.get("/api/v1" + path, headers=self.headers)

    def post(self, path, body=None):  # type: ignore[no-untyped-def]
        return self.client.post("/api/v1" + path, headers=self.headers, json=body)

    def decide(self, proposal, **body):  # type: ignore[no-untyped-def]
        return self.post(f"/proposals/{proposal.public_id}/decision", body)


@pytest.fixture
def setup(client, db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association", contact_phone="01 23 45 67 89")
    unit = factories.create_unit(db, landlord=landlord)
    household = factories.create_household(db, association=association, notes="secret note")
    proposal = factories.create_proposal(db, unit=unit, household=household)
    review = factories.create_proposal(db, unit=unit, run=factories.create_run(db, status="succeeded"),
                                       status="review", rank=2)

    class S:
        pass

    s = S()
    s.unit, s.household, s.proposal, s.review = unit, household, proposal, review
    s.association = Caller(client, db, factories.create_user(db, "association", organisation=association))
    s.landlord = Caller(client, db, factories.create_user(db, "landlord", organisation=landlord))
    s.caller = lambda role: Caller(client, db, factories.create_user(db, role))
    return s


def test_the_association_reads_the_unit_and_nothing_of_the_landlord_s_internals(setup):
    r = setup.association.get("/proposals")
    assert r.status_code == 200
    assert r.json["total"] == 1
    item = r.json["items"][0]
    assert item["id"] == setup.proposal.public_id
    assert item["household"] == {"id": setup.household.public_id, "reference": setup.household.reference}
    assert set(item["unit"]) == set(profiles.UNIT_FIELDS)
    assert item["unit"]["commune_name"] == "Lille" and item["unit"]["typology"] == "T3"
    assert item["unit"]["rent"] == 412.5 and item["unit"]["rent_burden_percent"] == 17
    assert setup.unit.reference not in json.dumps(item) and "lat" not in item["unit"]
    assert setup.association.get(f"/proposals/{setup.proposal.public_id}").json == item


def test_the_landlord_sees_no_profile_until_the_household_accepts(setup):
    before = setup.landlord.get(f"/proposals/{setup.proposal.public_id}").json
    assert before["profile"] is None
    assert before["unit"] == {"id": setup.unit.public_id, "reference": setup.unit.reference}
    assert setup.association.decide(setup.proposal, decision="accept").status_code == 200
    after = setup.landlord.get(f"/proposals/{setup.proposal.public_id}").json
    assert set(after["profile"]) == set(profiles.PROFILE_FIELDS)
    assert after["profile"]["income_band"] == "1\u00a0000–1\u00a0499\u00a0€/mois"
    assert after["profile"]["association_phone"] == "01 23 45 67 89"
    text = json.dumps(after, ensure_ascii=False)
    for secret in (setup.household.public_id, setup.household.reference, "secret note", "1380",
                   "exclusion", "search_area", "requested_on", "urgency", "50.7236"):
        assert secret not in text
    assert set(after) == {"id", "status", "origin", "rank", "commission_rank", "deadline", "decisions", "unit",
                          "profile", "lease"}


def test_unreleased_proposals_do_not_exist(setup):
    for caller in (setup.association, setup.landlord):
        assert caller.get(f"/proposals/{setup.review.public_id}").status_code == 404
        assert setup.review.public_id not in json.dumps(caller.get("/proposals").json)


@pytest.mark.parametrize("role", ["association", "landlord"])
def test_another_organisation_gets_404(setup, role):
    stranger = setup.caller(role)
    assert stranger.get(f"/proposals/{setup.proposal.public_id}").status_code == 404
    assert stranger.decide(setup.proposal, decision="accept").status_code == 404
    assert stranger.get("/proposals").json["total"] == 0


@pytest.mark.parametrize("role", ["coordinator", "committee", "admin"])
def test_other_roles_get_404(setup, role):
    other = setup.caller(role)
    assert other.get("/proposals").status_code == 404
    assert other.decide(setup.proposal, decision="accept").status_code == 404


def test_anonymous_gets_401(client, setup):
    assert client.get("/api/v1/proposals").status_code == 401


def test_declining_needs_a_known_reason(setup):
    r = setup.association.decide(setup.proposal, decision="decline")
    assert r.status_code == 422 and list(r.json["errors"]) == ["reason"]
    r = setup.association.decide(setup.proposal, decision="decline", reason="nope")
    assert r.status_code == 422 and list(r.json["errors"]) == ["reason"]
    r = setup.association.decide(setup.proposal, decision="perhaps")
    assert r.status_code == 422 and list(r.json["errors"]) == ["decision"]
    r = setup.association.decide(setup.proposal, decision="accept", colour="blue")
    assert r.status_code == 422 and list(r.json["errors"]) == ["colour"]
    r = setup.association.post(f"/proposals/{setup.proposal.public_id}/decision", ["accept"])
    assert r.status_code == 422
    r = setup.association.decide(setup.proposal, decision="decline", reason="too_expensive")
    assert r.status_code == 200
    assert r.json["status"] == "household_declined"
    assert r.json["decisions"][0]["reason"] == "too_expensive"
    # The landlord learns she declined, never why.
    seen = setup.landlord.get(f"/proposals/{setup.proposal.public_id}").json
    assert seen["decisions"][0]["outcome"] == "decline" and seen["decisions"][0]["reason"] is None


def test_whole_workflow_and_refused_steps(setup, db):
    p = setup.proposal
    # The landlord may not decide first, the association not twice, nor for the commission.
    assert setup.landlord.decide(p, decision="accept").status_code == 409
    assert setup.landlord.post(f"/proposals/{p.public_id}/lease", LEASE).status_code == 409
    assert setup.association.decide(p, decision="accept").status_code == 200
    assert setup.association.decide(p, decision="accept").status_code == 409
    assert setup.association.decide(p, decision="accept", step="commission").status_code == 409
    assert setup.association.decide(p, decision="accept", rank=1).status_code == 422
    r = setup.landlord.decide(p, decision="accept", rank=4)
    assert r.status_code == 422 and list(r.json["errors"]) == ["rank"]
    r = setup.landlord.decide(p, decision="decline", reason="unsafe_area")
    assert r.status_code == 422 and list(r.json["errors"]) == ["reason"]
    r = setup.landlord.decide(p, decision="accept", rank=1)
    assert r.status_code == 200 and r.json["status"] == "commission_accepted"
    assert r.json["commission_rank"] == 1
    assert setup.landlord.decide(p, decision="decline", reason="other").status_code == 409
    r = setup.landlord.post(f"/proposals/{p.public_id}/lease", LEASE)
    assert r.status_code == 200 and r.json["status"] == "leased"
    assert setup.landlord.decide(p, decision="accept", step="lease").status_code == 409
    assert [d["step"] for d in r.json["decisions"]] == ["household", "commission", "lease"]
    db.expire_all()
    assert (setup.unit.status, setup.household.status) == ("allocated", "housed")
    # The notification e-mails say nothing of the place.
    bodies = " ".join(m.subject + m.body for m in db.scalars(sa.select(OutboxEmail)))
    assert bodies and "59350" not in bodies and "Lille" not in bodies and p.public_id not in bodies


def test_deciding_after_expiry_is_a_conflict(setup, db):
    setup.proposal.deadline = dt.date.today() - dt.timedelta(days=2)
    db.commit()
    r = setup.association.decide(setup.proposal, decision="accept")
    assert r.status_code == 409 and list(r.json["errors"]) == ["deadline"]


def test_list_filters_by_status(setup):
    setup.association.decide(setup.proposal, decision="accept")
    assert setup.landlord.get("/proposals?status=pending").json["total"] == 0
    assert setup.landlord.get("/proposals?status=household_accepted").json["total"] == 1
    assert setup.landlord.get("/proposals?status=review").status_code == 422


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/proposals/{proposal_id}/decision" in spec["paths"]
    profile = spec["components"]["schemas"]["LandlordProfile"]
    assert set(profile["properties"]) == set(profiles.PROFILE_FIELDS)


def test_commission_ranks_are_distinct_and_named_in_the_error(setup, db, client):
    p = setup.proposal
    second = factories.create_proposal(db, unit=setup.unit, run=p.run, rank=2)
    own = Caller(client, db, factories.create_user(db, "association", organisation=second.household.association))
    assert setup.association.decide(p, decision="accept").status_code == 200
    assert own.decide(second, decision="accept").status_code == 200
    assert setup.landlord.decide(p, decision="accept").json["commission_rank"] == 1  # none given: the next
    r = setup.landlord.decide(second, decision="accept", rank=1)
    assert r.status_code == 409 and list(r.json["errors"]) == ["rank"]
    assert p.public_id in r.json["errors"]["rank"][0]
    r = setup.landlord.decide(second, decision="accept", rank=2)
    assert r.status_code == 200 and (r.json["status"], r.json["commission_rank"]) == ("commission_ranked", 2)
    r = setup.landlord.decide(second, decision="accept", step="lease")
    assert r.status_code == 409
    # Rank 1 does not sign: the lease is offered to rank 2.
    r = setup.landlord.decide(p, decision="decline", step="lease", reason="household_refused")
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert setup.landlord.get(f"/proposals/{second.public_id}").json["status"] == "commission_accepted"
    assert setup.landlord.post(f"/proposals/{second.public_id}/lease", LEASE).json["status"] == "leased"


def test_rank_errors_in_english(setup, db, client):
    p = setup.proposal
    second = factories.create_proposal(db, unit=setup.unit, run=p.run, rank=2)
    own = Caller(client, db, factories.create_user(db, "association", organisation=second.household.association))
    setup.association.decide(p, decision="accept")
    own.decide(second, decision="accept")
    setup.landlord.decide(p, decision="accept", rank=1)
    r = client.post(f"/api/v1/proposals/{second.public_id}/decision", json={"decision": "accept", "rank": 1},
                    headers={**setup.landlord.headers, "Accept-Language": "en"})
    assert r.status_code == 409 and "Rank 1 is already given to" in r.json["errors"]["rank"][0]
