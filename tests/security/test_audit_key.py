"""The audit chain is keyed and its head anchored outside the database (issue 13, finding 10).

A writer with access to the database but not PASSERELLE_AUDIT_KEY deleted 1,085 rows and
recomputed 46,513 SHA-256 hashes, and `passerelle audit verify` said "intact". Now each hash is
an HMAC under a key kept apart from the database, and a periodic job logs the signed head, so
cutting the tail is seen against the log.
"""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import CliRunner

from models import AuditEvent, User
from services import audit
from tests import factories
from web import config
from web.cli import main
from web.jobs import AUDIT_LOGGER, get_jobs

DEV_KEY = config.DEFAULTS["DEVELOPMENT_AUDIT_KEY"]


@pytest.fixture(autouse=True)
def _restore_key():  # type: ignore[no-untyped-def]
    """The development key, as a test app has it (another test's app may have set its own), given
    back after tests that change it."""
    audit.configure(DEV_KEY)
    yield
    audit.configure(DEV_KEY)


def _write_events(engine: sa.Engine, n: int) -> list[int]:
    with so.Session(engine) as session:
        user = factories.create_user(session, role="association")
        for i in range(n):
            audit.record(session, "household.read_sensitive", actor=user, object_type="household",
                         object_id=f"H-key{i}")
        session.commit()
        return list(session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))


def _sha256_chain(engine: sa.Engine, *, drop_key_ids: bool) -> None:
    """What the attacker did: recompute every hash from the first row with plain SHA-256.

    She has read the code, so she hashes the same fields in the same order; what she lacks is
    the key. `drop_key_ids`: she also blanks the key ids, to pass the rows off as written
    before the key (sealed by plain SHA-256).
    """
    with engine.begin() as conn:
        rows = conn.execute(sa.select(AuditEvent.__table__).order_by(AuditEvent.id)).mappings().all()
        prev = None
        for row in rows:
            key_id = None if drop_key_ids else row["key_id"]
            fields = [prev, row["at"].replace(tzinfo=None).isoformat() + "+00:00", row["actor_ref"],
                      row["actor_role"], row["organisation_ref"], row["action"], row["object_type"],
                      row["object_id"], row["request_id"], row["outcome"]]
            if drop_key_ids:
                fields[2] = int(row["actor_ref"]) if row["actor_ref"] else None
                fields[4] = int(row["organisation_ref"]) if row["organisation_ref"] else None
            else:
                fields.append(key_id)
            digest = hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()
            conn.execute(sa.update(AuditEvent).where(AuditEvent.id == row["id"])
                         .values(prev_hash=prev, hash=digest, key_id=key_id))
            prev = digest


def _verify(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["audit", "verify", *args])


@pytest.mark.parametrize("drop_key_ids", [False, True], ids=["same-fields", "passed-off-as-legacy"])
def test_a_writer_without_the_key_who_deletes_rows_and_recomputes_the_hashes_is_caught(cli_db, drop_key_ids):
    ids = _write_events(cli_db, 8)
    assert _verify().exit_code == 0
    with cli_db.begin() as conn:
        conn.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_(ids[2:4])))
    _sha256_chain(cli_db, drop_key_ids=drop_key_ids)
    r = _verify()
    assert r.exit_code == 1, r.output
    # The first row of the trail is already wrong: none of the rebuilt chain holds.
    assert f"ROMPU à partir du n° {ids[0]}" in r.stderr


def test_the_legitimate_chain_is_an_hmac_under_the_configured_key(db):
    """The hash cannot be recomputed from the row alone: it is HMAC-SHA256 under the key."""
    import hmac

    audit.record(db, "test.keyed", object_type="thing", object_id="k-1")
    db.commit()
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.object_id == "k-1")).one()
    assert event.key_id == audit.key_id(DEV_KEY.encode())
    expected = hmac.new(DEV_KEY.encode(), audit._payload(event.prev_hash, event), hashlib.sha256).hexdigest()
    assert event.hash == expected
    assert event.hash != hashlib.sha256(audit._payload(event.prev_hash, event)).hexdigest()


