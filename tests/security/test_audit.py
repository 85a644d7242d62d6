"""The audit trail: one row per action, no personal data, a hash chain that reveals edits."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import CliRunner

import models
from models import AuditEvent
from services import accounts, audit
from tests import factories
from tests.helpers import scratch_database
from web.cli import main


def _write_events(engine: sa.Engine, n: int) -> list[int]:
    with so.Session(engine) as session:
        user = factories.create_user(session, role="association")
        for i in range(n):
            audit.record(session, "household.read_sensitive", actor=user, object_type="household",
                         object_id=f"H-test{i}")
        session.commit()
        return list(session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))


def test_verify_says_intact_then_names_an_edited_row(cli_db):
    ids = _write_events(cli_db, 6)
    r = CliRunner().invoke(main, ["audit", "verify"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"Journal d'audit intact : {len(ids)} ligne(s)")
    # Someone rewrites history: who read that household.
    victim = ids[3]
    with cli_db.begin() as conn:
        conn.execute(sa.update(AuditEvent).where(AuditEvent.id == victim).values(object_id="H-other"))
    r = CliRunner().invoke(main, ["audit", "verify"])
    assert r.exit_code == 1
    assert f"ROMPU à partir du n° {victim}" in r.stderr
    assert r.stdout.startswith(f"n° {victim} : cette ligne ne découle pas de la précédente")


def test_verify_detects_a_deleted_row(cli_db):
    ids = _write_events(cli_db, 5)
    with cli_db.begin() as conn:
        conn.execute(sa.delete(AuditEvent).where(AuditEvent.id == ids[2]))
    r = CliRunner().invoke(main, ["audit", "verify"])
    assert r.exit_code == 1
    assert r.stdout.startswith(f"n° {ids[3]} : ")


def test_verify_detects_a_recomputed_row_hash(cli_db):
    """Recomputing an edited row's own seal, even with the key, is not enough: the next row no
    longer follows."""
    ids = _write_events(cli_db, 4)
    with so.Session(cli_db) as session:
        event = session.get(AuditEvent, ids[1])
        event.outcome = "failure"
        event.hash = audit._digest(event.prev_hash, event, audit._sealing_key()[1])
        session.commit()
    r = CliRunner().invoke(main, ["audit", "verify"])
    assert r.exit_code == 1 and r.stdout.startswith(f"n° {ids[2]} : ")


def test_events_hold_no_personal_data(db):
    association = factories.create_organisation(db, "association")
    user = factories.create_user(db, role="association", organisation=association)
    household = factories.create_household(db, association=association, reference="CANARY-REF-AUDIT",
                                           notes="CANARY-NOTE-AUDIT")
    audit.record(db, "household.read_sensitive", actor=user, object_type="household",
                 object_id=household.public_id)
    db.commit()
    row = db.execute(sa.select(AuditEvent.__table__).where(
        AuditEvent.action == "household.read_sensitive")).one()._asdict()
    text = " ".join(str(v) for v in row.values())
    assert "CANARY" not in text and user.email not in text
    assert row["object_id"] == household.public_id and row["actor_role"] == "association"
    assert set(row) == {"id", "at", "actor_id", "actor_ref", "actor_role", "organisation_id", "organisation_ref",
                        "action", "object_type", "object_id", "request_id", "outcome", "key_id", "prev_hash",
                        "hash"}


def test_each_event_names_its_request(client, db, login_as):
    user = login_as("landlord")
    client.get("/bailleur/", headers={"X-Request-ID": "req-abcdef123"})
    client.post("/compte/mot-de-passe", headers={"X-Request-ID": "req-password-42"},
                data={"current_password": "wrong wrong wrong", "password": "a new passphrase!", "confirm": "x"})
    new = "a brand new passphrase 42"
    client.post("/compte/mot-de-passe", headers={"X-Request-ID": "req-password-43"},
                data={"current_password": factories.PASSWORD, "password": new, "confirm": new})
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.password_change")).one()
    assert event.request_id == "req-password-43" and event.actor_id == user.id
    assert event.object_id == str(user.id) and event.outcome == "success"


@pytest.mark.postgres
def test_concurrent_writers_keep_one_chain(database_url, tmp_path):
    """Many transactions writing at once on PostgreSQL: the chain has no fork."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    with scratch_database(database_url, tmp_path) as url:
        engine = sa.create_engine(url, pool_size=10)
        try:
            _race(engine)
        finally:
            engine.dispose()


