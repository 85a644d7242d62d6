"""Decisions on released proposals: every transition, every refused one, and what each side sees."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import AuditEvent, Decision, Notification, OutboxEmail, Proposal
from services import notifications, profiles
from services import proposals as svc
from services.errors import Conflict, NotFound, ValidationError
from tests import factories
from tests.querycount import count_queries

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _app_context(app):
    """Services run inside the app (data key, translations), as in a request or a command."""
    with app.app_context():
        yield


@pytest.fixture
def world(db):
    """One landlord with a unit, one association with a household, a pending proposal."""
    landlord = factories.create_organisation(db, "landlord", contact_phone="03 20 00 00 00")
    association = factories.create_organisation(db, "association", contact_phone="03 20 11 11 11")
    w = dataclasses.make_dataclass("World", ["landlord", "association", "lu", "au", "unit",
                                             "household", "proposal", "run"])
    unit = factories.create_unit(db, landlord=landlord)
    household = factories.create_household(db, association=association)
    run = factories.create_run(db)
    proposal = factories.create_proposal(db, unit=unit, household=household, run=run,
                                         deadline=TODAY + dt.timedelta(days=10))
    return w(landlord, association, factories.create_user(db, "landlord", organisation=landlord),
             factories.create_user(db, "association", organisation=association),
             unit, household, proposal, run)


def decide(db, user, proposal, decision, **kw):
    kw.setdefault("today", TODAY)
    return svc.decide(db, user, proposal.public_id, decision=decision, **kw)


def actions(db, proposal):
    db.commit()  # as a view would: the caller's commit writes the audit trail
    return list(db.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "proposal", AuditEvent.object_id == proposal.public_id)
        .order_by(AuditEvent.id)))


# --- The household's answer ----------------------------------------------------------------


def test_household_accepts_and_the_landlord_is_told(db, world):
    decide(db, world.au, world.proposal, "accept")
    assert world.proposal.status == "household_accepted"
    d = db.scalar(sa.select(Decision).where(Decision.proposal_id == world.proposal.id))
    assert (d.step, d.outcome, d.reason, d.decided_by_id) == ("household", "accept", None, world.au.id)
    assert actions(db, world.proposal) == ["proposal.household_accept"]
    note = db.scalar(sa.select(Notification).where(Notification.organisation_id == world.landlord.id))
    assert world.proposal.public_id in note.message
    assert note.link == f"/bailleur/propositions/{world.proposal.public_id}"
    mail = db.scalar(sa.select(OutboxEmail).where(OutboxEmail.recipient == world.lu.email))
    assert mail.subject == "Une nouvelle proposition vous attend sur Passerelle"
    # The unit and the household stay taken while the commission examines her file.
    assert (world.unit.status, world.household.status) == ("proposed", "proposed")


def test_declining_needs_a_known_reason(db, world):
    with pytest.raises(ValidationError) as missing:
        decide(db, world.au, world.proposal, "decline")
    assert missing.value.field == "reason"
    with pytest.raises(ValidationError) as unknown:
        decide(db, world.au, world.proposal, "decline", reason="income_ceiling")
    assert unknown.value.field == "reason"
    with pytest.raises(ValidationError) as bad:
        decide(db, world.au, world.proposal, "maybe")
    assert bad.value.field == "decision"
    assert world.proposal.status == "pending"


def test_household_declines_and_both_go_back_to_the_pool(db, world):
    decide(db, world.au, world.proposal, "decline", reason="unsafe_area")
    assert world.proposal.status == "household_declined"
    assert db.scalar(sa.select(Decision.reason).where(Decision.proposal_id == world.proposal.id)) \
        == "unsafe_area"
    assert (world.unit.status, world.household.status) == ("published", "active")
    assert actions(db, world.proposal) == ["proposal.household_decline"]


def test_decline_keeps_the_household_proposed_while_another_offer_waits(db, world):
    other = factories.create_proposal(db, household=world.household, run=world.run, rank=2)
    decide(db, world.au, world.proposal, "decline", reason="too_small")
    assert world.household.status == "proposed"
    assert world.unit.status == "published"
    assert other.status == "pending"


def test_deciding_twice_is_a_conflict(db, world):
    decide(db, world.au, world.proposal, "accept")
    with pytest.raises(Conflict):
        decide(db, world.au, world.proposal, "accept")
    with pytest.raises(Conflict):
        decide(db, world.au, world.proposal, "decline", reason="other")
    assert db.scalar(sa.select(sa.func.count()).select_from(Decision)
                     .where(Decision.proposal_id == world.proposal.id)) == 1


def test_the_deadline_day_is_still_open_the_day_after_is_not(db, world):
    world.proposal.deadline = TODAY
    with pytest.raises(Conflict) as late:
        decide(db, world.au, world.proposal, "accept", today=TODAY + dt.timedelta(days=1))
    assert late.value.field == "deadline"
    decide(db, world.au, world.proposal, "accept", today=TODAY)
    assert world.proposal.status == "household_accepted"


# --- Expiry --------------------------------------------------------------------------------


def test_silence_is_a_refusal(db, world):
    world.proposal.deadline = TODAY - dt.timedelta(days=1)
    waiting = factories.create_proposal(db, deadline=TODAY)  # another household, not overdue
    assert svc.expire_overdue(db, today=TODAY) == [world.proposal.public_id]
    db.refresh(world.proposal)
    assert world.proposal.status == "expired"
    assert waiting.status == "pending"
    assert (world.unit.status, world.household.status) == ("published", "active")
    db.commit()  # as a view would: the caller's commit writes the audit trail
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "proposal.expire"))
    assert (event.object_id, event.actor_id) == (world.proposal.public_id, None)
    told = set(db.scalars(sa.select(Notification.organisation_id)))
    assert {world.landlord.id, world.association.id} <= told
    # Nothing left to expire; and answering afterwards is refused.
    assert svc.expire_overdue(db, today=TODAY) == []
    with pytest.raises(Conflict):
        decide(db, world.au, world.proposal, "accept")


def test_expiry_leaves_a_household_with_another_offer_proposed(db, world):
    world.proposal.deadline = TODAY - dt.timedelta(days=1)
    factories.create_proposal(db, household=world.household, deadline=TODAY + dt.timedelta(days=3))
    svc.expire_overdue(db, today=TODAY)
    assert world.household.status == "proposed"


# --- Who may decide ------------------------------------------------------------------------


def test_the_landlord_cannot_decide_before_the_household(db, world):
    with pytest.raises(Conflict):
        decide(db, world.lu, world.proposal, "accept")
    with pytest.raises(Conflict):
        decide(db, world.lu, world.proposal, "accept", step="lease")
    assert world.proposal.status == "pending"


def test_the_association_cannot_take_the_commission_step(db, world):
    decide(db, world.au, world.proposal, "accept")
    with pytest.raises(Conflict):
        decide(db, world.au, world.proposal, "accept", step="commission")
    with pytest.raises(Conflict):
        decide(db, world.au, world.proposal, "accept")
    assert world.proposal.status == "household_accepted"


@pytest.mark.parametrize("role", ["landlord", "association", "coordinator", "committee"])
def test_other_organisations_do_not_see_the_proposal(db, world, role):
    stranger = factories.create_user(db, role)
    with pytest.raises(NotFound):
        svc.get_for(db, stranger, world.proposal.public_id)
    with pytest.raises(NotFound):
        decide(db, stranger, world.proposal, "accept")
    assert svc.list_for(db, stranger).total == 0


def test_unreleased_proposals_are_invisible(db, world):
    review = factories.create_proposal(db, unit=world.unit, run=factories.create_run(db, status="succeeded"),
                                       status="review")
    for user in (world.au, world.lu):
        with pytest.raises(NotFound):
            svc.get_for(db, user, review.public_id)
    assert [p.public_id for p in svc.list_for(db, world.lu).items] == [world.proposal.public_id]


def test_proposals_cancelled_by_the_release_itself_were_never_sent(db, world):
    never_sent = factories.create_proposal(db, unit=world.unit, run=factories.create_run(db), rank=1,
                                           status="cancelled", deadline=None)
    referent = factories.create_user(db, "association", organisation=never_sent.household.association)
    for user in (world.lu, referent):
        with pytest.raises(NotFound):
            svc.get_for(db, user, never_sent.public_id)
        assert never_sent.public_id not in [p.public_id for p in svc.list_for(db, user).items]


# --- The commission and the lease ---------------------------------------------------------


def candidate(db, world, rank):
    """Another household proposed for the world's unit, who has said yes."""
    home = factories.create_household(db)
    proposal = factories.create_proposal(db, unit=world.unit, household=home, run=world.run, rank=rank)
    svc.decide(db, factories.create_user(db, "association", organisation=home.association),
               proposal.public_id, decision="accept", today=TODAY)
    return proposal


