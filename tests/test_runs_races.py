"""The same run submitted many times at once starts one job: real commits, PostgreSQL.

Each thread is a separate API request on its own connection, all released together by a
barrier. The queue is real (SQLite file, no consumer), so the jobs it holds can be counted.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from models import ApiToken, MatchRun, utcnow
from models.runs import MatchRunLock
from tests import factories
from tests.helpers import app_on_scratch_database
from web.jobs import get_jobs

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="concurrent commits and unique-index waits need PostgreSQL (TEST_DATABASE_URL)"),
]

THREADS = 10


@pytest.fixture
def live_app(database_url: str, tmp_path: Any) -> Iterator[Any]:
    """An app on a database of its own, each request committing for real, jobs left queued."""
    with app_on_scratch_database(database_url, tmp_path, JOBS_IMMEDIATE=False,
                                 JOBS_SQLITE_PATH=str(tmp_path / "jobs.sqlite")) as app:
        yield app


def _token(app: Any) -> str:
    with app.app_context(), so.Session(app.extensions["db"].engine) as db:
        org = factories.create_organisation(db, "coordinator", departments=["59", "62"])
        token = factories.create_token(db, factories.create_user(db, "coordinator", organisation=org))
        # A token used a moment ago is not written again: the requests do not queue on its row.
        db.execute(sa.update(ApiToken).values(last_used_at=utcnow()))
        db.commit()
    return token


def _race(app: Any, token: str, keys: list[str | None]) -> list[tuple[int, Any]]:
    barrier = threading.Barrier(len(keys))

    def attempt(key: str | None) -> tuple[int, Any]:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        barrier.wait()
        response = client.post("/api/v1/match-runs", headers=headers, json={"departments": ["59", "62"]})
        return response.status_code, response.json

    with ThreadPoolExecutor(len(keys)) as pool:
        return list(pool.map(attempt, keys))


def _runs(app: Any) -> list[MatchRun]:
    with so.Session(app.extensions["db"].engine) as db:
        return list(db.scalars(sa.select(MatchRun)))


def test_ten_submissions_with_the_same_key_start_one_job(live_app):
    token = _token(live_app)
    answers = _race(live_app, token, ["double-click"] * THREADS)
    assert Counter(code for code, _ in answers) == {202: THREADS}
    assert len({body["id"] for _, body in answers}) == 1
    assert len(_runs(live_app)) == 1
    assert get_jobs(live_app).pending_count() == 1


def test_ten_submissions_for_the_same_departments_start_one_job(live_app):
    token = _token(live_app)
    answers = _race(live_app, token, [f"key-{i}" for i in range(THREADS)])
    codes = Counter(code for code, _ in answers)
    assert codes == {202: 1, 409: THREADS - 1}, answers
    winner = next(body["id"] for code, body in answers if code == 202)
    for code, body in answers:
        if code == 409:
            assert winner in body["errors"]["departments"][0]
    assert [r.public_id for r in _runs(live_app)] == [winner]
    with so.Session(live_app.extensions["db"].engine) as db:
        assert sorted(db.scalars(sa.select(MatchRunLock.department))) == ["59", "62"]
    assert get_jobs(live_app).pending_count() == 1


def test_releasing_the_same_run_at_once_releases_it_once(live_app):
    token = _token(live_app)
    with live_app.app_context(), so.Session(live_app.extensions["db"].engine) as db:
        run = factories.create_run(db, status="succeeded", released_at=None, departments=["59"])
        factories.create_proposal(db, run=run, status="review")
        db.commit()
        run_id = run.public_id
    barrier = threading.Barrier(THREADS)

    def attempt(_: int) -> int:
        client = live_app.test_client()
        barrier.wait()
        return client.post(f"/api/v1/match-runs/{run_id}/release",
                           headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        codes = Counter(pool.map(attempt, range(THREADS)))
    assert codes == {200: 1, 409: THREADS - 1}
