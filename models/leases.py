"""What follows a proposal's lease and its conversation: the lease record (dates and kind,
counted by the committee) and the messages the referent and the landlord's staff exchange."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, User, _in
from models.base import Base, EncryptedJSON, UTCDateTime, utcnow
from models.runs import Proposal

# direct: the household signs with the landlord; sliding: the association is the tenant
# first and the lease "slides" to her ("bail glissant"); sublet: the association rents the
# unit and sublets it to her ("sous-location").
LEASE_KINDS = ("direct", "sliding", "sublet")


class Lease(Base):
    """The signed lease of a proposal (one at most): when it was signed, when she moves in,
    and what kind of lease it is."""

    __tablename__ = "leases"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", LEASE_KINDS), name="kind"),
        # She cannot move in before the lease is signed.
        sa.CheckConstraint("move_in_on >= signed_on", name="move_in_after_signature"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(12))
    signed_on: so.Mapped[dt.date]
    move_in_on: so.Mapped[dt.date]
    recorded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    proposal: so.Mapped[Proposal] = so.relationship()


class ProposalMessage(Base):
    """A message on a proposal between the household's association and the unit's landlord.

    The text is encrypted at rest like the household's zones: it is about her, and only those
    two organisations may read it."""

    __tablename__ = "proposal_messages"
    __table_args__ = (sa.Index("ix_proposal_messages_proposal_created", "proposal_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"))
    # The author's organisation, kept when her account is deleted: the thread still says
    # which side wrote.
    organisation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    author_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: so.Mapped[str] = so.mapped_column(EncryptedJSON)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    proposal: so.Mapped[Proposal] = so.relationship()
    organisation: so.Mapped[Organisation] = so.relationship()
    author: so.Mapped[User | None] = so.relationship()
