"""Referrals by landlords' staff and follow-up checkpoints, through the API (issue 18)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from models import AuditEvent, Checkpoint, Household, Notification, Referral
from tests import factories
from tests.web.api.test_proposals_api import Caller


@pytest.fixture
def world(client, db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    association = factories.create_organisation(db, "association", departments=["59"])
    elsewhere = factories.create_organisation(db, "association", departments=["75"])

    class W:
        pass

    w = W()
    w.landlord_org, w.association_org, w.elsewhere = landlord, association, elsewhere
    w.landlord = Caller(client, db, factories.create_user(db, "landlord", organisation=landlord))
    w.association = Caller(client, db, factories.create_user(db, "association", organisation=association))
    w.other_landlord = Caller(client, db, factories.create_user(db, "landlord"))
    w.other_association = Caller(client, db, factories.create_user(db, "association", organisation=elsewhere))
    return w


def referral_body(world, **kw):  # type: ignore[no-untyped-def]
    body = {"association": world.association_org.code, "landlord_reference": "BAIL-2231", "department": "59",
            "adults": 1, "children": 2, "urgency": 3, "shares_home": True, "consent_on": "2026-11-30",
            "message": "Signalement de la gardienne, accord de la locataire."}
    body.update(kw)
    return body


def test_a_landlord_refers_a_tenant_and_the_association_is_told_without_a_name_or_address(world, db):
    r = world.landlord.post("/referrals", referral_body(world))
    assert r.status_code == 201, r.json
    assert r.json["status"] == "sent" and r.json["origin"] == "referral" and r.json["shares_home"] is True
    assert r.json["landlord_reference"] == "BAIL-2231"
    referral_id = r.json["id"]
    # The association sees it, the share-home flag included, but not the landlord's reference.
    items = world.association.get("/referrals").json["items"]
    assert [i["id"] for i in items] == [referral_id]
    assert items[0]["shares_home"] is True and items[0]["landlord"]["name"] == world.landlord_org.name
    assert "BAIL-2231" not in json.dumps(items)
    notice = db.scalar(sa.select(Notification).where(Notification.organisation_id == world.association_org.id))
    assert notice is not None and notice.link == f"/association/orientations/{referral_id}"
    assert "BAIL-2231" not in json.dumps(notice.params)
    assert db.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "referral.create",
                                                    AuditEvent.object_id == referral_id))
    # Nobody else reads it: another landlord, an association it was not sent to.
    for stranger in (world.other_landlord, world.other_association):
        assert stranger.get(f"/referrals/{referral_id}").status_code == 404
        assert stranger.get("/referrals").json["items"] == []


@pytest.mark.parametrize(("field", "value"), [
    ("message", "Elle habite au 12 rue des Lilas"),
    ("message", "Appeler le 06 12 34 56 78"),
    ("department", "75"),
    ("adults", 0),
    ("urgency", 7),
    ("consent_on", "2099-01-01"),
    ("landlord_reference", ""),
])
def test_a_referral_with_a_wrong_field_is_refused_naming_it(world, db, field, value):
    r = world.landlord.post("/referrals", referral_body(world, **{field: value}))
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]
    assert db.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0


def test_a_referral_goes_only_to_an_association_of_her_department(world):
    r = world.landlord.post("/referrals", referral_body(world, association=world.elsewhere.code))
    assert r.status_code == 422 and "association" in r.json["errors"]


def test_the_same_tenancy_is_referred_once(world):
    assert world.landlord.post("/referrals", referral_body(world)).status_code == 201
    assert world.landlord.post("/referrals", referral_body(world)).status_code == 409


def test_accepting_opens_a_draft_file_linked_to_the_referral(world, db):
    referral_id = world.landlord.post("/referrals", referral_body(world)).json["id"]
    assert world.other_association.post(f"/referrals/{referral_id}/accept", {"reference": "X"}).status_code == 404
    r = world.association.post(f"/referrals/{referral_id}/accept", {"reference": "ORI-001"})
    assert r.status_code == 201, r.json
    assert r.json["status"] == "accepted" and r.json["household"]["reference"] == "ORI-001"
    household = db.scalar(sa.select(Household).where(Household.public_id == r.json["household"]["id"]))
    assert household.status == "draft" and household.association_id == world.association_org.id
    assert (household.adults, household.children, household.urgency) == (1, 2, 3)
    assert household.priority_categories == ["violence", "shared_home"]
    assert household.search_area == {"communes": [], "departments": ["59"]}
    # Once only.
    assert world.association.post(f"/referrals/{referral_id}/accept", {"reference": "ORI-002"}).status_code == 409
    assert world.association.post(f"/referrals/{referral_id}/decline",
                                  {"reason": "no_capacity"}).status_code == 409
    # The landlord learns it was accepted, and nothing of the file.
    seen = world.landlord.get(f"/referrals/{referral_id}").json
    assert seen["status"] == "accepted" and "household" not in seen
    assert household.public_id not in json.dumps(seen) and "ORI-001" not in json.dumps(seen)
    # Her file in the association's list of households.
    listed = world.association.get("/households").json["items"]
    assert household.public_id in [h["id"] for h in listed]


def test_declining_needs_a_coded_reason_the_landlord_reads(world):
    referral_id = world.landlord.post("/referrals", referral_body(world)).json["id"]
    assert world.association.post(f"/referrals/{referral_id}/decline", {"reason": "nope"}).status_code == 422
    r = world.association.post(f"/referrals/{referral_id}/decline", {"reason": "other_association"})
    assert r.status_code == 200 and r.json["status"] == "declined"
    assert world.landlord.get(f"/referrals/{referral_id}").json["decline_reason"] == "other_association"
    assert world.landlord.post(f"/referrals/{referral_id}/decline", {"reason": "no_capacity"}).status_code == 404


def test_a_landlord_may_not_accept_and_an_association_may_not_refer(world):
    referral_id = world.landlord.post("/referrals", referral_body(world)).json["id"]
    assert world.landlord.post(f"/referrals/{referral_id}/accept", {"reference": "X"}).status_code == 404
    assert world.association.post("/referrals", referral_body(world, landlord_reference="B2")).status_code == 404


def test_checkpoints_are_the_association_s_own(world, db):
    other = factories.create_household(db)
    proposal = factories.create_proposal(db, household=other, status="leased")
    db.add(Checkpoint(proposal_id=proposal.id, household_id=other.id, association_id=other.association_id,
                      months=3, lease_on=dt.date(2026, 1, 5), due_on=dt.date(2026, 4, 5)))
    db.commit()
    assert world.association.get("/checkpoints").json["items"] == []
    cid = db.scalar(sa.select(Checkpoint.public_id))
    r = world.association.post(f"/checkpoints/{cid}", {"status": "fine", "outcome": "none"})
    assert r.status_code == 404
