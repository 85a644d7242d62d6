"""The offer board's own records: an association's rehousing requests, and the offers a
landlord made on one that broke a hard rule (kept for the coordinator, never shown to the
landlord)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, User, _in
from models.base import Base, UTCDateTime, new_public_id, utcnow
from models.housing import Household, Unit

REQUEST_STATUSES = ("open", "answered", "closed")


class RehousingRequest(Base):
    """An association asks the landlords of some departments for a unit for one household."""

    __tablename__ = "rehousing_requests"
    __table_args__ = (
        sa.CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
        sa.Index("ix_rehousing_requests_status", "status"),
        sa.Index("ix_rehousing_requests_household_status", "household_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("Q-"))
    association_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    household_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("households.id", ondelete="CASCADE"))
    # The departments searched, fixed when the request is posted: the landlords of these
    # departments see it (never the communes she looks in or avoids).
    departments: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="open")
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    closed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    association: so.Mapped[Organisation] = so.relationship()
    household: so.Mapped[Household] = so.relationship()


class RefusedOffer(Base):
    """A landlord's offer on a request that broke a hard rule: never stored as a proposal.

    The rules broken are kept for the coordinator (a landlord who probes shows here); the
    landlord was only told "not compatible"."""

    __tablename__ = "refused_offers"
    __table_args__ = (sa.Index("ix_refused_offers_request_landlord", "request_id", "landlord_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rehousing_requests.id", ondelete="CASCADE"))
    unit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"))
    landlord_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    offered_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    rules: so.Mapped[list[Any]] = so.mapped_column(sa.JSON, default=list)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    request: so.Mapped[RehousingRequest] = so.relationship()
    unit: so.Mapped[Unit] = so.relationship()
    landlord: so.Mapped[Organisation] = so.relationship()
    offered_by: so.Mapped[User | None] = so.relationship()
