"""The job in other processes: `passerelle worker` on a shared Redis queue, and a job killed mid-store.

Real processes, real commits, a database of their own (SQLite by default, PostgreSQL with
TEST_DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

import models
from models import MatchRun, Proposal, utcnow
from models.runs import MatchRunLock
from services import runs
from tests import factories
from tests.conftest import DATA_KEY, make_config
from tests.helpers import scratch_database
from tests.services.test_jobs import REDIS_URL, _redis_available
from web import create_app

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture
def database(database_url: str, tmp_path: Path) -> Iterator[str]:
    with scratch_database(database_url, tmp_path) as url:
        engine = sa.create_engine(url)
        models.Base.metadata.create_all(engine)
        engine.dispose()
        yield url


def _env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PASSERELLE", "REDIS", "DATABASE"))}
    env.update(DATABASE_URL=url, SECRET_KEY="test-secret-key", PASSERELLE_DATA_KEY=DATA_KEY,
               PASSERELLE_INSTANCE_PATH=str(tmp_path), **extra)
    return env


def _app(url: str, tmp_path: Path, **config: Any) -> Any:
    app = create_app(make_config(url, **{"JOBS_IMMEDIATE": False, **config}))
    app.instance_path = str(tmp_path)
    return app


def _scenario(app: Any) -> tuple[models.User, str]:
    with app.app_context(), so.Session(app.extensions["db"].engine, expire_on_commit=False) as db:
        org = factories.create_organisation(db, "coordinator", departments=["59"])
        user = factories.create_user(db, "coordinator", organisation=org)
        token = factories.create_token(db, user)
        landlord = factories.create_organisation(db, "landlord")
        association = factories.create_organisation(db, "association")
        for rooms in (2, 3, 4):
            factories.create_unit(db, landlord=landlord, rooms=rooms, surface_m2=20.0 * rooms)
        for urgency in (3, 2, 1, 0):
            factories.create_household(db, association=association, urgency=urgency)
        db.commit()
        return user, token


@pytest.mark.skipif(not _redis_available(), reason="Redis is not running on 127.0.0.1:6379")
def test_passerelle_worker_runs_the_jobs_of_a_shared_queue(database, tmp_path):
    queue = f"passerelle-test-{secrets.token_hex(4)}"
    app = _app(database, tmp_path, REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=queue)
    _user, token = _scenario(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    run = client.post("/api/v1/match-runs", json={"departments": ["59"]}, headers=headers).json
    assert run["status"] == "queued"

    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "passerelle"), "worker", "--workers", "1"], cwd=ROOT,
        env=_env(database, tmp_path, REDIS_URL=REDIS_URL, PASSERELLE_JOBS_QUEUE_NAME=queue),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            body = client.get(f"/api/v1/match-runs/{run['id']}", headers=headers).json
            if body["status"] not in ("queued", "running"):
                break
            time.sleep(0.2)
        assert body["status"] == "succeeded", body
        assert body["stats"]["matched"] == 3
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        app.extensions["jobs"].huey.storage.flush_all()
        app.extensions["db"].dispose()
    assert worker.returncode == 0, output


KILLER = """
import os, sys
from services import runs
from web import create_app

app = create_app()
real_insert = runs._insert_proposals

def die_half_way(session, rows):
    real_insert(session, rows[: max(1, len(rows) // 2)])
    session.flush()
    os._exit(9)  # the power goes out: no rollback, no goodbye

runs._insert_proposals = die_half_way
with app.app_context():
    runs.execute_run(app.extensions["db"].sessionmaker, int(sys.argv[1]), int(sys.argv[2]),
                     runs.RunSettings(heartbeat_s=0))
"""


def test_a_job_killed_while_storing_leaves_nothing_and_the_run_restarts(database, tmp_path):
    app = _app(database, tmp_path)
    user, _token = _scenario(app)
    engine = app.extensions["db"].engine
    with app.app_context(), so.Session(engine, expire_on_commit=False) as db:
        run, _ = runs.start_run(db, actor=db.merge(user), departments=["59"])
        db.commit()
        run_id, attempt = run.id, run.attempt

    killed = subprocess.run([sys.executable, "-c", KILLER, str(run_id), str(attempt)], cwd=ROOT,
                            env=_env(database, tmp_path), capture_output=True, text=True, timeout=300)
    assert killed.returncode == 9, killed.stdout + killed.stderr

    with app.app_context(), so.Session(engine, expire_on_commit=False) as db:
        run = db.get(MatchRun, run_id)
        assert run.status == "running" and run.phase == "storing"
        assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(MatchRunLock)) == 1
        # Nobody hears from the job any more: the run is failed, its department freed.
        assert runs.fail_stale_runs(db, 60) == []
        assert runs.fail_stale_runs(db, 60, now=utcnow() + dt.timedelta(minutes=2)) == [run]
        assert db.scalar(sa.select(sa.func.count()).select_from(MatchRunLock)) == 0
        runs.restart_run(db, run, actor=db.merge(user))
        db.commit()
        assert runs.execute_run(app.extensions["db"].sessionmaker, run.id, run.attempt,
                                runs.RunSettings(heartbeat_s=0)) == "succeeded"
        db.expire_all()
        assert run.status == "succeeded" and run.attempt == 2
        stored = db.scalar(sa.select(sa.func.count()).select_from(Proposal))
        assert stored == run.stats["proposals"] > 0
    app.extensions["db"].dispose()
