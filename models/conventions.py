"""Conventions of the partnership, the yearly commitments they carry, and training records.

A convention binds its parties (the landlords' union, the associations' federation, the
State...) on a territory (departments) for a span of dates. Its commitments say what an
organisation of the platform (a landlord, or an association where it applies) undertakes
each year, by kind. What was achieved is never typed in: it is counted from the
platform's events (services.conventions). Staff training has no other event in the
platform, so a coordinator records each training session as a dated event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, User, _in
from models.base import Base, UTCDateTime, utcnow

COMMITMENT_KINDS = (
    "units_posted",  # units the landlord publishes on the platform
    "rehousings_on_request",  # leases signed on an association's request
    "shared_home_moves",  # leases signed by women still living with the violent partner
    "emergency_places",  # emergency or temporary units published
    "staff_trained",  # persons trained (recorded training sessions)
)


class Convention(Base):
    """A partnership convention: its parties, territory, span and funders."""

    __tablename__ = "conventions"
    __table_args__ = (
        sa.CheckConstraint("ends_on > starts_on", name="span"),
        sa.CheckConstraint("length(title) > 0", name="title_present"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    # Signatories as written in the convention (they need not be organisations of the platform).
    parties: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    funders: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    departments: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    starts_on: so.Mapped[dt.date]
    # The first day it no longer applies (exclusive end).
    ends_on: so.Mapped[dt.date]
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    commitments: so.Mapped[list[Commitment]] = so.relationship(
        back_populates="convention", cascade="all, delete-orphan", order_by="Commitment.id")
    created_by: so.Mapped[User | None] = so.relationship()

    def __repr__(self) -> str:
        return f"<Convention {self.title!r} {self.starts_on}..{self.ends_on}>"


class Commitment(Base):
    """What one organisation undertakes for one year of a convention, for one kind."""

    __tablename__ = "commitments"
    __table_args__ = (
        sa.UniqueConstraint("convention_id", "organisation_id", "year", "kind"),
        sa.CheckConstraint(_in("kind", COMMITMENT_KINDS), name="kind"),
        sa.CheckConstraint("target >= 0 AND target <= 100000", name="target_range"),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    convention_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("conventions.id", ondelete="CASCADE"), index=True)
    organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    year: so.Mapped[int]
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    target: so.Mapped[int]

    convention: so.Mapped[Convention] = so.relationship(back_populates="commitments")
    organisation: so.Mapped[Organisation] = so.relationship()


class TrainingRecord(Base):
    """A training session of an organisation's staff, recorded by a coordinator when held."""

    __tablename__ = "training_records"
    __table_args__ = (sa.CheckConstraint("persons >= 1 AND persons <= 1000", name="persons_range"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    convention_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("conventions.id", ondelete="CASCADE"), index=True)
    organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    held_on: so.Mapped[dt.date]
    persons: so.Mapped[int]
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    organisation: so.Mapped[Organisation] = so.relationship()


class QuarterSnapshot(Base):
    """A closed quarter's figures, already suppressed, as JSON: purges and erasures of the
    rows they were computed from do not change them."""

    __tablename__ = "quarter_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("quarter", "scope"),
        sa.CheckConstraint("quarter LIKE '____-Q_'", name="quarter_format"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quarter: so.Mapped[str] = so.mapped_column(sa.String(7))
    # What the figures cover: "departments:59,62" or "convention:<id>".
    scope: so.Mapped[str] = so.mapped_column(sa.String(200))
    figures: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    frozen_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    frozen_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
