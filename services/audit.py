"""Writing the audit trail: one row per action, no personal data, chained by hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import AuditEvent, User, utcnow
from services.paging import MAX_PAGE, Page

# Arbitrary constant naming the audit trail's advisory lock on PostgreSQL ("audit" in ASCII).
AUDIT_LOCK_KEY = 0x6175646974

# Set by the web layer (and the worker) so that every event names its request.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def _digest(prev_hash: str | None, event: AuditEvent) -> str:
    payload = json.dumps(
        [
            prev_hash,
            event.at.isoformat(),
            event.actor_id,
            event.actor_role,
            event.organisation_id,
            event.action,
            event.object_type,
            event.object_id,
            event.request_id,
            event.outcome,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _chain_head(session: so.Session) -> str | None:
    """The last event's hash, the chain locked until commit (one writer at a time on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    return session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))


# Events wait in the session until its commit: (transaction they were recorded in, event).
_PENDING = "audit_pending"
_COLUMNS = ("at", "actor_id", "actor_role", "organisation_id", "action", "object_type", "object_id",
            "request_id", "outcome", "prev_hash", "hash")


def record(
    session: so.Session,
    action: str,
    *,
    actor: User | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: str = "success",
    request_id: str | None = None,
    **_ignored: Any,
) -> None:
    """Append one event to the trail when the caller commits (gone if it rolls back).

    The events are chained at commit time: on PostgreSQL the chain's lock is then held for
    the few statements of the commit, not for the rest of the request (under load, holding
    it from the first audited action to the commit queued every writer behind the slowest).
    """
    record_many(session, action, [object_id], actor=actor, object_type=object_type, outcome=outcome,
                request_id=request_id)


def record_many(
    session: so.Session,
    action: str,
    object_ids: Iterable[str | None],
    *,
    actor: User | None = None,
    object_type: str | None = None,
    outcome: str = "success",
    request_id: str | None = None,
) -> int:
    """Append one event per object when the caller commits; how many."""
    at = utcnow().replace(microsecond=0)
    if not session.in_transaction():
        session.begin()
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending = session.info.setdefault(_PENDING, [])
    count = 0
    for object_id in object_ids:
        pending.append((transaction, AuditEvent(
            at=at,
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else None,
            organisation_id=actor.organisation_id if actor else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            request_id=request_id or request_id_var.get(),
            outcome=outcome,
        )))
        count += 1
    return count


@sa.event.listens_for(so.Session, "before_commit")
def _write_pending(session: so.Session) -> None:
    """Chain and insert the session's pending events, last statements before the commit."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    prev_hash = _chain_head(session)
    rows = []
    for _transaction, event in pending:
        event.prev_hash = prev_hash
        event.hash = prev_hash = _digest(prev_hash, event)
        rows.append({c: getattr(event, c) for c in _COLUMNS})
    # One executemany, not one INSERT per event (no ids needed back).
    session.execute(sa.insert(AuditEvent), rows)


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _drop_rolled_back(session: so.Session, previous: so.SessionTransaction) -> None:
    """A savepoint rolled back forgets the events recorded within it."""
    pending = session.info.get(_PENDING)
    if pending and previous.nested:
        session.info[_PENDING] = [(t, e) for t, e in pending if not _within(t, previous)]


@sa.event.listens_for(so.Session, "after_transaction_end")
def _drop_uncommitted(session: so.Session, transaction: so.SessionTransaction) -> None:
    """The session's transaction ended without a commit (rollback, close): nothing to write."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _within(transaction: so.SessionTransaction | None, ancestor: so.SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def verify(session: so.Session) -> list[int]:
    """Ids of events whose hash does not follow from the one before (empty: intact)."""
    broken: list[int] = []
    prev: str | None = None
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev or event.hash != _digest(prev, event):
            broken.append(event.id)
        prev = event.hash
    return broken


def search(
    session: so.Session,
    *,
    action: str | None = None,
    actor_email: str | None = None,
    object_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    outcome: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Any]:
    """One page of events, newest first, as (event, actor e-mail) rows.

    `action` matches a prefix ("household." finds every household action); `since` and
    `until` are inclusive days (UTC).
    """
    stmt = (
        sa.select(AuditEvent, User.email)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
    )
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if actor_email:
        stmt = stmt.where(User.email == actor_email.strip().lower())
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id.strip())
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if since:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        stmt = stmt.where(AuditEvent.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
    page = max(1, min(page, MAX_PAGE))
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [tuple(row) for row in session.execute(stmt.limit(per_page).offset((page - 1) * per_page))]
    return Page(items=rows, page=page, per_page=per_page, total=total)


def actions(session: so.Session) -> list[str]:
    """Every action name present in the trail (for the search form)."""
    return list(session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
