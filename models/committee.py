"""What the quarterly monitoring committee writes: review notes, follow-up actions, flags.

These are free text written by committee members about organisations and the
partnership's figures, never about a household: the forms say so, and nothing here
points at a household, a proposal or a unit.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, User, _in
from models.base import Base, UTCDateTime, utcnow

ACTION_STATUSES = ("open", "done")
#: A quarter is written "2026-Q4".
QUARTER_CHECK = "quarter LIKE '____-Q_' AND substr(quarter, 7, 1) IN ('1', '2', '3', '4')"


class ReviewNote(Base):
    """A note attached to a quarter; with `flagged_organisation` it flags that organisation's
    figures (a landlord's or an association's) for discussion at the meeting."""

    __tablename__ = "review_notes"
    __table_args__ = (sa.CheckConstraint(QUARTER_CHECK, name="quarter_format"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # The committee (organisation) whose meeting this note belongs to.
    committee_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    quarter: so.Mapped[str] = so.mapped_column(sa.String(7), index=True)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    flagged_organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    committee: so.Mapped[Organisation] = so.relationship(foreign_keys=[committee_id])
    flagged_organisation: so.Mapped[Organisation | None] = so.relationship(
        foreign_keys=[flagged_organisation_id]
    )
    author: so.Mapped[User | None] = so.relationship()


class FollowUpAction(Base):
    """Something an organisation should do before a later meeting; open until marked done.

    The next quarters' reports list every action still open.
    """

    __tablename__ = "follow_up_actions"
    __table_args__ = (
        sa.CheckConstraint(QUARTER_CHECK, name="quarter_format"),
        sa.CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
        sa.CheckConstraint("(status = 'done') = (done_at IS NOT NULL)", name="done_at_when_done"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    committee_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    # The quarter whose meeting decided the action.
    quarter: so.Mapped[str] = so.mapped_column(sa.String(7), index=True)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    owner_organisation_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL")
    )
    due_on: so.Mapped[dt.date | None]
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="open")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    done_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    committee: so.Mapped[Organisation] = so.relationship(foreign_keys=[committee_id])
    owner_organisation: so.Mapped[Organisation | None] = so.relationship(
        foreign_keys=[owner_organisation_id]
    )
