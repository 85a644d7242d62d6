"""Emergency and temporary places ("mise à l'abri", issue 18): a household sheltered for a
while in a unit its landlord set aside for that, while her search for a permanent home
goes on.

A place is a `Unit` with `temporary` set and a maximum stay. It never goes through the four
ways to a permanent home (run, candidacy, request, direct match): the coordination shelters
a household there, and the stay is a `Placement`, not a proposal, so the household stays
`active` and every channel keeps looking for her permanent home. A place shelters one
household at a time, a household is sheltered in one place at a time: both are partial
unique indexes, so two coordinators acting at once cannot break them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import User, _in
from models.base import Base, UTCDateTime, new_public_id, utcnow
from models.housing import Household, Unit

# How a stay ends: she found her permanent home (a lease), she left of her own accord, the
# maximum stay was reached, or another reason (coded: the landlord reads it).
PLACEMENT_END_REASONS = ("rehoused", "left", "stay_ended", "other")
# A stay is open until it has an end date.
_OPEN = "ended_on IS NULL"


class Placement(Base):
    """One household's stay in one emergency or temporary place."""

    __tablename__ = "placements"
    __table_args__ = (
        sa.CheckConstraint("planned_end_on > started_on", name="planned_after_start"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="end_after_start"),
        # An end has a reason, an open stay has none.
        sa.CheckConstraint("(ended_on IS NULL) = (end_reason IS NULL)", name="end_has_reason"),
        sa.CheckConstraint("end_reason IS NULL OR " + _in("end_reason", PLACEMENT_END_REASONS),
                           name="end_reason"),
        sa.Index("uq_placements_open_unit", "unit_id", unique=True,
                 sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN)),
        sa.Index("uq_placements_open_household", "household_id", unique=True,
                 sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN)),
        sa.Index("ix_placements_department_started", "department", "started_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("A-"))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    household_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("households.id", ondelete="CASCADE"),
                                                    index=True)
    # The place's department, kept in clear for the committee's counts (like a lease's).
    department: so.Mapped[str] = so.mapped_column(sa.String(3))
    started_on: so.Mapped[dt.date]
    planned_end_on: so.Mapped[dt.date]
    ended_on: so.Mapped[dt.date | None]
    end_reason: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    unit: so.Mapped[Unit] = so.relationship()
    household: so.Mapped[Household] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship()

    @property
    def is_open(self) -> bool:
        return self.ended_on is None
