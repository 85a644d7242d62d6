"""The audit trail: who did what, when, with what outcome. Never personal data."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One action, chained by hash to the one before so that an edit is detectable."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.CheckConstraint("outcome IN ('success', 'failure', 'denied')", name="outcome"),
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
        # The audit page's filter: an action (prefix) over a period.
        sa.Index("ix_audit_events_action_at", "action", "at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_role: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL")
    )
    action: so.Mapped[str] = so.mapped_column(sa.String(60))
    object_type: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    # Public id of the object, never a name or a location.
    object_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    request_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(10), default="success")
    prev_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
