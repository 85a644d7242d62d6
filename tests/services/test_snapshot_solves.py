"""The committee's snapshot solves run in a worker: one solve per question, a stored answer no
richer than the page, a failure kept visible, a lost worker's solve given up."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

from models import AuditEvent, SnapshotSolve, utcnow
from services import runs, snapshot_solves, stats, whatif
from tests.services.test_whatif import AS_OF, market  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("_today")


@pytest.fixture
def _today(monkeypatch):
    monkeypatch.setattr(runs, "today", lambda: AS_OF)


@pytest.fixture
def sessions(connection):
    return so.sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


def _no_locale(_locale):
    return contextlib.nullcontext()


def test_a_solve_stores_the_page_s_tables_and_no_hidden_value(db, sessions, market):  # noqa: F811
    solve, new = snapshot_solves.request(db, "needs", ["59"], {}, locale="fr", actor=market["committee"])
    db.commit()
    assert new and solve.status == "queued"
    snapshot_solves.execute(sessions, solve.id, _no_locale)
    db.expire_all()
    answer = snapshot_solves.load(db.get(SnapshotSolve, solve.id))
    direct = whatif.unmet_needs(db, ["59"], as_of=AS_OF)
    for stored, computed in ((answer.needs.households, direct.households), (answer.needs.offer, direct.offer)):
        assert [[stats.display(c) for c in r.cells] for r in stored.rows] == \
            [[stats.display(c) for c in r.cells] for r in computed.rows]
    # Two households of 3 wait: shown "< 5", and the stored answer does not hold the 2.
    hidden = [c for t in ("households", "offer") for r in db.get(SnapshotSolve, solve.id).result[t]["rows"]
              for c in r["cells"] if c["status"] != stats.SHOWN]
    assert hidden and all(c["value"] is None for c in hidden)


def test_the_same_question_joins_the_solve_under_way_or_reuses_a_fresh_answer(db, sessions, market):  # noqa: F811
    first, new = snapshot_solves.request(db, "needs", ["59"], {}, locale="fr", actor=market["committee"])
    second, again = snapshot_solves.request(db, "needs", ["59"], {}, locale="fr", actor=market["committee"])
    assert new and not again and second.id == first.id
    other, other_new = snapshot_solves.request(db, "needs", ["59"], {}, locale="en", actor=market["committee"])
    assert other_new and other.id != first.id  # another language is another answer
    db.commit()
    snapshot_solves.execute(sessions, first.id, _no_locale)
    db.expire_all()
    reused, new = snapshot_solves.request(db, "needs", ["59"], {}, locale="fr", actor=market["committee"])
    assert not new and reused.id == first.id and reused.status == "done"
    forced, new = snapshot_solves.request(db, "needs", ["59"], {}, locale="fr", actor=market["committee"],
                                          force=True)
    assert new and forced.id != first.id
    db.commit()
    asks = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "committee.needs"))
    assert asks == 5  # every ask is in the trail, answered from the store or not


def test_an_old_answer_is_computed_again_and_a_lost_solve_is_given_up(db, market):  # noqa: F811
    old = utcnow() - snapshot_solves.FRESH_FOR - dt.timedelta(minutes=1)
    key = snapshot_solves.key_for("needs", ["59"], {}, "fr")
    db.add(SnapshotSolve(kind="needs", key=key, departments="59", params={}, locale="fr", status="done",
                         result={"stale": True}, created_at=old, finished_at=old))
    lost = utcnow() - snapshot_solves.GIVE_UP_AFTER - dt.timedelta(minutes=1)
    db.add(SnapshotSolve(kind="needs", key=key, departments="59", params={}, locale="fr", status="running",
                         created_at=lost, started_at=lost))
    db.flush()
    assert snapshot_solves.current(db, key) is None
    _solve, new = snapshot_solves.request(db, "needs", ["59"], {}, locale="fr", actor=market["committee"])
    assert new


def test_a_failing_solve_is_marked_failed_with_its_error(db, sessions, market, monkeypatch):  # noqa: F811
    solve, _new = snapshot_solves.request(db, "whatif", ["59"], {"max_effort_rate": 0.35}, locale="fr",
                                          actor=market["committee"])
    db.commit()

    def broken(*_args, **_kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(whatif, "what_if", broken)
    with pytest.raises(RuntimeError):
        snapshot_solves.execute(sessions, solve.id, _no_locale)
    db.expire_all()
    stored = db.get(SnapshotSolve, solve.id)
    assert stored.status == "failed" and "solver crashed" in stored.error
    assert not snapshot_solves.load(stored).pending


def test_a_solve_already_taken_is_not_run_twice(db, sessions, market, monkeypatch):  # noqa: F811
    solve, _new = snapshot_solves.request(db, "needs", ["59"], {}, locale="fr", actor=market["committee"])
    solve.status = "running"
    db.commit()
    calls = []
    monkeypatch.setattr(whatif, "unmet_needs", lambda *a, **k: calls.append(a))
    snapshot_solves.execute(sessions, solve.id, _no_locale)
    assert calls == []
