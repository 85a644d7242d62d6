"""Urgent transfer (issue 18): a rehoused woman whose safety is lost is active again, at the
highest urgency, with the home she leaves among her exclusion zones, for every channel."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from models import AuditEvent, Checkpoint, Notification, OutboxEmail, Proposal, Transfer
from services import offers, privacy, proposals, runs, stats, transfers
from services.errors import Conflict, NotFound, ValidationError
from tests import factories
from tests.places import DUNKERQUE, LILLE, VILLENEUVE


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """A household rehoused in Lille through the platform, her referent, a coordination of 59."""
    association = factories.create_organisation(db, "association", departments=["59"])
    referent = factories.create_user(db, "association", organisation=association)
    landlord_org = factories.create_organisation(db, "landlord", departments=["59"])
    landlord = factories.create_user(db, "landlord", organisation=landlord_org)
    coordination = factories.create_organisation(db, "coordinator", departments=["59"])
    coordinator = factories.create_user(db, "coordinator", organisation=coordination)
    household = factories.create_household(db, association=association, exclusion_zones=[{"department": "80"}],
                                           urgency=1, search_area={"communes": [], "departments": ["59"]},
                                           activated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    home = factories.create_unit(db, landlord=landlord_org, reference="HOME", **LILLE)
    lease = factories.create_proposal(db, unit=home, household=household, status="commission_accepted",
                                      commission_rank=1)
    proposals.decide(db, landlord, lease.public_id, decision="accept", step="lease")
    db.flush()
    assert household.status == "housed" and household.closed_at is not None
    return dict(referent=referent, landlord=landlord, landlord_org=landlord_org, coordinator=coordinator,
                household=household, home=home, lease=lease)


def test_a_transfer_reopens_her_file_with_the_home_she_leaves_as_a_zone(db, world):
    household, lease, home = world["household"], world["lease"], world["home"]
    item = transfers.transfer(db, world["referent"], household.public_id, reason="aggressor_found")
    db.flush()
    db.refresh(household)
    assert (household.status, household.urgency, household.closed_at) == ("active", 3, None)
    assert household.exclusion_zones == [
        {"department": "80"}, {"commune": "59350"},
        {"lat": home.lat, "lon": home.lon, "radius_km": transfers.TRANSFER_ZONE_RADIUS_KM}]
    assert household.exclusion_zone_count == 3
    db.refresh(lease)
    assert lease.status == "transferred"
    # The checkpoints of a home she no longer lives in are closed, not reminded.
    assert {(c.status, c.outcome) for c in db.scalars(sa.select(Checkpoint).where(
        Checkpoint.proposal_id == lease.id))} == {("left", "transfer_needed")}
    assert (item.department, item.reason, item.from_proposal_id) == ("59", "aggressor_found", lease.id)
    # Audited, and the coordination of the department told, in the platform and by e-mail.
    db.commit()  # as a view would: the commit writes the audit trail
    assert db.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_id == household.public_id,
                                                        AuditEvent.action == "household.transfer"))
    team = world["coordinator"].organisation
    assert db.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.organisation_id == team.id)) == 1
    mail = db.scalar(sa.select(OutboxEmail).where(OutboxEmail.recipient == world["coordinator"].email))
    assert mail is not None and "Mutation urgente" in mail.subject and "59350" not in mail.body


def test_no_channel_proposes_a_unit_near_the_home_she_leaves(app, db, world):
    household, landlord_org = world["household"], world["landlord_org"]
    transfers.transfer(db, world["referent"], household.public_id, reason="safety_incident")
    same_commune = factories.create_unit(db, landlord=landlord_org, reference="LILLE-2", **{**LILLE, "lat": 50.64})
    nearby = factories.create_unit(db, landlord=landlord_org, reference="VILLENEUVE", **VILLENEUVE)
    unplaced = factories.create_unit(db, landlord=landlord_org, reference="LILLE-X",
                                     **{**LILLE, "lat": None, "lon": None})
    far = factories.create_unit(db, landlord=landlord_org, reference="DUNKERQUE", **DUNKERQUE)
    for unit in (same_commune, nearby, unplaced):
        # Candidacy, direct match, offer on a request: all refused, nothing stored.
        with pytest.raises(ValidationError):
            offers.put_forward(db, world["referent"], unit_id=unit.public_id, household_id=household.public_id)
        with pytest.raises(ValidationError):
            offers.direct_match(db, world["coordinator"], unit_id=unit.public_id,
                                household_id=household.public_id, reason="Danger immédiat")
    request = offers.post_request(db, world["referent"], household_id=household.public_id, message="")
    for unit in (same_commune, nearby, unplaced):
        with pytest.raises(ValidationError):
            offers.offer_on_request(db, world["landlord"], request_id=request.public_id, unit_id=unit.public_id)
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.household_id == household.id, Proposal.status != "transferred")) == 0
    # The run: she is matched, but never near the home she left.
    run, _ = runs.start_run(db, actor=world["coordinator"], departments=["59"])
    db.commit()
    runs.execute_run(app.extensions["db"].sessionmaker, run.id, run.attempt,
                     runs.RunSettings(heartbeat_s=0, progress_every_s=0))
    db.expire_all()
    hers = {p.unit.reference for p in db.scalars(sa.select(Proposal).where(
        Proposal.run_id == run.id, Proposal.household_id == household.id))}
    assert hers == {"DUNKERQUE"}
    assert far.public_id  # the only unit that suits her


def test_she_can_be_rehoused_again_and_counts_as_a_transfer_not_a_second_household(db, world):
    household, landlord = world["household"], world["landlord"]
    transfers.transfer(db, world["referent"], household.public_id, reason="threats")
    far = factories.create_unit(db, landlord=world["landlord_org"], reference="DUNKERQUE", **DUNKERQUE)
    proposal = offers.put_forward(db, world["referent"], unit_id=far.public_id, household_id=household.public_id)
    proposals.decide(db, landlord, proposal.public_id, decision="accept", step="commission", rank=1)
    proposals.decide(db, landlord, proposal.public_id, decision="accept", step="lease")
    db.flush()
    db.refresh(household)
    assert household.status == "housed" and proposal.status == "leased"
    today = dt.date.today()
    quarter = stats.Quarter.of(today)
    figures = stats.compute(db, quarter, ["59"])
    followup = figures.table("followup")
    assert followup.row_by_key("transfers").cells[0].value == 1
    # Two leases signed (units allocated), one household housed.
    head = figures.table("headline")
    assert head.row_by_key("units_allocated").cells[0].value == 2
    assert head.row_by_key("housed").cells[0].value == 1


def test_only_her_association_and_only_a_rehoused_household(db, world):
    household = world["household"]
    other = factories.create_user(db, "association")
    with pytest.raises(NotFound):
        transfers.transfer(db, other, household.public_id, reason="threats")
    with pytest.raises(NotFound):
        transfers.transfer(db, world["landlord"], household.public_id, reason="threats")
    with pytest.raises(ValidationError):
        transfers.transfer(db, world["referent"], household.public_id, reason="elsewhere")
    waiting = factories.create_household(db, association=world["referent"].organisation)
    with pytest.raises(Conflict):
        transfers.transfer(db, world["referent"], waiting.public_id, reason="threats")
    transfers.transfer(db, world["referent"], household.public_id, reason="threats")
    with pytest.raises(Conflict):  # once active again, there is nothing to transfer from
        transfers.transfer(db, world["referent"], household.public_id, reason="threats")
    assert db.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 1


def test_erasing_her_file_erases_her_transfers(db, world):
    household = world["household"]
    transfers.transfer(db, world["referent"], household.public_id, reason="threats")
    db.flush()
    from services import households

    households.erase_household(db, household, actor=world["referent"])
    db.flush()
    assert db.scalar(sa.select(sa.func.count()).select_from(Transfer)) == 0
    assert privacy  # the purge erases through the same cascade (tests/services/test_privacy.py)
