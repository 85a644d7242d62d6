"""What the quarterly monitoring committee writes: review notes, follow-up actions, flags.

These are free text written by committee members about organisations and the
partnership's figures, never about a household: the forms say so, and nothing here
points at a household, a proposal or a unit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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


SNAPSHOT_KINDS = ("needs", "whatif")
SNAPSHOT_STATUSES = ("queued", "running", "done", "failed")


class SnapshotSolve(Base):
    """One background solve of the committee's "unmet needs" or "what if" pages, and its result.

    The solver never runs inside a web request (a region's snapshot takes seconds to minutes):
    the page asks for a solve, a worker computes it, the page shows it. `result` holds only
    suppressed tables, already worded in `locale` (a hidden cell keeps no value), so a stored
    result is no more than the page shows. Rows with the same `key` (kind, departments,
    parameters, language) are the same question: a fresh answer is reused, not recomputed.
    """

    __tablename__ = "snapshot_solves"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", SNAPSHOT_KINDS), name="kind"),
        sa.CheckConstraint(_in("status", SNAPSHOT_STATUSES), name="status"),
        sa.CheckConstraint("status <> 'done' OR result IS NOT NULL", name="done_has_result"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10))
    key: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    departments: so.Mapped[str] = so.mapped_column(sa.String(400))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    locale: so.Mapped[str] = so.mapped_column(sa.String(8))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    result: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON, deferred=True)
    error: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    requested_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    started_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