def told(db, organisation):
    return [n.message for n in db.scalars(sa.select(Notification).where(
        Notification.organisation_id == organisation.id).order_by(Notification.id))]


def test_rank_1_is_promised_and_the_units_other_candidates_wait(db, world):
    rival = candidate(db, world, 2)
    elsewhere = factories.create_proposal(db, household=world.household, run=world.run, rank=1)
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "accept", rank=1)
    for p in (world.proposal, rival, elsewhere):
        db.refresh(p)
    assert (world.proposal.status, world.proposal.commission_rank) == ("commission_accepted", 1)
    # She is promised: her other offer goes, its landlord is told and the unit is free again.
    assert elsewhere.status == "cancelled"
    assert elsewhere.unit.status == "published"
    assert any(elsewhere.public_id in m for m in told(db, elsewhere.unit.landlord))
    # The unit's other candidate is not cancelled: the commission may rank her behind.
    assert rival.status == "household_accepted"
    assert rival.household.status == "proposed"
    decide(db, world.lu, rival, "accept", rank=2)
    assert (rival.status, rival.commission_rank) == ("commission_ranked", 2)
    assert any("rang 2" in m for m in told(db, rival.household.association))
    # Only the best-ranked retained candidate can sign.
    with pytest.raises(Conflict) as lease:
        decide(db, world.lu, rival, "accept", step="lease")
    assert world.proposal.public_id in str(lease.value.message)
    assert rival.status == "commission_ranked"