def test_cutting_the_tail_is_caught_against_a_logged_checkpoint(cli_db, tmp_path):
    ids = _write_events(cli_db, 6)
    with so.Session(cli_db) as session:
        line = audit.checkpoint(session).line()
    log = tmp_path / "app.log"
    # As web.logging writes it: one JSON object per line, among other lines.
    log.write_text(json.dumps({"level": "INFO", "message": "3 proposal(s) expired"}) + "\n"
                   + json.dumps({"level": "INFO", "logger": AUDIT_LOGGER, "message": line}) + "\n")
    r = _verify("--checkpoints", str(log))
    assert r.exit_code == 0, r.output
    assert "1 point(s) de contrôle concordant(s)" in r.stdout
    # Without the key nothing can be rewritten, but the last rows can simply be deleted.
    with cli_db.begin() as conn:
        conn.execute(sa.delete(AuditEvent).where(AuditEvent.id.in_(ids[4:])))
    assert _verify().exit_code == 0  # the chain alone cannot tell: that is what the checkpoint is for
    r = _verify("--checkpoints", str(log))
    assert r.exit_code == 1
    assert f"ROMPU à partir du n° {ids[4]}" in r.stderr
    assert f"n° {ids[4]} : les lignes à partir de celle-ci ont disparu" in r.stdout


def test_a_forged_checkpoint_line_is_reported(cli_db, tmp_path):
    ids = _write_events(cli_db, 3)
    with so.Session(cli_db) as session:
        real = audit.checkpoint(session)
    assert real is not None
    # Claiming a longer trail than there was (to cast doubt on it), without the key.
    forged = real.line().replace(f"id={ids[-1]} ", f"id={ids[-1] + 50} ")
    log = tmp_path / "forged.log"
    log.write_text(forged + "\n")
    r = _verify("--checkpoints", str(log))
    assert r.exit_code == 1
    assert "la signature du point de contrôle de cette ligne est fausse" in r.stdout


def test_a_wrong_or_rotated_key_is_named_as_such(cli_db, monkeypatch):
    ids = _write_events(cli_db, 3)
    monkeypatch.setenv("PASSERELLE_AUDIT_KEY", "another-key-entirely")
    r = _verify()
    assert r.exit_code == 1
    kid = audit.key_id(DEV_KEY.encode())
    assert f"ROMPU à partir du n° {ids[0]}" in r.stderr
    assert (f"n° {ids[0]} : ligne scellée avec la clé {kid}, qui n'est pas configurée "
            "(PASSERELLE_AUDIT_KEY erronée") in r.stdout
    # Rotation done right: the new key first (it seals), the old one after it (it verifies).
    monkeypatch.setenv("PASSERELLE_AUDIT_KEY", f"the-new-key,{DEV_KEY}")
    assert _verify().exit_code == 0
    ids = _write_events(cli_db, 2)  # written under the new key (this process's configuration)
    r = _verify()
    assert r.exit_code == 0, r.output
    assert f"intact : {len(ids)} ligne(s)" in r.stdout


def test_deleting_a_user_keeps_the_chain_intact(cli_db):
    """actor_id is ON DELETE SET NULL: the chain seals the actor's snapshot, not the key."""
    _write_events(cli_db, 4)
    with cli_db.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.execute(sa.delete(User))
        assert conn.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                           .where(AuditEvent.actor_id.is_not(None))) == 0
    r = _verify()
    assert r.exit_code == 0, r.output


def test_production_needs_its_own_audit_key(monkeypatch, tmp_path):
    from cryptography.fernet import Fernet

    settings = {"PASSERELLE_ENV": "production", "SECRET_KEY": "s",
                "PASSERELLE_DATA_KEY": Fernet.generate_key().decode(),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'p.sqlite'}", "PUBLIC_URL": "https://passerelle.example.org"}
    from web import create_app

    with pytest.raises(config.ConfigurationError, match="PASSERELLE_AUDIT_KEY"):
        create_app(settings)
    with pytest.raises(config.ConfigurationError, match="not the published development key"):
        create_app({**settings, "AUDIT_KEY": DEV_KEY})


