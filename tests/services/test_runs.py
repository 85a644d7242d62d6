"""Match runs: start, build the instance, solve, check, store, review, drop, release."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

import matching
from models import AuditEvent, Household, MatchRun, Proposal, Unit
from models.runs import MatchRunLock
from services import runs
from services.errors import Conflict, NotFound, ValidationError
from tests import factories


@pytest.fixture(autouse=True)
def _app_context(app):
    # Messages are lazy French strings; the job runs in an app context as the worker does.
    with app.app_context():
        yield


@pytest.fixture
def coordinator(db):
    org = factories.create_organisation(db, "coordinator", departments=["59", "62", "80"])
    return factories.create_user(db, "coordinator", organisation=org)


@pytest.fixture
def landlord(db):
    return factories.create_organisation(db, "landlord", departments=["59", "62"])


@pytest.fixture
def association(db):
    return factories.create_organisation(db, "association", departments=["59", "62"])


def execute(app, db, run):
    """Run the job now, on the test's connection, as the worker would."""
    db.commit()
    status = runs.execute_run(app.extensions["db"].sessionmaker, run.id, run.attempt,
                              runs.RunSettings(heartbeat_s=0, progress_every_s=0))
    db.expire_all()
    return status


def start(db, coordinator, departments=("59",), **kw):
    run, created = runs.start_run(db, actor=coordinator, departments=list(departments), **kw)
    assert created
    return run


def actions(db, object_id):
    db.commit()  # as a view would: the caller's commit writes the audit trail
    return [e.action for e in db.scalars(sa.select(AuditEvent).where(AuditEvent.object_id == object_id)
                                          .order_by(AuditEvent.id))]


# -- starting ------------------------------------------------------------------------------


def test_start_queues_a_run_with_the_territory_policy_and_holds_its_departments(db, coordinator):
    run = start(db, coordinator, ["62", "59", "59"], policy_overrides={"candidates_per_unit": 2})
    assert run.status == "queued" and run.public_id.startswith("R-")
    assert run.departments == ["59", "62"]
    assert run.policy == {"max_effort_rate": 0.30, "candidates_per_unit": 2, "horizon_days": 90}
    assert set(db.scalars(sa.select(MatchRunLock.department).where(MatchRunLock.run_id == run.id))) == {"59", "62"}
    assert actions(db, run.public_id) == ["run.start"]


def test_a_saved_territory_policy_applies_to_later_runs(db, coordinator):
    runs.set_territory_policy(db, coordinator.organisation, {"max_effort_rate": 0.25}, actor=coordinator)
    run = start(db, coordinator)
    assert run.policy["max_effort_rate"] == 0.25 and run.policy["candidates_per_unit"] == 3


@pytest.mark.parametrize("departments, message", [
    ([], "Choisissez au moins un département."),
    (["59", "XX"], "Département inconnu : XX"),
    (["75"], "Hors de votre territoire : 75"),
])
def test_departments_are_checked(db, coordinator, departments, message):
    with pytest.raises(ValidationError) as info:
        runs.start_run(db, actor=coordinator, departments=departments)
    assert [str(m) for m in info.value.errors["departments"]] == [message]


@pytest.mark.parametrize("policy", [{"max_effort_rate": -1}, {"candidates_per_unit": 11},
                                    {"horizon_days": "long"}])
def test_a_bad_policy_is_refused_before_anything_is_queued(db, coordinator, policy):
    with pytest.raises(ValidationError):
        runs.start_run(db, actor=coordinator, departments=["59"], policy_overrides=policy)
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 0


def test_the_same_idempotency_key_returns_the_same_run(db, coordinator):
    first, created = runs.start_run(db, actor=coordinator, departments=["59"], idempotency_key="k-1")
    again, created_again = runs.start_run(db, actor=coordinator, departments=["59"], idempotency_key="k-1")
    assert created and not created_again and again.id == first.id
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 1
    other = factories.create_user(db, "coordinator", organisation=coordinator.organisation)
    with pytest.raises(Conflict):
        runs.start_run(db, actor=other, departments=["59"], idempotency_key="k-1")


def test_a_key_committed_after_it_was_looked_up_still_returns_that_run(db, coordinator, monkeypatch):
    """A double-click whose twin commits between the key lookup and the overlap check."""
    first, _ = runs.start_run(db, actor=coordinator, departments=["59"], idempotency_key="k-1")
    # The twin's lookup ran before `first` was committed: it saw no run with this key.
    monkeypatch.setattr(runs, "_run_with_key", lambda *_: None)
    again, created = runs.start_run(db, actor=coordinator, departments=["59"], idempotency_key="k-1")
    assert again.id == first.id and not created
    other = factories.create_user(db, "coordinator", organisation=coordinator.organisation)
    with pytest.raises(Conflict):  # someone else's key over the same departments: still a conflict
        runs.start_run(db, actor=other, departments=["59"], idempotency_key="k-1")