def _race(engine: sa.Engine) -> None:
    """Eight threads, fifteen events each, all at once; then the chain must be whole."""
    models.Base.metadata.create_all(engine)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(15):
                with so.Session(engine) as session:
                    audit.record(session, "test.concurrent", object_type="thread", object_id=f"{n}-{i}")
                    # Widen the window between reading the last hash and committing.
                    session.execute(sa.text("SELECT pg_sleep(0.002)"))
                    session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with so.Session(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 120
        assert audit.verify(session) == []
        prevs = list(session.scalars(sa.select(AuditEvent.prev_hash)))
        assert len(set(prevs)) == len(prevs)  # nobody chained to the same predecessor


def test_search_filters(db):
    a = factories.create_user(db, role="association")
    b = factories.create_user(db, role="landlord")
    for i in range(3):
        audit.record(db, "household.read_sensitive", actor=a, object_type="household", object_id=f"H-s{i}")
    audit.record(db, "unit.publish", actor=b, object_type="unit", object_id="U-s1")
    audit.record(db, "login", actor=b, object_type="user", object_id=str(b.id), outcome="failure")
    assert audit.search(db, action="household.").total == 0  # written when the caller commits
    db.commit()
    assert audit.search(db, action="household.").total == 3
    assert audit.search(db, actor_email=b.email.upper()).total == 2
    assert [e.object_id for e, _ in audit.search(db, object_id="U-s1").items] == ["U-s1"]
    assert audit.search(db, outcome="failure", actor_email=b.email).total == 1
    page = audit.search(db, actor_email=a.email, per_page=2, page=2)
    assert page.total == 3 and len(page.items) == 1 and page.pages == 2
    event, email = audit.search(db, actor_email=a.email).items[0]
    assert email == a.email and event.object_id == "H-s2"  # newest first
    accounts.set_active(db, b, False, actor=a)
    db.commit()
    assert audit.search(db, action="user.disable").items[0][0].object_id == str(b.id)


def test_events_are_written_at_commit_and_forgotten_on_rollback(db):
    user = factories.create_user(db, role="association")
    db.commit()

    def actions() -> list[str]:
        return list(db.scalars(sa.select(AuditEvent.object_id).where(AuditEvent.action.startswith("test."))
                               .order_by(AuditEvent.id)))

    audit.record(db, "test.kept", actor=user, object_type="thing", object_id="kept-1")
    with pytest.raises(RuntimeError), db.begin_nested():
        audit.record(db, "test.undone", actor=user, object_type="thing", object_id="undone")
        raise RuntimeError("the savepoint is rolled back")
    audit.record(db, "test.kept", actor=user, object_type="thing", object_id="kept-2")
    db.commit()
    assert actions() == ["kept-1", "kept-2"]
    audit.record(db, "test.lost", actor=user, object_type="thing", object_id="lost")
    db.rollback()
    db.commit()
    assert actions() == ["kept-1", "kept-2"]
    assert audit.verify(db) == []


@pytest.mark.postgres
def test_an_open_transaction_does_not_hold_the_chain(database_url, tmp_path):
    """A request that recorded an event and is still working does not make every other
    audited write wait for it: the chain is locked only while committing."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL on PostgreSQL")
    with scratch_database(database_url, tmp_path) as url:
        engine = sa.create_engine(url, connect_args={"options": "-c lock_timeout=2000"})
        try:
            models.Base.metadata.create_all(engine)
            with so.Session(engine) as slow, so.Session(engine) as quick:
                audit.record(slow, "test.slow", object_type="thing", object_id="slow")
                slow.execute(sa.text("SELECT 1"))  # its transaction is open and stays open
                audit.record(quick, "test.quick", object_type="thing", object_id="quick")
                quick.commit()  # would fail on lock_timeout if the slow one held the chain
                slow.commit()
            with so.Session(engine) as session:
                assert list(session.scalars(sa.select(AuditEvent.object_id).order_by(AuditEvent.id))) == [
                    "quick", "slow"]
                assert audit.verify(session) == []
        finally:
            engine.dispose()