def test_her_other_offers_are_cancelled_with_a_notice_each_and_one_email(db, world):
    """Promised to one unit, she loses her other offers: each of them is told in the
    platform, but her association gets one e-mail ("something changed"), not one per offer."""
    others = [factories.create_proposal(db, household=world.household, run=world.run, rank=r,
                                        deadline=TODAY + dt.timedelta(days=10)) for r in (1, 2, 3, 1)]
    decide(db, world.au, world.proposal, "accept")
    db.commit()
    mails_before = len(db.scalars(sa.select(OutboxEmail).where(OutboxEmail.recipient == world.au.email)).all())
    decide(db, world.lu, world.proposal, "accept")
    db.commit()
    for p in others:
        db.refresh(p)
        assert p.status == "cancelled" and p.unit.status == "published"
        assert any(p.public_id in m for m in told(db, p.unit.landlord))
        assert any(p.public_id in m for m in told(db, world.association))
    assert world.household.status == "proposed"  # promised to the world's unit
    mails = db.scalars(sa.select(OutboxEmail).where(OutboxEmail.recipient == world.au.email)).all()
    assert len(mails) == mails_before + 1
    assert actions(db, others[0]) == ["proposal.cancel"]


def test_cancelling_twelve_offers_sends_no_more_statements_than_two(db, world):
    """The decision that promises her cancels all her other offers at once, not one by one
    (a household may hold dozens: the commission's answer must stay quick)."""
    def promise(others: int):  # type: ignore[no-untyped-def]
        household = factories.create_household(db, association=world.association)
        mine = factories.create_proposal(db, unit=factories.create_unit(db, landlord=world.landlord),
                                         household=household, run=world.run,
                                         deadline=TODAY + dt.timedelta(days=10))
        offers = [factories.create_proposal(db, household=household, run=world.run, rank=2,
                                            deadline=TODAY + dt.timedelta(days=10)) for _ in range(others)]
        decide(db, world.au, mine, "accept")
        db.commit()
        with count_queries(db.get_bind()) as queries:
            decide(db, world.lu, mine, "accept")
            db.commit()
        assert all(p.status == "cancelled" for p in offers)
        return queries

    def work(queries):  # type: ignore[no-untyped-def]
        # Each offer is told to both sides: its notifications are rows of their own (one
        # INSERT each on SQLite, which cannot return the ids of a batch in order).
        return [q for q in queries.statements if not q.startswith("INSERT INTO notifications")]

    few, many = promise(2), promise(12)
    assert len(work(many)) == len(work(few)), many.report()


