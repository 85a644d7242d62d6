"""The real job queue, end to end: a run queued by the API, taken by a consumer, followed by polling.

The `app` fixture runs jobs immediately; here nothing is faked: SqliteHuey (the embedded
default) and RedisHuey (REDIS_URL) with a consumer in threads, a database with real commits.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

import matching
import models
from models import MatchRun, Proposal
from tests import factories
from tests.conftest import make_config
from tests.helpers import scratch_database
from web import create_app
from web import jobs as web_jobs

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "not available here"
        return False


@pytest.fixture
def make_live_app(database_url: str, tmp_path: Any) -> Iterator[Any]:
    """Build apps on a database of their own (real commits), with a real queue."""
    made: list[Any] = []
    with scratch_database(database_url, tmp_path) as url:
        engine = sa.create_engine(url)
        models.Base.metadata.create_all(engine)
        engine.dispose()

        def make(**config: Any) -> Any:
            settings = {"JOBS_IMMEDIATE": False, "RUN_HEARTBEAT_SECONDS": 0.2,
                        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite"), **config}
            app = create_app(make_config(url, **settings))
            app.instance_path = str(tmp_path)
            made.append(app)
            return app

        yield make
        for app in made:
            app.extensions["db"].dispose()


def _setup(app: Any) -> str:
    """A coordinator's token, two units and three households in the Nord."""
    with app.app_context(), so.Session(app.extensions["db"].engine) as db:
        org = factories.create_organisation(db, "coordinator", departments=["59"])
        token = factories.create_token(db, factories.create_user(db, "coordinator", organisation=org))
        landlord = factories.create_organisation(db, "landlord")
        association = factories.create_organisation(db, "association")
        factories.create_unit(db, landlord=landlord)
        factories.create_unit(db, landlord=landlord, rooms=2, surface_m2=45.0, rent=350)
        for urgency in (3, 2, 1):
            factories.create_household(db, association=association, urgency=urgency)
        db.commit()
    return token


def _follow(client: Any, token: str, run_id: str, timeout: float = 60) -> list[dict[str, Any]]:
    """Poll the run as a page would, until it is over; every answer seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/match-runs/{run_id}", headers={"Authorization": f"Bearer {token}"}).json
        seen.append(body)
        if body["status"] not in ("queued", "running"):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"run still {seen[-1]['status']} after {timeout}s")


def _start(client: Any, token: str) -> dict[str, Any]:
    r = client.post("/api/v1/match-runs", json={"departments": ["59"]},
                    headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 202, r.json
    return r.json


def test_the_embedded_queue_runs_a_job_in_a_consumer_thread(make_live_app, monkeypatch):
    app = make_live_app()
    token = _setup(app)
    client = app.test_client()
    real_solve = matching.solve

    def slow_solve(instance, **kw):  # type: ignore[no-untyped-def]
        # Slow enough for the pages to see the run at work, phase by phase.
        def progress(phase, fraction):  # type: ignore[no-untyped-def]
            kw["progress"](phase, fraction)
            time.sleep(0.1)
        return real_solve(instance, time_limit_s=None, progress=progress)

    monkeypatch.setattr(matching, "solve", slow_solve)
    run = _start(client, token)
    assert run["status"] == "queued"
    assert web_jobs.get_jobs(app).pending_count() == 1

    consumer = web_jobs.start_embedded_consumer(app)
    assert consumer is not None
    try:
        seen = _follow(client, token, run["id"])
    finally:
        web_jobs.stop_consumer(consumer)

    assert seen[-1]["status"] == "succeeded" and seen[-1]["progress"] == 1.0
    running = [s for s in seen if s["status"] == "running"]
    assert running, "the run was never seen at work"
    assert {"Calcul des paires possibles", "Optimisation"} & {s["phase_label"] for s in running}
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)
    with so.Session(app.extensions["db"].engine) as db:
        run_row = db.scalar(sa.select(MatchRun))
        assert run_row.heartbeat_at is not None and run_row.started_at is not None
        assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) > 0
    # No match job left (the consumer's scheduler may have queued its housekeeping meanwhile).
    assert [t.name for t in web_jobs.get_jobs(app).huey.pending() if t.name == "run_match"] == []


@pytest.mark.skipif(not _redis_available(), reason="Redis is not running on 127.0.0.1:6379")
def test_with_redis_url_the_shared_queue_is_redis(make_live_app):
    queue = f"passerelle-test-{secrets.token_hex(4)}"
    app = make_live_app(REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=queue)
    assert type(web_jobs.get_jobs(app).huey).__name__ == "RedisHuey"
    # `serve` does not consume a shared queue: `passerelle worker` does.
    assert web_jobs.start_embedded_consumer(app) is None
    token = _setup(app)
    client = app.test_client()
    run = _start(client, token)
    assert run["status"] == "queued"

    # A worker elsewhere: another app object on the same settings, as `passerelle worker` builds.
    worker_app = make_live_app(REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=queue)
    consumer = web_jobs.start_consumer(worker_app, workers=1)
    try:
        seen = _follow(client, token, run["id"])
    finally:
        web_jobs.stop_consumer(consumer)
        web_jobs.get_jobs(app).huey.storage.flush_all()
    assert seen[-1]["status"] == "succeeded"


def test_the_queue_is_chosen_from_the_settings(make_live_app, tmp_path):
    embedded = make_live_app()
    assert type(web_jobs.get_jobs(embedded).huey).__name__ == "SqliteHuey"
    immediate = make_live_app(JOBS_IMMEDIATE=True)
    assert web_jobs.get_jobs(immediate).huey.immediate
    assert web_jobs.start_embedded_consumer(immediate) is None
