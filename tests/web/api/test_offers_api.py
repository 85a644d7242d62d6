"""The offer board API: candidacies, rehousing requests and offers on them, direct matches.

Every created proposal passed matching's hard rules; a refused offer names no rule."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from models import AuditEvent, Proposal, RefusedOffer
from services import offers, profiles
from tests import factories
from tests.web.api.test_proposals_api import LEASE, Caller

# Inside the default household's exclusion zone (10 km around 50.7236, 3.1610): Roubaix.
IN_ZONE = dict(commune="59512", lat=50.6942, lon=3.1746)


@pytest.fixture
def board(client, db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    association = factories.create_organisation(db, "association", departments=["59"])
    coordination = factories.create_organisation(db, "coordinator", departments=["59"])

    class B:
        pass

    b = B()
    b.db = db
    b.unit = factories.create_unit(db, landlord=landlord)
    b.unsafe = factories.create_unit(db, landlord=landlord, **IN_ZONE)
    b.household = factories.create_household(db, association=association, notes="secret note")
    b.landlord_org, b.association_org = landlord, association
    b.association = Caller(client, db, factories.create_user(db, "association", organisation=association))
    b.landlord = Caller(client, db, factories.create_user(db, "landlord", organisation=landlord))
    b.coordinator = Caller(client, db, factories.create_user(db, "coordinator", organisation=coordination))
    b.client = client
    return b


def _stored(db, household):  # type: ignore[no-untyped-def]
    return db.scalars(sa.select(Proposal).where(Proposal.household_id == household.id)).all()


def test_the_board_lists_the_units_with_the_allow_listed_description_and_the_verdict(board):
    r = board.association.get(f"/offers?household={board.household.public_id}")
    assert r.status_code == 200
    items = {i["id"]: i for i in r.json["items"]}
    assert set(items) == {board.unit.public_id, board.unsafe.public_id}
    assert set(items[board.unit.public_id]) == set(offers.OFFER_FIELDS)
    assert items[board.unit.public_id]["compatible"] is True
    assert items[board.unit.public_id]["reasons"] == []
    assert items[board.unsafe.public_id]["compatible"] is False
    assert items[board.unsafe.public_id]["reasons"] == ["exclusion_zone"]
    text = json.dumps(r.json)
    assert board.unit.reference not in text and "50.6292" not in text and "lat" not in text
    # Without a household: no verdict; filters.
    plain = board.association.get("/offers?min_rooms=4").json["items"]
    assert plain == []
    assert board.association.get("/offers").json["items"][0]["compatible"] is None


def test_the_board_refuses_another_association_s_household(board, client, db):
    other = Caller(client, db, factories.create_user(db, "association",
                                                     organisation=board.association_org))
    stranger = factories.create_household(db)
    assert other.get(f"/offers?household={stranger.public_id}").status_code == 404


def test_a_candidacy_goes_straight_to_the_commission(board, db):
    r = board.association.post("/candidacies", {"unit": board.unit.public_id,
                                                "household": board.household.public_id})
    assert r.status_code == 201, r.json
    assert r.json["origin"] == "candidacy"
    assert r.json["status"] == "household_accepted"
    proposal = db.scalar(sa.select(Proposal).where(Proposal.public_id == r.json["id"]))
    assert proposal.origin == "candidacy" and proposal.run_id is None
    db.refresh(board.unit)
    assert board.unit.status == "proposed"
    # The landlord's commission sees her profile at once (her consent was given).
    seen = board.landlord.get(f"/proposals/{proposal.public_id}").json
    assert set(seen["profile"]) == set(profiles.PROFILE_FIELDS)
    # And decides as on any proposal, up to the lease.
    assert board.landlord.decide(proposal, decision="accept", rank=1).status_code == 200
    assert board.landlord.post(f"/proposals/{proposal.public_id}/lease", LEASE).status_code == 200
    db.refresh(proposal)
    assert proposal.status == "leased"


def test_an_unsafe_candidacy_is_refused_naming_the_rule_and_never_stored(board, db):
    r = board.association.post("/candidacies", {"unit": board.unsafe.public_id,
                                                "household": board.household.public_id})
    assert r.status_code == 422
    assert r.json["errors"]["rules"] == ["exclusion_zone"]
    assert _stored(db, board.household) == []


def test_at_most_two_open_candidacies_then_409(board, db):
    more = [factories.create_unit(db, landlord=board.landlord_org) for _ in range(2)]
    db.commit()
    for unit in [board.unit, more[0]]:
        assert board.association.post("/candidacies", {"unit": unit.public_id,
                                                       "household": board.household.public_id}).status_code == 201
    r = board.association.post("/candidacies", {"unit": more[1].public_id,
                                                "household": board.household.public_id})
    assert r.status_code == 409
    assert len(_stored(db, board.household)) == 2


def test_a_candidacy_on_a_unit_no_longer_published_is_409(board, db):
    board.unit.status = "allocated"
    db.commit()
    r = board.association.post("/candidacies", {"unit": board.unit.public_id,
                                                "household": board.household.public_id})
    assert r.status_code == 409


def test_a_landlord_sees_a_request_through_the_allow_list_only(board, db):
    r = board.association.post("/requests", {"household": board.household.public_id,
                                             "message": "Urgent, deux enfants scolarisés."})
    assert r.status_code == 201, r.json
    seen = board.landlord.get("/requests").json["items"]
    assert len(seen) == 1
    assert set(seen[0]) == set(offers.REQUEST_FIELDS)
    assert seen[0]["departments"] == ["59"] and seen[0]["persons"] == 3
    text = json.dumps(seen)
    for secret in (board.household.public_id, board.household.reference, "secret note", "50.7236",
                   "exclusion", "radius", "1380", "communes"):
        assert secret not in text
    # A landlord of another department sees nothing.
    elsewhere = Caller(board.client, db, factories.create_user(
        db, "landlord", organisation=factories.create_organisation(db, "landlord", departments=["75"])))
    assert elsewhere.get("/requests").json["items"] == []
    assert board.landlord.post("/requests", {"household": board.household.public_id}).status_code == 404


@pytest.mark.parametrize("message", ["Joignable au 06 12 34 56 78", "Elle vit 12 rue des Lilas",
                                     "près de 59100", "tél +33 6 12 34 56 78"])
def test_a_request_message_that_looks_like_an_address_or_a_phone_is_refused(board, db, message):
    r = board.association.post("/requests", {"household": board.household.public_id, "message": message})
    assert r.status_code == 422
    assert "message" in r.json["errors"]
    assert board.landlord.get("/requests").json["items"] == []


def test_an_offer_on_a_request_becomes_a_proposal_the_referent_answers(board, db):
    req = board.association.post("/requests", {"household": board.household.public_id}).json
    r = board.landlord.post(f"/requests/{req['id']}/offers", {"unit": board.unit.public_id})
    assert r.status_code == 201, r.json
    assert r.json["origin"] == "request" and r.json["status"] == "pending"
    assert r.json["profile"] is None  # not before she has said yes
    proposal = db.scalar(sa.select(Proposal).where(Proposal.public_id == r.json["id"]))
    assert board.association.decide(proposal, decision="accept").status_code == 200
    assert board.landlord.get("/requests").json["items"] == []  # answered


def test_a_refused_offer_names_no_rule_and_is_kept_for_the_coordinator(board, db):
    req = board.association.post("/requests", {"household": board.household.public_id}).json
    r = board.landlord.post(f"/requests/{req['id']}/offers", {"unit": board.unsafe.public_id})
    assert r.status_code == 422
    assert r.json["errors"] == {"unit": ["not compatible"]}
    assert _stored(db, board.household) == []
    refused = db.scalars(sa.select(RefusedOffer)).all()
    assert [(x.unit_id, x.rules) for x in refused] == [(board.unsafe.id, ["exclusion_zone"])]
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "request.offer_refused"))


def test_probing_every_unit_of_a_department_learns_nothing_and_is_stopped(board, db):
    """A landlord offers all its units of the department, one after the other."""
    points = [("59350", 50.6292, 3.0573), ("59512", 50.6942, 3.1746), ("59599", 50.7225, 3.1592),
              ("59009", 50.6232, 3.1450), ("59360", 50.6419, 3.0333), ("59163", 50.6990, 3.1700)]
    units = [factories.create_unit(db, landlord=board.landlord_org, commune=c, lat=lat, lon=lon)
             for c, lat, lon in points]
    db.commit()
    req = board.association.post("/requests", {"household": board.household.public_id}).json
    answers = [board.landlord.post(f"/requests/{req['id']}/offers", {"unit": u.public_id})
               for u in [board.unsafe, *units[1:]]]
    for a in answers:
        text = json.dumps(a.json)
        for leak in ("exclusion", "zone", "km", "distance", "radius", "rule", "50.7"):
            assert leak not in text
        assert a.status_code in (201, 422, 429)
    codes = [a.status_code for a in answers]
    assert 201 not in codes  # every one of these is in her zone
    assert codes[:offers.REFUSED_OFFERS_PER_DAY] == [422] * offers.REFUSED_OFFERS_PER_DAY
    assert set(codes[offers.REFUSED_OFFERS_PER_DAY:]) == {429}
    assert _stored(db, board.household) == []
    # The coordinator sees each refusal, the rule and the landlord.
    refusals = offers.refused_offers(db, board.coordinator.user)
    assert len(refusals) == offers.REFUSED_OFFERS_PER_DAY
    assert {r.landlord_id for r in refusals} == {board.landlord_org.id}
    assert all(r.rules == ["exclusion_zone"] for r in refusals)


def test_a_direct_match_needs_a_reason_and_passes_the_same_rules(board, db):
    body = {"unit": board.unit.public_id, "household": board.household.public_id}
    assert board.coordinator.post("/proposals", {**body, "reason": ""}).status_code == 422
    unsafe = board.coordinator.post("/proposals", {**body, "unit": board.unsafe.public_id, "reason": "danger"})
    assert unsafe.status_code == 422 and unsafe.json["errors"]["rules"] == ["exclusion_zone"]
    r = board.coordinator.post("/proposals", {**body, "reason": "Mise en danger immédiate"})
    assert r.status_code == 201, r.json
    assert r.json["origin"] == "direct" and r.json["status"] == "pending"
    proposal = db.scalar(sa.select(Proposal).where(Proposal.public_id == r.json["id"]))
    assert proposal.origin_reason == "Mise en danger immédiate"
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "proposal.direct",
                                                 AuditEvent.object_id == proposal.public_id))
    # The association answers it as any proposal.
    assert board.association.get(f"/proposals/{proposal.public_id}").status_code == 200


def test_a_direct_match_outside_the_coordinator_s_territory_is_404(board, client, db):
    far = Caller(client, db, factories.create_user(
        db, "coordinator", organisation=factories.create_organisation(db, "coordinator", departments=["75"])))
    r = far.post("/proposals", {"unit": board.unit.public_id, "household": board.household.public_id,
                                "reason": "x"})
    assert r.status_code == 404