def test_ranks_are_distinct_and_never_jump_the_candidate_offered_the_lease(db, world):
    second, third, fourth = candidate(db, world, 2), candidate(db, world, 3), candidate(db, world, 4)
    decide(db, world.au, world.proposal, "accept")
    assert svc.free_ranks(db, world.unit) == [1, 2, 3]
    decide(db, world.lu, world.proposal, "accept", rank=2)
    assert world.proposal.status == "commission_accepted"  # rank 1 may be someone outside Passerelle
    assert svc.free_ranks(db, world.unit) == [3]
    with pytest.raises(Conflict) as taken:
        decide(db, world.lu, second, "accept", rank=2)
    assert taken.value.field == "rank" and world.proposal.public_id in str(taken.value.message)
    with pytest.raises(Conflict) as before:
        decide(db, world.lu, second, "accept", rank=1)
    assert before.value.field == "rank" and "après" in str(before.value.message)
    decide(db, world.lu, second, "accept")  # no rank: the next one
    assert (second.status, second.commission_rank) == ("commission_ranked", 3)
    with pytest.raises(Conflict) as full:
        decide(db, world.lu, third, "accept")
    assert full.value.field == "rank"
    with pytest.raises(ValidationError) as out_of_range:
        decide(db, world.lu, fourth, "accept", rank=4)
    assert out_of_range.value.field == "rank"
    for p in (third, fourth):
        assert p.status == "household_accepted"
    assert db.scalar(sa.select(sa.func.count()).select_from(Decision).where(Decision.step == "commission")) == 2


@pytest.mark.parametrize(("status", "rank"), [
    pytest.param("commission_ranked", 1, id="two retained candidates at one rank"),
    pytest.param("commission_accepted", 2, id="a second promise, whatever the code does"),
])
def test_the_database_refuses_a_second_candidate_where_one_is_promised(db, world, status, rank):
    other = factories.create_proposal(db, unit=world.unit, run=world.run, rank=2)
    world.proposal.status, world.proposal.commission_rank = "commission_accepted", 1
    db.flush()
    other.status, other.commission_rank = status, rank
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.flush()


def test_the_database_refuses_a_retained_candidate_without_a_rank(db, world):
    world.proposal.status = "commission_ranked"
    with pytest.raises(sa.exc.IntegrityError), db.begin_nested():
        db.flush()


def test_a_signed_lease_cancels_everyone_still_waiting_for_the_unit_or_for_her(db, world):
    waiting, undecided = candidate(db, world, 2), candidate(db, world, 3)
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "accept", rank=1)
    decide(db, world.lu, waiting, "accept", rank=2)
    decide(db, world.lu, world.proposal, "accept", step="lease")
    for p in (waiting, undecided):
        db.refresh(p)
        assert p.status == "cancelled"
        assert p.household.status == "active"
        assert actions(db, p)[-1] == "proposal.cancel"
        assert any(p.public_id in m and "annulée" in m for m in told(db, p.household.association))
        assert any(p.public_id in m for m in told(db, world.landlord))
    assert (world.unit.status, world.household.status) == ("allocated", "housed")