def test_a_second_run_for_an_overlapping_department_is_refused_while_the_first_is_active(db, coordinator):
    first = start(db, coordinator, ["59", "62"])
    with pytest.raises(Conflict) as info:
        runs.start_run(db, actor=coordinator, departments=["62", "80"])
    assert first.public_id in str(info.value.message)
    start(db, coordinator, ["80"])  # no overlap: fine


# -- building the instance -----------------------------------------------------------------


def test_the_instance_holds_the_runs_units_and_households(app, db, coordinator, landlord, association):
    in_59 = factories.create_unit(db, landlord=landlord)
    factories.create_unit(db, landlord=landlord, status="draft")
    factories.create_unit(db, landlord=landlord, status="withdrawn")
    factories.create_unit(db, landlord=landlord, commune="80021", department="80", lat=49.894, lon=2.2957)
    by_department = factories.create_household(db, association=association)
    by_commune = factories.create_household(db, association=association,
                                            search_area={"communes": ["59350"], "departments": []})
    by_association = factories.create_household(db, association=association, search_area={})
    factories.create_household(db, association=association, search_area={"departments": ["80"]})
    factories.create_household(db, association=association, status="draft")
    elsewhere = factories.create_organisation(db, "association", departments=["75"])
    factories.create_household(db, association=elsewhere, search_area={})
    run = start(db, coordinator)

    built = runs.build_instance(db, run, dt.date(2026, 11, 23))

    assert [u.id for u in built.instance.units] == [in_59.public_id]
    assert built.unit_ids == {in_59.public_id: in_59.id}
    assert {h.id for h in built.instance.households} == {
        by_department.public_id, by_commune.public_id, by_association.public_id}
    h = next(h for h in built.instance.households if h.id == by_department.public_id)
    assert h.exclusion_zones == (matching.PointZone(lat=50.7236, lon=3.161, radius_km=10.0),)
    assert h.association == association.code and built.instance.units[0].landlord == landlord.code


def test_earlier_refusals_are_forbidden_and_accepted_pairs_locked(app, db, coordinator, landlord, association):
    old_run = factories.create_run(db, departments=["59"])
    unit = factories.create_unit(db, landlord=landlord)
    declined_by = factories.create_household(db, association=association)
    refused = factories.create_household(db, association=association)
    dropped = factories.create_household(db, association=association)
    expired = factories.create_household(db, association=association)
    cancelled = factories.create_household(db, association=association)
    for rank, (household, status) in enumerate(((declined_by, "household_declined"), (refused, "commission_refused"),
                                                (dropped, "dropped"), (expired, "expired"),
                                                (cancelled, "cancelled")), start=1):
        factories.create_proposal(db, unit=unit, household=household, run=old_run, status=status, rank=rank)
    for h in (declined_by, refused, dropped, expired, cancelled):
        h.status = "active"
    unit.status = "published"
    promised_unit = factories.create_unit(db, landlord=landlord)
    accepted = factories.create_household(db, association=association)
    factories.create_proposal(db, unit=promised_unit, household=accepted, run=old_run,
                              status="household_accepted")
    run = start(db, coordinator)

    built = runs.build_instance(db, run, dt.date(2026, 11, 23))

    assert {(p.unit, p.household) for p in built.instance.forbidden} == {
        (unit.public_id, h.public_id) for h in (declined_by, refused, dropped, expired)}
    assert built.instance.locked == (matching.PairRef(unit=promised_unit.public_id, household=accepted.public_id),)
    assert promised_unit.public_id in {u.id for u in built.instance.units}
    assert accepted.public_id in {h.id for h in built.instance.households}
    assert built.locked_units == {promised_unit.public_id}


def test_a_locked_pair_that_now_breaks_a_rule_is_left_out(app, db, coordinator, landlord, association):
    old_run = factories.create_run(db, departments=["59"])
    unit = factories.create_unit(db, landlord=landlord)
    household = factories.create_household(db, association=association)
    factories.create_proposal(db, unit=unit, household=household, run=old_run, status="household_accepted")
    run = start(db, coordinator, policy_overrides={"max_effort_rate": 0.05})

    built = runs.build_instance(db, run, dt.date(2026, 11, 23))

    assert built.instance.locked == () and built.counts["locks_left_out"] == 1
    assert unit.public_id not in built.unit_ids and household.public_id not in built.household_ids


