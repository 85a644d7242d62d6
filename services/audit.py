"""Writing the audit trail: one row per action, no personal data, chained by hash."""

from __future__ import annotations

import hashlib
import json
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import AuditEvent, User, utcnow

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
    """Append one event to the trail (flushed, committed by the caller)."""
    prev_hash = session.scalar(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    )
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


def verify(session: so.Session) -> list[int]:
    """Ids of events whose hash does not follow from the one before (empty: intact)."""
    broken: list[int] = []
    prev: str | None = None
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev or event.hash != _digest(prev, event):
            broken.append(event.id)
        prev = event.hash
    return broken