def test_a_lease_not_signed_goes_to_the_next_ranked_candidate(db, world):
    third = candidate(db, world, 2)
    her_other = factories.create_proposal(db, household=third.household, run=world.run, rank=1)
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "accept", rank=1)
    decide(db, world.lu, third, "accept", rank=3)  # rank 2 went to someone outside Passerelle
    assert her_other.status == "pending"  # ranked behind: not promised yet
    decide(db, world.lu, world.proposal, "decline", step="lease", reason="household_refused")
    for p in (world.proposal, third, her_other):
        db.refresh(p)
    assert world.proposal.status == "cancelled" and world.household.status == "active"
    assert (third.status, third.commission_rank) == ("commission_accepted", 3)
    assert actions(db, third)[-1] == "proposal.lease_offer"
    assert any(third.public_id in m and "bail lui est" in m for m in told(db, third.household.association))
    assert any(third.public_id in m and "suivante" in m for m in told(db, world.landlord))
    # She is promised now: her other offer is cancelled; the unit stays proposed for her.
    assert her_other.status == "cancelled"
    assert world.unit.status == "proposed"
    decide(db, world.lu, third, "accept", step="lease")
    assert (third.status, world.unit.status, third.household.status) == ("leased", "allocated", "housed")


def test_a_lease_not_signed_with_nobody_waiting_frees_the_unit(db, world):
    undecided = candidate(db, world, 2)
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "decline", step="lease", reason="incomplete_file")
    db.refresh(undecided)
    assert undecided.status == "household_accepted"
    # The candidate still waiting for the commission can now be retained at rank 1.
    decide(db, world.lu, undecided, "accept", rank=1)
    assert undecided.status == "commission_accepted"


def test_commission_refusal_needs_its_own_reasons(db, world):
    decide(db, world.au, world.proposal, "accept")
    with pytest.raises(ValidationError) as missing:
        decide(db, world.lu, world.proposal, "decline")
    assert missing.value.field == "reason"
    with pytest.raises(ValidationError) as household_reason:
        decide(db, world.lu, world.proposal, "decline", reason="too_far_from_school")
    assert household_reason.value.field == "reason"
    with pytest.raises(ValidationError) as rank:
        decide(db, world.lu, world.proposal, "accept", rank=4)
    assert rank.value.field == "rank"
    decide(db, world.lu, world.proposal, "decline", reason="income_ceiling")
    assert world.proposal.status == "commission_refused"
    assert (world.unit.status, world.household.status) == ("published", "active")
    with pytest.raises(Conflict):
        decide(db, world.lu, world.proposal, "accept")


def test_unit_no_longer_available_withdraws_it_and_cancels_its_candidates(db, world):
    rival = factories.create_proposal(db, unit=world.unit, run=world.run, rank=2)
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "decline", reason="unit_unavailable")
    db.refresh(rival)
    assert rival.status == "cancelled"
    assert world.unit.status == "withdrawn"


def test_lease_closes_the_case(db, world):
    with pytest.raises(Conflict):
        decide(db, world.lu, world.proposal, "accept", step="lease")
    decide(db, world.au, world.proposal, "accept")
    with pytest.raises(Conflict):
        decide(db, world.lu, world.proposal, "accept", step="lease")
    decide(db, world.lu, world.proposal, "accept", rank=2)
    decide(db, world.lu, world.proposal, "accept", step="lease")
    assert world.proposal.status == "leased"
    assert world.proposal.commission_rank == 2
    assert world.unit.status == "allocated" and world.unit.allocated_at is not None
    assert world.household.status == "housed" and world.household.closed_at is not None
    assert actions(db, world.proposal) == ["proposal.household_accept", "proposal.commission_accept",
                                           "proposal.lease"]
    with pytest.raises(Conflict):
        decide(db, world.lu, world.proposal, "accept", step="lease")


