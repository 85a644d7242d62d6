"""The lease record: the dates and kind the landlord gives when she records the signature.

The record is written by `services.proposals` in the same transaction as the `lease`
transition (services.proposal_flow stays the only writer of statuses); this module checks
the terms and reads them back for each side and for the committee's figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Lease, Proposal, User
from models.leases import LEASE_KINDS
from services.errors import ValidationError

KIND_LABELS = {
    "direct": _l("Bail direct"),
    "sliding": _l("Bail glissant (par une association)"),
    "sublet": _l("Sous-location (par une association)"),
}
# A lease is recorded when signed, maybe a little ahead (signed on Monday, recorded the
# Friday before); further ahead, or long ago, the date is a typing error.
SIGNED_AHEAD_DAYS = 31
SIGNED_BEFORE_DAYS = 366
# Moving in may wait for works or the notice on her current home, not for years.
MOVE_IN_AFTER_DAYS = 183


@dataclass(frozen=True)
class LeaseTerms:
    """What the landlord says of the signed lease."""

    signed_on: dt.date
    move_in_on: dt.date
    kind: str


def check(terms: LeaseTerms, *, today: dt.date) -> LeaseTerms:
    """The terms, or ValidationError naming each field at fault."""
    errors: dict[str, list[str]] = {}
    if terms.kind not in LEASE_KINDS:
        errors["kind"] = [str(_l("Type de bail inconnu."))]
    if terms.signed_on > today + dt.timedelta(days=SIGNED_AHEAD_DAYS):
        errors["signed_on"] = [str(_l("La date de signature est trop loin dans l'avenir (au plus %(n)d jours).",
                                      n=SIGNED_AHEAD_DAYS))]
    elif terms.signed_on < today - dt.timedelta(days=SIGNED_BEFORE_DAYS):
        errors["signed_on"] = [str(_l("La date de signature est trop ancienne (au plus un an)."))]
    if terms.move_in_on < terms.signed_on:
        errors["move_in_on"] = [str(_l("L'entrée dans les lieux ne peut précéder la signature du bail."))]
    elif terms.move_in_on > terms.signed_on + dt.timedelta(days=MOVE_IN_AFTER_DAYS):
        errors["move_in_on"] = [str(_l("L'entrée dans les lieux est trop loin après la signature (au plus "
                                       "%(n)d jours).", n=MOVE_IN_AFTER_DAYS))]
    if errors:
        raise ValidationError(errors, field=next(iter(errors)))
    return terms


def record(session: so.Session, proposal: Proposal, terms: LeaseTerms, actor: User | None) -> Lease:
    """Store the (checked) terms of the proposal's signed lease."""
    lease = Lease(proposal_id=proposal.id, kind=terms.kind, signed_on=terms.signed_on,
                  move_in_on=terms.move_in_on, recorded_by_id=actor.id if actor else None)
    session.add(lease)
    session.flush()
    return lease


def of(session: so.Session, proposal: Proposal) -> Lease | None:
    """The proposal's lease record, if one was recorded."""
    return session.scalar(sa.select(Lease).where(Lease.proposal_id == proposal.id))


def kind_label(kind: str | None) -> str:
    """The kind of lease in words ("—" when none was recorded)."""
    return str(KIND_LABELS.get(kind or "", "—"))
