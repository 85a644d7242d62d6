"""The audit trail: who did what, when, with what outcome. Never personal data."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One action, chained by a keyed hash to the one before so that an edit or a deletion is detectable."""

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
    # The actor's id as written, kept when the user is deleted (actor_id then becomes NULL): the
    # chain seals this snapshot, not the foreign key, so deleting a user does not break it.
    actor_ref: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    actor_role: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL")
    )
    organisation_ref: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    action: so.Mapped[str] = so.mapped_column(sa.String(60))
    object_type: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    # Public id of the object, never a name or a location.
    object_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    request_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(10), default="success")
    # Fingerprint of the PASSERELLE_AUDIT_KEY that sealed the row (services.audit.key_id);
    # NULL: a row written before the key (migration 0010), sealed by plain SHA-256.
    key_id: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    prev_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # HMAC-SHA256 of prev_hash and the row's fields under that key.
    hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
