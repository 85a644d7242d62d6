"""Events written in a batch chain exactly like events written one by one."""

from __future__ import annotations

import sqlalchemy as sa

from models import AuditEvent
from services import audit


def test_a_batch_keeps_the_chain_intact_and_an_edit_is_still_found(db):
    audit.record(db, "login", object_type="user", object_id="1")
    assert audit.record_many(db, "household.read_sensitive", ["H-a", "H-b", "H-c"],
                             object_type="household") == 3
    audit.record(db, "logout", object_type="user", object_id="1")
    db.commit()  # the events are chained and written when the caller commits
    assert audit.verify(db) == []
    rows = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [r.object_id for r in rows][-4:] == ["H-a", "H-b", "H-c", "1"]
    edited = rows[-3]
    edited.object_id = "H-z"
    db.flush()
    assert audit.verify(db) == [edited.id]


def test_an_empty_batch_writes_nothing(db):
    before = db.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert audit.record_many(db, "household.read_sensitive", []) == 0
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
