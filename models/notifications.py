"""Notifications inside the platform, and the outbox of e-mails waiting to be sent.

Neither ever holds an address, a commune or any other location: an aggressor may read a
mailbox, and a notification list is shown on shared screens.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, User
from models.base import Base, UTCDateTime, utcnow


class Notification(Base):
    """A message shown to a user, or to every user of an organisation, with a link."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.CheckConstraint(
            "organisation_id IS NOT NULL OR user_id IS NOT NULL", name="has_recipient"
        ),
        sa.Index("ix_notifications_organisation_created", "organisation_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    message: so.Mapped[str] = so.mapped_column(sa.String(300))
    # A path inside the platform ("/association/propositions/P-…"), never an outside URL.
    link: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    read_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    organisation: so.Mapped[Organisation | None] = so.relationship()
    user: so.Mapped[User | None] = so.relationship()


class OutboxEmail(Base):
    """An e-mail to send; `passerelle send-outbox` sends it and sets `sent_at`."""

    __tablename__ = "outbox_emails"
    __table_args__ = (sa.CheckConstraint("attempts >= 0", name="attempts_positive"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime, index=True)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(300))
