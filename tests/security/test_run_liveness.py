"""Finding 7: a dead worker's run, and a queue that is down, never block a territory.

- a running run whose heartbeat stopped (its worker was killed) is failed by the next start
  of one of its departments, not ten minutes later by the sweep;
- a queued run whose job is in no queue (a worker took it and died) is failed the same way;
  one whose job waits in the queue is left alone;
- the job is queued only after the commit; if the queue refuses it (Redis down: a closed
  port), the start answers 503 with words a coordinator understands, and the run is
  failed with its departments freed (no orphan holding the lock).
"""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from models import MatchRun, utcnow
from models.runs import MatchRunLock
from services import on_commit
from tests import factories
from tests.services.test_jobs import REDIS_URL, _redis_available
from tests.web.api.test_runs_api import Caller
from web import jobs as web_jobs


@pytest.fixture
def coordinator(client, db):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "coordinator", departments=["59", "62"])
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    factories.create_unit(db, landlord=landlord)
    factories.create_household(db, association=association)
    return Caller(client, db, factories.create_user(db, "coordinator", organisation=org))


def _active_run(db, status, beat_ago_s, departments=("59",)):  # type: ignore[no-untyped-def]
    """A run holding its departments, whose job last gave news `beat_ago_s` seconds ago."""
    at = utcnow() - dt.timedelta(seconds=beat_ago_s)
    run = factories.create_run(db, departments=list(departments), status=status, phase=status,
                               released_at=None, heartbeat_at=at, created_at=at)
    for code in departments:
        db.add(MatchRunLock(department=code, run_id=run.id))
    db.commit()
    return run


def _queue_elsewhere(app, redis_url=None):  # type: ignore[no-untyped-def]
    """Jobs really queued (not run at once), on a queue file or on Redis."""
    app.config["JOBS_IMMEDIATE"] = False
    app.config["JOBS_SQLITE_PATH"] = app.instance_path + "/jobs.sqlite"
    app.config["REDIS_URL"] = redis_url
    app.config["JOBS_QUEUE_NAME"] = f"passerelle-test-{secrets.token_hex(4)}"
    app.extensions.pop("jobs", None)


def test_a_run_whose_worker_died_is_failed_by_the_next_start(coordinator, db):
    dead = _active_run(db, "running", beat_ago_s=120)  # 8 missed beats of 15 s
    r = coordinator.post("/match-runs", json={"departments": ["59"]})
    assert r.status_code == 202, r.json
    db.refresh(dead)
    assert dead.status == "failed"
    body = coordinator.get(f"/match-runs/{dead.public_id}").json
    assert body["error_code"] == "dead" and "relancez-le" in body["error"]
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRunLock)
                     .where(MatchRunLock.run_id == dead.id)) == 0


def test_a_run_at_work_is_not_taken_for_dead(coordinator, db):
    alive = _active_run(db, "running", beat_ago_s=5)
    r = coordinator.post("/match-runs", json={"departments": ["59", "62"]})
    assert r.status_code == 409 and alive.public_id in str(r.json)
    db.refresh(alive)
    assert alive.status == "running"


def test_a_queued_run_without_a_job_is_failed_one_with_its_job_waits(coordinator, db, app):
    _queue_elsewhere(app)
    waiting = coordinator.post("/match-runs", json={"departments": ["59"]}).json
    run = db.scalar(sa.select(MatchRun).where(MatchRun.public_id == waiting["id"]))
    long_ago = utcnow() - dt.timedelta(minutes=5)
    run.created_at = run.heartbeat_at = long_ago
    db.commit()
    # Its job is in the queue, behind others: it waits its turn.
    assert coordinator.post("/match-runs", json={"departments": ["59"]}).status_code == 409
    # The worker took the job and died before claiming it: nothing will ever start the run.
    web_jobs.get_jobs(app).huey.flush()
    r = coordinator.post("/match-runs", json={"departments": ["59"]})
    assert r.status_code == 202, r.json
    db.refresh(run)
    assert run.status == "failed" and coordinator.get(f"/match-runs/{run.public_id}").json["error_code"] == "dead"


def test_with_the_queue_down_a_start_answers_503_and_leaves_no_orphan(coordinator, db, app, client,
                                                                       login_as):
    # Nobody listens on this port: Redis is down.
    _queue_elsewhere(app, redis_url="redis://127.0.0.1:9/0")
    r = coordinator.post("/match-runs", json={"departments": ["59"]})
    assert r.status_code == 503
    assert "file des tâches" in str(r.json["errors"]) and "rien n'a été lancé" in str(r.json["errors"])
    run = db.scalar(sa.select(MatchRun))
    db.refresh(run)
    assert run.status == "failed"
    assert coordinator.get(f"/match-runs/{run.public_id}").json["error_code"] == "not_queued"
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRunLock)) == 0

    # The page says the same, in a page.
    login_as(coordinator.user)
    page = client.post("/coordination/rapprochements", data={
        "departments": "59", "max_effort_rate": "30", "candidates_per_unit": "3",
        "horizon_days": "90", "idempotency_key": "page-key"})
    assert page.status_code == 503 and "file des tâches" in page.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRunLock)) == 0

    if not _redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379: the recovery half is not checked")
    # Redis back: the territory is free, the next start is queued on it.
    _queue_elsewhere(app, redis_url=REDIS_URL)
    try:
        again = coordinator.post("/match-runs", json={"departments": ["59"]})
        assert again.status_code == 202 and again.json["status"] == "queued"
        assert web_jobs.get_jobs(app).pending_count() == 1
    finally:
        web_jobs.get_jobs(app).huey.storage.flush_all()


def test_a_rolled_back_request_queues_nothing(db):
    ran: list[int] = []
    on_commit.on_commit(db, lambda: ran.append(1))
    with db.begin_nested():
        pass  # a savepoint released is not the commit
    db.rollback()
    on_commit.run_committed(db)
    on_commit.on_commit(db, lambda: ran.append(2))
    assert ran == [] and on_commit.has_pending(db)
    db.commit()
    on_commit.run_committed(db)
    assert ran == [2]
