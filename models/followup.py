"""Before and after the lease: a landlord's referral of a tenant in danger, and the
follow-up checkpoints after her rehousing (issue 18).

A referral holds no name and no address: the landlord's own reference for her tenancy
(which only the landlord sees), the household's composition, the urgency, the department,
whether she still shares the home with the aggressor, the date of her consent and a short
message checked like a rehousing request's (no phone number, no address). The association
that accepts it opens a draft household file linked to it.

A checkpoint is the association's look at the tenancy 3, 6 and 12 months after the lease:
a status and a coded outcome, never a free text (no address can slip in).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, User, _in
from models.base import Base, UTCDateTime, new_public_id, utcnow
from models.housing import Household
from models.runs import Proposal

REFERRAL_STATUSES = ("sent", "accepted", "declined")
# Why an association declines a referral (coded: the landlord reads it).
REFERRAL_DECLINE_REASONS = ("out_of_scope", "no_capacity", "household_refused", "already_supported",
                            "other_association")
CHECKPOINT_MONTHS = (3, 6, 12)
CHECKPOINT_STATUSES = ("due", "fine", "difficulties", "left")
CHECKPOINT_OUTCOMES = ("none", "support_in_place", "support_ended", "rent_arrears", "safety_incident",
                       "tenancy_incident", "transfer_needed", "moved_by_choice", "lost_contact")


# Why a rehoused household must move again at once (coded: no free text, no place).
TRANSFER_REASONS = ("safety_incident", "aggressor_found", "threats", "other")


class Referral(Base):
    """A landlord's staff refers one of its tenants in danger to an association."""

    __tablename__ = "referrals"
    __table_args__ = (
        sa.CheckConstraint(_in("status", REFERRAL_STATUSES), name="status"),
        sa.CheckConstraint(f"decline_reason IS NULL OR {_in('decline_reason', REFERRAL_DECLINE_REASONS)}",
                           name="decline_reason"),
        # Declined exactly when a reason is given; a file exists only once accepted.
        sa.CheckConstraint("(status = 'declined') = (decline_reason IS NOT NULL)", name="declined_with_reason"),
        sa.CheckConstraint("household_id IS NULL OR status = 'accepted'", name="household_when_accepted"),
        sa.CheckConstraint("adults >= 1 AND adults <= 10", name="adults_range"),
        sa.CheckConstraint("children >= 0 AND children <= 15", name="children_range"),
        sa.CheckConstraint("urgency >= 0 AND urgency <= 3", name="urgency_range"),
        sa.UniqueConstraint("landlord_id", "landlord_reference"),
        sa.Index("ix_referrals_association_status", "association_id", "status"),
        sa.Index("ix_referrals_landlord_created", "landlord_id", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("R-"))
    landlord_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organisations.id", ondelete="RESTRICT"))
    association_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organisations.id", ondelete="RESTRICT"))
    # The landlord's own reference for the tenancy: shown to the landlord only.
    landlord_reference: so.Mapped[str] = so.mapped_column(sa.String(80))
    department: so.Mapped[str] = so.mapped_column(sa.String(3))
    adults: so.Mapped[int] = so.mapped_column(default=1)
    children: so.Mapped[int] = so.mapped_column(default=0)
    urgency: so.Mapped[int] = so.mapped_column(default=2)
    # She still lives under the same roof as the aggressor (a move out of a shared home).
    shares_home: so.Mapped[bool] = so.mapped_column(default=False)
    # The landlord's site or agency that refers her (its name, never her address): the
    # association knows whom to call back, the committee counts per landlord.
    site: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    # She is already a tenant of this landlord: her file then records her current home, and
    # her current unit is never proposed to her.
    is_tenant: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    consent_on: so.Mapped[dt.date]
    message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="sent")
    decline_reason: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    household_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("households.id", ondelete="SET NULL"), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    landlord: so.Mapped[Organisation] = so.relationship(foreign_keys=[landlord_id])
    association: so.Mapped[Organisation] = so.relationship(foreign_keys=[association_id])
    household: so.Mapped[Household | None] = so.relationship()
    created_by: so.Mapped[User | None] = so.relationship(foreign_keys=[created_by_id])


class Checkpoint(Base):
    """One follow-up checkpoint of a lease: 3, 6 or 12 months after it."""

    __tablename__ = "checkpoints"
    __table_args__ = (
        sa.CheckConstraint(_in("status", CHECKPOINT_STATUSES), name="status"),
        sa.CheckConstraint("months IN (3, 6, 12)", name="months"),
        sa.CheckConstraint(f"outcome IS NULL OR {_in('outcome', CHECKPOINT_OUTCOMES)}", name="outcome"),
        # Recorded exactly when it has a status other than due, and then with an outcome.
        sa.CheckConstraint("(status = 'due') = (recorded_at IS NULL)", name="recorded_when_done"),
        sa.CheckConstraint("status = 'due' OR outcome IS NOT NULL", name="outcome_when_done"),
        sa.UniqueConstraint("proposal_id", "months"),
        sa.Index("ix_checkpoints_association_status_due", "association_id", "status", "due_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("C-"))
    proposal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    household_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("households.id", ondelete="CASCADE"),
                                                    index=True)
    association_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organisations.id", ondelete="RESTRICT"))
    months: so.Mapped[int]
    lease_on: so.Mapped[dt.date]
    due_on: so.Mapped[dt.date]
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="due")
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    recorded_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    proposal: so.Mapped[Proposal] = so.relationship()
    household: so.Mapped[Household] = so.relationship()
    association: so.Mapped[Organisation] = so.relationship()


class Transfer(Base):
    """An urgent transfer: a rehoused household whose safety there is lost is active again.

    The lease it leaves is `from_proposal` (now `transferred`); its department is kept in
    clear for the committee's count (the unit's, as for every lease). Erased with her file."""

    __tablename__ = "transfers"
    __table_args__ = (
        sa.CheckConstraint(_in("reason", TRANSFER_REASONS), name="reason"),
        sa.Index("ix_transfers_department_created", "department", "created_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("T-"))
    household_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("households.id", ondelete="CASCADE"),
                                                    index=True)
    from_proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="SET NULL"))
    association_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organisations.id", ondelete="RESTRICT"))
    department: so.Mapped[str] = so.mapped_column(sa.String(3))
    reason: so.Mapped[str] = so.mapped_column(sa.String(32))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    household: so.Mapped[Household] = so.relationship()
    from_proposal: so.Mapped[Proposal | None] = so.relationship()