def test_a_lease_that_falls_through_frees_both(db, world):
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "decline", step="lease", reason="household_refused")
    assert world.proposal.status == "cancelled"
    assert (world.unit.status, world.household.status) == ("published", "active")


# --- What the landlord sees ---------------------------------------------------------------


def test_profile_is_exactly_the_allow_list(db, world):
    profile = profiles.landlord_profile(world.proposal)
    assert set(profile.as_dict()) == set(profiles.PROFILE_FIELDS) == {
        "proposal_id", "persons", "adults", "children", "income_band", "rent_burden_percent",
        "needs_wheelchair_access", "needs_no_stairs", "association_name", "association_email",
        "association_phone"}
    assert profile.as_dict() == {
        "proposal_id": world.proposal.public_id, "persons": 3, "adults": 1, "children": 2,
        "income_band": "1\u00a0000–1\u00a0499\u00a0€/mois", "rent_burden_percent": 17,
        "needs_wheelchair_access": False, "needs_no_stairs": False,
        "association_name": world.association.name,
        "association_email": world.association.contact_email,
        "association_phone": "03 20 11 11 11"}


@pytest.mark.parametrize(("income", "band"), [
    (0, "moins de 500\u00a0€/mois"), (499.99, "moins de 500\u00a0€/mois"),
    (500, "500–999\u00a0€/mois"), (1499, "1\u00a0000–1\u00a0499\u00a0€/mois"),
    (2999, "2\u00a0500–2\u00a0999\u00a0€/mois"), (3000, "3\u00a0000\u00a0€/mois et plus"),
])
def test_income_bands(income, band):
    assert profiles.income_band(Decimal(str(income))) == band


def test_no_secret_of_the_household_reaches_the_profile(db, world):
    world.household.notes = "Il travaille à Roubaix"
    world.household.exclusion_zones = [{"commune": "59512"}]
    text = json.dumps(profiles.landlord_profile(world.proposal).as_dict(), ensure_ascii=False)
    for secret in (world.household.public_id, world.household.reference, "59512", "Roubaix",
                   "1380", "2026-05-14", "50.7236"):
        assert secret not in text


def test_two_proposals_of_one_household_cannot_be_linked_by_the_landlord(db, world):
    second_unit = factories.create_unit(db, landlord=world.landlord, rent=Decimal("450"))
    second = factories.create_proposal(db, unit=second_unit, household=world.household,
                                       run=world.run, rank=2)
    a = profiles.landlord_profile(world.proposal).as_dict()
    b = profiles.landlord_profile(second).as_dict()
    assert a["proposal_id"] != b["proposal_id"]
    shared = {k for k in a if a[k] == b[k]}
    # What both share describes many households (size, band, needs, the association),
    # never an identifier of this one.
    assert shared == set(profiles.PROFILE_FIELDS) - {"proposal_id", "rent_burden_percent"}
    text = json.dumps([a, b], ensure_ascii=False)
    assert world.household.public_id not in text and world.household.reference not in text


def test_timeline_tells_each_side_what_it_may_know(db, world):
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "decline", reason="incomplete_file")
    declined = factories.create_proposal(db, household=world.household, unit=factories.create_unit(
        db, landlord=world.landlord), run=world.run, rank=3)
    decide(db, world.au, declined, "decline", reason="unsafe_area")

    db.commit()  # as a view would: the caller's commit writes the audit trail
    seen_by_landlord = svc.timeline(db, declined, world.lu)
    assert [e.action for e in seen_by_landlord] == ["proposal.release", "proposal.household_decline"]
    text = " ".join(f"{e.actor} {e.reason}" for e in seen_by_landlord)
    assert world.au.email not in text and "dangereux" not in text
    assert world.association.name in text

    seen_by_association = svc.timeline(db, declined, world.au)
    assert str(seen_by_association[-1].reason) == "Quartier ou secteur dangereux pour elle"
    assert world.au.email in seen_by_association[-1].actor  # her own colleague

    refused = svc.timeline(db, world.proposal, world.au)
    assert [e.action for e in refused][1:] == ["proposal.household_accept", "proposal.commission_refuse"]
    assert str(refused[-1].reason) == "Dossier incomplet"
    assert world.lu.email not in refused[-1].actor
    assert world.landlord.name in refused[-1].actor
    assert len(svc.household_timeline(db, world.household, world.au)) == 5
    with pytest.raises(NotFound):
        svc.household_timeline(db, world.household, world.lu)


