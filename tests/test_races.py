"""Double booking is impossible: twenty commissions at once, real commits, PostgreSQL.

Each thread is a separate API request on its own connection, all released together by a
barrier. Exactly one wins; every other one gets 409, and the database holds one promise.
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

from models import ApiToken, Decision, Proposal, Unit, utcnow
from tests import factories
from tests.helpers import app_on_scratch_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="row locks and concurrent commits need PostgreSQL (TEST_DATABASE_URL)"),
]

THREADS = 20


@pytest.fixture
def live_app(database_url: str, tmp_path: Any) -> Iterator[Any]:
    """An app on a database of its own, where each request commits for real."""
    with app_on_scratch_database(database_url, tmp_path) as app:
        yield app


def _setup(app: Any, candidates: int) -> tuple[str, list[str]]:
    """A unit with `candidates` household-accepted proposals; a landlord token."""
    engine = app.extensions["db"].engine
    with app.app_context(), so.Session(engine) as db:
        landlord = factories.create_organisation(db, "landlord")
        user = factories.create_user(db, "landlord", organisation=landlord)
        token = factories.create_token(db, user)
        # A token used a moment ago is not written again: the requests do not queue on its row.
        db.execute(sa.update(ApiToken).values(last_used_at=utcnow()))
        unit = factories.create_unit(db, landlord=landlord)
        ids = []
        # Three ranked candidates per run: twenty candidates come from seven runs.
        runs = [factories.create_run(db) for _ in range((candidates + 2) // 3)]
        for i in range(candidates):
            proposal = factories.create_proposal(db, unit=unit, run=runs[i // 3], rank=i % 3 + 1,
                                                 status="household_accepted")
            db.add(Decision(proposal=proposal, step="household", outcome="accept"))
            ids.append(proposal.public_id)
        db.commit()
    return token, ids


def _race(app: Any, token: str, targets: list[str]) -> Counter[int]:
    barrier = threading.Barrier(len(targets))

    def attempt(proposal_id: str) -> int:
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/proposals/{proposal_id}/decision",
                               headers={"Authorization": f"Bearer {token}"},
                               json={"decision": "accept", "rank": 1})
        return response.status_code

    with ThreadPoolExecutor(len(targets)) as pool:
        return Counter(pool.map(attempt, targets))


def _promised(app: Any) -> list[Proposal]:
    with so.Session(app.extensions["db"].engine) as db:
        return list(db.scalars(sa.select(Proposal).where(Proposal.status == "commission_accepted")))


def test_twenty_candidates_of_one_unit_accepted_at_once(live_app):
    token, ids = _setup(live_app, THREADS)
    outcome = _race(live_app, token, ids)
    assert outcome == Counter({200: 1, 409: THREADS - 1})
    promised = _promised(live_app)
    assert len(promised) == 1
    with so.Session(live_app.extensions["db"].engine) as db:
        statuses = Counter(db.scalars(sa.select(Proposal.status)))
        # The others keep waiting for the commission: it may rank them behind her.
        assert statuses == Counter({"commission_accepted": 1, "household_accepted": THREADS - 1})
        assert db.scalar(sa.select(sa.func.count()).select_from(Decision)
                         .where(Decision.step == "commission")) == 1
        assert db.scalar(sa.select(Unit.status)) == "proposed"


def test_twenty_accepts_of_the_same_candidate(live_app):
    token, ids = _setup(live_app, 3)
    outcome = _race(live_app, token, [ids[1]] * THREADS)
    assert outcome == Counter({200: 1, 409: THREADS - 1})
    assert [p.public_id for p in _promised(live_app)] == [ids[1]]
