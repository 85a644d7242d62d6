"""Notifications inside the platform, and the outbox of e-mails waiting to be sent.

Neither ever holds an address, a commune or any other location: an aggressor may read a
mailbox, and a notification list is shown on shared screens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, User
from models.base import Base, UTCDateTime, utcnow


def french(msgid: str, params: dict[str, Any] | None) -> str:
    """A stored message in the platform's first language: its French msgid, filled in.

    A parameter stored as `{"msgid", "params"}` (a message inside the message) is filled in
    the same way. Translating needs Flask-Babel: see services.messages.
    """
    if not params:
        return msgid
    return msgid % {
        name: french(value["msgid"], value["params"])
        if isinstance(value, dict) and set(value) == {"msgid", "params"} else value
        for name, value in params.items()
    }


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
    # The French msgid and its parameters, not the text: each reader gets it in her own
    # language (services.messages). A notification written by a job in French is still read
    # in English by a user whose language is English.
    msgid: so.Mapped[str] = so.mapped_column(sa.String(300))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    # A path inside the platform ("/association/propositions/P-…"), never an outside URL.
    link: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    read_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    organisation: so.Mapped[Organisation | None] = so.relationship()
    user: so.Mapped[User | None] = so.relationship()

    @property
    def message(self) -> str:
        """The message in the platform's first language (the msgid is French), untranslated."""
        return french(self.msgid, self.params)


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
