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
) -> AuditEvent:
    """Append one event to the trail (flushed, committed by the caller).

    On PostgreSQL, writers take a transaction-scoped advisory lock before reading the last
    hash: two concurrent transactions cannot chain to the same predecessor (the second waits
    until the first commits, then reads its hash). SQLite allows one writer at a time anyway.
    """
    prev_hash = _chain_head(session)
    event = AuditEvent(
        at=utcnow().replace(microsecond=0),
        actor_id=actor.id if actor else None,
        actor_role=actor.role if actor else None,
        organisation_id=actor.organisation_id if actor else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        request_id=request_id or request_id_var.get(),
        outcome=outcome,
        prev_hash=prev_hash,
    )
    event.hash = _digest(prev_hash, event)
    session.add(event)
    session.flush()
    return event


def record_many(
    session: so.Session,
    action: str,
    object_ids: Iterable[str],
    *,
    actor: User | None = None,
    object_type: str | None = None,
    outcome: str = "success",
) -> int:
    """Append one event per object, chained in memory: a list of 50 costs one read and one insert."""
    ids = list(object_ids)
    if not ids:
        return 0
    prev_hash = _chain_head(session)
    at = utcnow().replace(microsecond=0)
    events = []
    for object_id in ids:
        event = AuditEvent(
            at=at,
            actor_id=actor.id if actor else None,
            actor_role=actor.role if actor else None,
            organisation_id=actor.organisation_id if actor else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            request_id=request_id_var.get(),
            outcome=outcome,
            prev_hash=prev_hash,
        )
        event.hash = prev_hash = _digest(prev_hash, event)
        events.append(event)
    # One executemany, not one INSERT per event (no ids needed back).
    columns = ("at", "actor_id", "actor_role", "organisation_id", "action", "object_type", "object_id",
               "request_id", "outcome", "prev_hash", "hash")
    session.execute(sa.insert(AuditEvent), [{c: getattr(e, c) for c in columns} for e in events])
    return len(events)


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