# -- the job -------------------------------------------------------------------------------


def scenario(db, landlord, association):
    """Two units in Lille; three households, one of whom must never live in Lille."""
    units = [factories.create_unit(db, landlord=landlord),
             factories.create_unit(db, landlord=landlord, rooms=2, surface_m2=45.0, rent=350)]
    urgent = factories.create_household(db, association=association, urgency=3)
    other = factories.create_household(db, association=association, children=1, urgency=1)
    excluded = factories.create_household(db, association=association, urgency=3,
                                          exclusion_zones=[{"commune": "59350"}])
    return units, urgent, other, excluded


def test_a_run_stores_checked_proposals_with_their_score_explained(app, db, coordinator, landlord, association):
    units, urgent, other, excluded = scenario(db, landlord, association)
    run = start(db, coordinator)

    assert execute(app, db, run) == "succeeded"

    run = db.get(MatchRun, run.id)
    assert (run.status, run.phase, run.progress) == ("succeeded", "done", 1.0)
    assert run.started_at and run.finished_at and run.error is None
    proposals = db.scalars(sa.select(Proposal).where(Proposal.run_id == run.id)).all()
    assert proposals and all(p.status == "review" for p in proposals)
    assert {p.household_id for p in proposals if p.rank == 1} == {urgent.id, other.id}
    assert excluded.id not in {p.household_id for p in proposals}
    for p in proposals:
        assert set(p.components) == set(matching.COMPONENTS)
        assert abs(sum(p.components.values()) - p.score) < 0.01
    assert run.unmatched == [{"household": excluded.public_id, "reasons": ["exclusion_zone"]}]
    assert run.stats["matched"] == 2 and run.stats["proposals"] == len(proposals)
    assert run.stats["units"] == 2 and run.stats["households"] == 3
    # How long each phase of the job took, for the operators (and benchmarks/region.py).
    timings = run.stats["job_timings"]
    assert set(timings) == {"build_s", "solve_s", "check_s", "store_s"}
    assert all(isinstance(t, float) and t >= 0 for t in timings.values())
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRunLock)) == 0
    assert actions(db, run.public_id) == ["run.start", "run.succeeded"]


def test_progress_is_committed_phase_by_phase_while_the_solver_works(app, db, coordinator, landlord, association,
                                                                    monkeypatch):
    scenario(db, landlord, association)
    run = start(db, coordinator)
    seen = []
    real_solve = matching.solve
    sessionmaker = app.extensions["db"].sessionmaker

    def observed_solve(instance, **kw):
        def progress(phase, fraction):
            kw["progress"](phase, fraction)
            with sessionmaker() as s:  # what a page polling the run reads
                seen.append(s.execute(sa.select(MatchRun.phase, MatchRun.progress)
                                      .where(MatchRun.id == run.id)).one())
        return real_solve(instance, time_limit_s=kw.get("time_limit_s"), progress=progress)

    monkeypatch.setattr(matching, "solve", observed_solve)
    assert execute(app, db, run) == "succeeded"
    phases = [phase for phase, _ in seen]
    assert phases[0] == "candidates" and "optimisation" in phases
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions) and 0.1 <= fractions[0] and fractions[-1] <= 0.85


def test_a_result_the_checker_refuses_is_never_stored(app, db, coordinator, landlord, association, monkeypatch):
    units, urgent, other, excluded = scenario(db, landlord, association)
    run = start(db, coordinator)
    real_solve = matching.solve

    def unsafe_solve(instance, **kw):
        result = real_solve(instance, **kw)
        # The worst bug: a household proposed a home inside her exclusion zone.
        first = result.proposals[0]
        bad = dataclasses.replace(first, household=excluded.public_id)
        return dataclasses.replace(result, proposals=(bad, *result.proposals[1:]))

    monkeypatch.setattr(matching, "solve", unsafe_solve)
    assert execute(app, db, run) == "failed"

    run = db.get(MatchRun, run.id)
    error = runs.run_error(run)
    assert run.status == "failed" and error.code == "refused_by_checker"
    assert "vérification indépendante" in error.message and "exclusion_zone" in error.message
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRunLock)) == 0
    assert actions(db, run.public_id) == ["run.start", "run.failed"]