def test_the_checkpoint_job_logs_a_line_that_verify_accepts(app, db, caplog, tmp_path):
    audit.record(db, "test.checkpointed", object_type="thing", object_id="c-1")
    db.commit()
    jobs = get_jobs(app)
    assert "audit_checkpoint" in {task.name for task in jobs.huey._registry.periodic_tasks}
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER):
        jobs.tasks["audit_checkpoint"].call_local()
    lines = [r.getMessage() for r in caplog.records if r.name == AUDIT_LOGGER]
    assert len(lines) == 1
    [cp] = audit.read_checkpoints(lines)
    head = db.scalar(sa.select(sa.func.max(AuditEvent.id)))
    assert cp.row_id == head and cp.authentic()
    verdict = audit.check(db, [cp])
    assert verdict.intact and verdict.checkpoints == 1


_NOW = __import__("datetime").datetime(2026, 11, 1, 9, 0)


def _legacy_rows(conn: sa.Connection, user_id: int, n: int) -> None:
    """Rows as the code before migration 0010 wrote them: plain SHA-256 over the foreign keys."""
    import datetime as dt

    prev = None
    at = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    for i in range(n):
        fields = [prev, at.isoformat(), user_id, "association", None, "household.read_sensitive",
                  "household", f"H-old{i}", None, "success"]
        digest = hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()
        conn.execute(sa.text("INSERT INTO audit_events (at, actor_id, actor_role, action, object_type, object_id, "
                             "outcome, prev_hash, hash) VALUES (:at, :actor, 'association', "
                             "'household.read_sensitive', 'household', :oid, 'success', :prev, :hash)"),
                     {"at": at.replace(tzinfo=None), "actor": user_id, "oid": f"H-old{i}", "prev": prev,
                      "hash": digest})
        prev = digest


def _before_0010() -> str:
    """The revision 0010 follows (whatever it is on this branch)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "migrations" / "versions" / "0010_audit_key.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.down_revision)


def test_rows_written_before_the_key_stay_verifiable_and_sealed(database_url, tmp_path):
    """Migration 0010 keeps the old rows as they are and closes them with a sealed boundary."""
    from flask_migrate import upgrade

    from tests.conftest import make_config
    from tests.helpers import scratch_database
    from web import create_app

    with scratch_database(database_url, tmp_path) as url:
        app = create_app(make_config(url))
        engine = sa.create_engine(url)
        try:
            with app.app_context():
                upgrade(revision=_before_0010())
                with engine.begin() as conn:
                    conn.execute(sa.text("INSERT INTO organisations (kind, name, code, departments, created_at) "
                                         "VALUES ('association', 'Asso', 'ASSO-OLD', '[]', :now)"), {"now": _NOW})
                    org_id = conn.scalar(sa.text("SELECT id FROM organisations WHERE code = 'ASSO-OLD'"))
                    conn.execute(sa.text("INSERT INTO users (email, password_hash, role, organisation_id, active, "
                                         "session_version, failed_logins, locale, created_at) VALUES "
                                         "('old@example.org', 'x', 'association', :org, :t, 1, 0, 'fr', :now)"),
                                 {"org": org_id, "t": True, "now": _NOW})
                    user_id = conn.scalar(sa.text("SELECT id FROM users WHERE email = 'old@example.org'"))
                    _legacy_rows(conn, user_id, 5)
                upgrade()
            with so.Session(engine) as session:
                boundary = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
                assert boundary.action == audit.KEY_INTRODUCED and boundary.key_id is not None
                legacy_ids = list(session.scalars(sa.select(AuditEvent.id).where(AuditEvent.key_id.is_(None))))
                assert boundary.object_id == str(max(legacy_ids))
                assert audit.verify(session) == []
                # New rows chain on; deleting the old rows' user leaves them verifiable.
                audit.record(session, "test.after_upgrade", object_type="thing", object_id="new")
                session.commit()
                session.execute(sa.update(AuditEvent).values(actor_id=None))  # as ON DELETE SET NULL does
                session.commit()
                assert audit.verify(session) == []
                # An old row rewritten (and every old hash after it recomputed) no longer meets
                # the boundary's seal.
                session.execute(sa.update(AuditEvent).where(AuditEvent.id == legacy_ids[1])
                                .values(object_id="H-other"))
                prev = None
                for event in session.scalars(sa.select(AuditEvent).where(AuditEvent.key_id.is_(None))
                                             .order_by(AuditEvent.id)):
                    event.prev_hash, event.hash = prev, audit._legacy_digest(prev, event)
                    prev = event.hash
                session.commit()
                assert audit.verify(session) == [boundary.id]
        finally:
            engine.dispose()
            app.extensions["db"].dispose()
