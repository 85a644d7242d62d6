"""Messages on a proposal between the household's association and the unit's landlord.

Only those two organisations read and write them: anybody else (another landlord, another
association, coordinators and the committee included) gets NotFound, as for the proposal
itself (`services.proposals.get_for`). The text is checked like a rehousing request's
message (`services.offers.message_problem`: nothing that looks like an address or a phone
number), kept with the proposal, every message audited, and the other side told.

A message says which side wrote it, never the author's organisation name or e-mail: before
the household has accepted, the landlord does not know which association follows her.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Proposal, ProposalMessage, User
from services import audit, notifications, offers
from services import proposals as proposals_svc
from services.errors import ValidationError

BODY_MAX = 2000
SIDES = ("association", "landlord")


@dataclass(frozen=True)
class MessageView:
    """One message as either side reads it."""

    side: str  # "association" or "landlord": who wrote it
    mine: bool  # written by the reader's organisation
    body: str
    created_at: object

    def as_dict(self) -> dict[str, object]:
        return {"side": self.side, "mine": self.mine, "body": self.body, "created_at": self.created_at}


def _side_of(proposal: Proposal, organisation_id: int) -> str:
    return "association" if organisation_id == proposal.household.association_id else "landlord"


def thread(session: so.Session, user: User, public_id: str) -> tuple[Proposal, list[MessageView]]:
    """The proposal and its messages, oldest first, as `user` may read them (NotFound for
    anybody outside the two organisations)."""
    proposal = proposals_svc.get_for(session, user, public_id)
    rows = session.scalars(sa.select(ProposalMessage).where(ProposalMessage.proposal_id == proposal.id)
                           .order_by(ProposalMessage.created_at, ProposalMessage.id)).all()
    return proposal, [MessageView(side=_side_of(proposal, m.organisation_id),
                                  mine=m.organisation_id == user.organisation_id,
                                  body=m.body, created_at=m.created_at) for m in rows]


def check_body(body: str | None) -> str:
    """The message as it will be stored, or ValidationError on `body`."""
    text = (body or "").strip()
    if not text:
        raise ValidationError(_l("Écrivez un message."), field="body")
    if len(text) > BODY_MAX:
        raise ValidationError(_l("Au plus %(n)d caractères.", n=BODY_MAX), field="body")
    problem = offers.message_problem(text)
    if problem:
        raise ValidationError(problem, field="body")
    return text


def post(session: so.Session, user: User, public_id: str, body: str | None, *,
         base_url: str = "") -> MessageView:
    """Add a message to the proposal's thread, audited; the other side is told."""
    proposal = proposals_svc.get_for(session, user, public_id)
    text = check_body(body)
    assert user.organisation_id is not None  # get_for reaches nobody without one
    message = ProposalMessage(proposal_id=proposal.id, organisation_id=user.organisation_id,
                              author_id=user.id, body=text)
    session.add(message)
    session.flush()
    audit.record(session, "proposal.message", actor=user, object_type="proposal", object_id=proposal.public_id)
    side = _side_of(proposal, user.organisation_id)
    if side == "association":
        other, link = proposal.unit.landlord, proposals_svc.LANDLORD_LINK
    else:
        other, link = proposal.household.association, proposals_svc.ASSOCIATION_LINK
    notifications.tell(session, other, _l("Nouveau message sur la proposition %(id)s.", id=proposal.public_id),
                       link.format(id=proposal.public_id) + "/messages", email="proposal_update",
                       base_url=base_url)
    return MessageView(side=side, mine=True, body=text, created_at=message.created_at)