def test_a_crash_while_storing_leaves_no_proposal_and_the_run_can_be_restarted(app, db, coordinator, landlord,
                                                                              association, monkeypatch):
    scenario(db, landlord, association)
    run = start(db, coordinator)
    real_insert = runs._insert_proposals

    def crash_half_way(session, rows):
        real_insert(session, rows[:1])
        raise OSError("disk full")

    monkeypatch.setattr(runs, "_insert_proposals", crash_half_way)
    assert execute(app, db, run) == "failed"
    run = db.get(MatchRun, run.id)
    assert run.status == "failed" and runs.run_error(run).code == "crashed"
    assert "disk full" in runs.run_error(run).message
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0

    monkeypatch.setattr(runs, "_insert_proposals", real_insert)
    runs.restart_run(db, run, actor=coordinator)
    assert (run.status, run.attempt, run.error) == ("queued", 2, None)
    assert execute(app, db, run) == "succeeded"
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) > 0


def test_only_a_failed_run_can_be_restarted(app, db, coordinator):
    run = start(db, coordinator)
    with pytest.raises(Conflict):
        runs.restart_run(db, run, actor=coordinator)


def test_a_run_whose_job_went_silent_is_marked_failed_and_its_old_job_cannot_store(app, db, coordinator, landlord,
                                                                                   association):
    scenario(db, landlord, association)
    run = start(db, coordinator)
    run.status, run.heartbeat_at = "running", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    fresh = start(db, coordinator, ["62"])

    stale = runs.fail_stale_runs(db, stale_after_s=600)

    assert stale == [run] and run.status == "failed" and runs.run_error(run).code == "silent"
    assert "relancez" in runs.run_error(run).message
    assert fresh.status == "queued"
    runs.restart_run(db, run, actor=coordinator)
    # The first job wakes up: its attempt is over, it does nothing.
    db.commit()
    assert runs.execute_run(app.extensions["db"].sessionmaker, run.id, 1) == "skipped"
    assert execute(app, db, run) == "succeeded"


# -- review and release ----------------------------------------------------------------------


@pytest.fixture
def reviewed(app, db, coordinator, landlord, association):
    units, urgent, other, excluded = scenario(db, landlord, association)
    run = start(db, coordinator)
    assert execute(app, db, run) == "succeeded"
    return db.get(MatchRun, run.id), units, urgent, other


def test_review_groups_alternates_under_their_unit(db, reviewed):
    run, units, urgent, other = reviewed
    page = runs.review_page(db, run)
    assert page.total == 2
    for item in page.items:
        assert item.first is not None and item.first.rank == 1
        assert [p.rank for p in item.alternates] == list(range(2, len(item.proposals) + 1))
        assert all(p.unit_id == item.unit.id for p in item.proposals)
    unmatched = runs.unmatched_page(db, run)
    assert [row.reason_labels for row in unmatched.items] == [["zone d'exclusion"]]


def test_drop_needs_a_reason_and_happens_once(db, reviewed, coordinator):
    run, *_ = reviewed
    proposal = db.scalars(sa.select(Proposal).where(Proposal.run_id == run.id)).first()
    with pytest.raises(ValidationError):
        runs.drop_proposal(db, run, proposal.public_id, "  ", actor=coordinator)
    runs.drop_proposal(db, run, proposal.public_id, "Quartier trop proche de la famille", actor=coordinator)
    assert (proposal.status, proposal.drop_reason) == ("dropped", "Quartier trop proche de la famille")
    with pytest.raises(Conflict):
        runs.drop_proposal(db, run, proposal.public_id, "encore", actor=coordinator)
    with pytest.raises(NotFound):
        runs.drop_proposal(db, run, "P-unknown", "raison", actor=coordinator)
    assert actions(db, proposal.public_id) == ["proposal.drop"]


def test_release_sends_reviewed_proposals_with_a_deadline(db, reviewed, coordinator):
    run, units, urgent, other = reviewed
    proposals = db.scalars(sa.select(Proposal).where(Proposal.run_id == run.id).order_by(Proposal.id)).all()
    runs.drop_proposal(db, run, proposals[-1].public_id, "Écartée pour le test", actor=coordinator)

    counts = runs.release_run(db, run, actor=coordinator, reply_days=10, on=dt.date(2026, 11, 23))
    db.expire_all()

    assert counts == {"released": len(proposals) - 1, "cancelled": 0}
    assert run.status == "released" and run.released_at is not None
    assert run.stats["release"] == counts
    statuses = [p.status for p in db.scalars(sa.select(Proposal).where(Proposal.run_id == run.id)
                                             .order_by(Proposal.id))]
    assert statuses == ["pending"] * (len(proposals) - 1) + ["dropped"]
    assert {p.deadline for p in proposals if p.status == "pending"} == {dt.date(2026, 12, 3)}
    assert {u.status for u in units} == {"proposed"}
    assert (urgent.status, other.status) == ("proposed", "proposed")
    assert actions(db, run.public_id)[-1] == "run.release"
    with pytest.raises(Conflict) as info:
        runs.release_run(db, run, actor=coordinator, reply_days=10)
    assert "déjà été diffusé" in str(info.value.message)