# --- E-mails -------------------------------------------------------------------------------


def test_no_email_ever_says_where(db, world):
    rival = factories.create_proposal(db, unit=world.unit, run=world.run, rank=2)
    lost = factories.create_proposal(db, household=world.household, run=world.run, rank=3,
                                     deadline=TODAY - dt.timedelta(days=1))
    notifications.proposals_released(db, [world.association, world.landlord, rival.household.association])
    svc.expire_overdue(db, today=TODAY)
    decide(db, world.au, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "accept")
    decide(db, world.lu, world.proposal, "accept", step="lease")
    assert lost.status == "expired" and db.get(Proposal, rival.id).status == "cancelled"
    mails = db.scalars(sa.select(OutboxEmail)).all()
    assert {m.recipient for m in mails} >= {world.au.email, world.lu.email}
    forbidden = ["59350", "Lille", "59", "50.62", "3.05", "50.72", "3.16", "T3", "412", world.unit.reference,
                 world.household.reference, world.household.public_id, world.unit.public_id,
                 world.proposal.public_id, world.landlord.name, world.association.name]
    for mail in mails:
        for word in forbidden:
            assert word not in mail.subject and word not in mail.body, (word, mail.body)
        assert mail.subject in {"Une nouvelle proposition vous attend sur Passerelle",
                                "Une proposition a évolué sur Passerelle"}
    # In-platform notifications name the proposal, but never a place either.
    for note in db.scalars(sa.select(Notification)):
        assert "59350" not in note.message and "Lille" not in note.message


def test_send_outbox_marks_sent_and_keeps_failures_for_later(db, world):
    decide(db, world.au, world.proposal, "accept")
    sent_to = []
    assert notifications.send_outbox(db, lambda m: sent_to.append(m.recipient)) == (1, 0)
    assert sent_to == [world.lu.email]
    assert notifications.send_outbox(db, lambda m: sent_to.append(m.recipient)) == (0, 0)
    notifications.email_organisation(db, world.association, "proposal_update")

    def broken(_m):
        raise OSError("connection refused")

    assert notifications.send_outbox(db, broken) == (0, 1)
    row = db.scalar(sa.select(OutboxEmail).where(OutboxEmail.sent_at.is_(None)))
    assert row.attempts == 1 and "connection refused" in row.last_error


# --- Commands ------------------------------------------------------------------------------


def test_expire_proposals_command(db, world, runner):
    world.proposal.deadline = TODAY
    db.commit()
    result = runner.invoke(args=["expire-proposals", "--today", "2026-11-23"])
    assert result.exit_code == 0 and "0 proposal(s) expired." in result.output
    result = runner.invoke(args=["expire-proposals", "--today", "2026-11-24"])
    assert result.exit_code == 0 and "1 proposal(s) expired." in result.output
    db.expire_all()
    assert world.proposal.status == "expired"


def test_send_outbox_command_logs_without_a_mail_server(db, world, runner, caplog):
    decide(db, world.au, world.proposal, "accept")
    db.commit()
    with caplog.at_level("INFO", logger="services.notifications"):
        result = runner.invoke(args=["send-outbox"])
    assert result.exit_code == 0 and "1 e-mail(s) sent, 0 failed." in result.output
    assert world.lu.email in caplog.text
    db.expire_all()
    assert db.scalar(sa.select(OutboxEmail.sent_at)) is not None