def test_a_unit_withdrawn_during_the_run_is_not_released(db, reviewed, coordinator):
    run, units, urgent, other = reviewed
    units[0].status = "withdrawn"
    db.flush()
    counts = runs.release_run(db, run, actor=coordinator, reply_days=10)
    db.expire_all()
    for p in db.scalars(sa.select(Proposal).where(Proposal.run_id == run.id)):
        assert p.status == ("cancelled" if p.unit_id == units[0].id else "pending")
        assert p.deadline is None if p.unit_id == units[0].id else p.deadline is not None
    assert counts["cancelled"] >= 1
    assert units[0].status == "withdrawn" and units[1].status == "proposed"


def test_a_household_withdrawn_during_the_run_is_not_sent_anything(db, reviewed, coordinator):
    run, units, urgent, other = reviewed
    urgent.status = "withdrawn"
    db.flush()
    runs.release_run(db, run, actor=coordinator, reply_days=10)
    db.expire_all()
    mine = db.scalars(sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.household_id == urgent.id))
    assert {p.status for p in mine} == {"cancelled"}
    assert urgent.status == "withdrawn"


def test_a_household_ranked_by_a_commission_is_not_sent_other_offers(db, reviewed, coordinator):
    run, units, urgent, other = reviewed
    elsewhere = factories.create_proposal(db, household=urgent, run=factories.create_run(db, departments=["80"]),
                                          status="commission_ranked", commission_rank=2)
    db.flush()
    runs.release_run(db, run, actor=coordinator, reply_days=10)
    db.expire_all()
    mine = db.scalars(sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.household_id == urgent.id))
    assert {p.status for p in mine} == {"cancelled"}
    assert elsewhere.status == "commission_ranked"


def test_a_run_not_finished_cannot_be_released_nor_reviewed(db, coordinator):
    run = start(db, coordinator)
    with pytest.raises(Conflict):
        runs.release_run(db, run, actor=coordinator, reply_days=10)


def test_only_the_newest_succeeded_run_of_a_territory_can_be_released(app, db, reviewed, coordinator):
    older, *_ = reviewed
    newer = start(db, coordinator, ["59", "62"])
    assert execute(app, db, newer) == "succeeded"
    with pytest.raises(Conflict) as info:
        runs.release_run(db, older, actor=coordinator, reply_days=10)
    assert newer.public_id in str(info.value.message)
    runs.release_run(db, db.get(MatchRun, newer.id), actor=coordinator, reply_days=10)


def test_units_and_households_of_a_released_run_are_not_in_the_next_one(app, db, reviewed, coordinator):
    run, units, urgent, other = reviewed
    runs.release_run(db, run, actor=coordinator, reply_days=10)
    nxt = start(db, coordinator)
    built = runs.build_instance(db, nxt, dt.date(2026, 11, 23))
    assert built.instance.units == () and {h.id for h in built.instance.households} == {
        h.public_id for h in db.scalars(sa.select(Household).where(Household.status == "active"))}
    assert db.scalar(sa.select(Unit.status).where(Unit.id == units[0].id)) == "proposed"


def test_unmatched_households_are_listed_most_urgent_first(app, db, coordinator, landlord, association):
    factories.create_unit(db, landlord=landlord, rooms=1, surface_m2=20.0)  # fits nobody of three
    by_urgency = {u: factories.create_household(db, association=association, urgency=u) for u in (1, 3, 0, 2)}
    run = start(db, coordinator)
    assert execute(app, db, run) == "succeeded"
    page = runs.unmatched_page(db, db.get(MatchRun, run.id), per_page=3)
    assert [row.public_id for row in page.items] == [by_urgency[u].public_id for u in (3, 2, 1)]
    assert page.total == 4 and page.pages == 2
    assert all(row.reason_labels == ["taille du logement"] for row in page.items)


def test_a_queued_run_waiting_behind_a_live_job_is_not_stale(app, db, coordinator):
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    working = start(db, coordinator, ["59"])
    working.status, working.heartbeat_at = "running", dt.datetime.now(dt.UTC)
    waiting = start(db, coordinator, ["62"])
    waiting.heartbeat_at = long_ago
    assert runs.fail_stale_runs(db, stale_after_s=600) == []
    working.heartbeat_at = long_ago  # the job died too: both are lost
    assert set(runs.fail_stale_runs(db, stale_after_s=600)) == {working, waiting}
