"""The committee's review notes, follow-up actions and flags on organisations' figures.

Notes are about organisations and the partnership's figures, never about a household:
they are written by committee members and read by them only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import FollowUpAction, Organisation, ReviewNote, User, utcnow
from services import audit
from services.errors import NotFound, ValidationError
from services.stats import Quarter

MAX_TEXT = 2000


def _committee(user: User) -> int:
    if user.organisation_id is None:
        raise NotFound(_l("Aucun comité."))
    return user.organisation_id


def _text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(_l("Écrivez le texte."), field="text")
    if len(text) > MAX_TEXT:
        raise ValidationError(_l("%(n)d caractères au plus.", n=MAX_TEXT), field="text")
    return text


def discussable_organisations(session: so.Session) -> list[Organisation]:
    """Landlords and associations whose figures the committee may flag or give actions to."""
    return list(session.scalars(sa.select(Organisation).where(Organisation.kind.in_(("landlord", "association")))
                                .order_by(Organisation.kind, Organisation.name)))


def _organisation(session: so.Session, organisation_id: int | None, field: str) -> Organisation | None:
    if organisation_id is None:
        return None
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind not in ("landlord", "association"):
        raise ValidationError(_l("Choisissez un bailleur ou une association de la liste."), field=field)
    return org


def add_note(session: so.Session, quarter: Quarter, text: str, *, actor: User,
             flagged_organisation_id: int | None = None) -> ReviewNote:
    """A note on the quarter; with an organisation, a flag on that organisation's figures."""
    note = ReviewNote(committee_id=_committee(actor), quarter=str(quarter), text=_text(text),
                      flagged_organisation=_organisation(session, flagged_organisation_id, "organisation"),
                      author_id=actor.id)
    session.add(note)
    session.flush()
    audit.record(session, "committee.note.add", actor=actor, object_type="review_note", object_id=str(note.id))
    return note


def add_action(session: so.Session, quarter: Quarter, text: str, *, actor: User,
               owner_organisation_id: int | None = None, due_on: dt.date | None = None) -> FollowUpAction:
    """A follow-up action decided at the quarter's meeting (open until marked done)."""
    action = FollowUpAction(committee_id=_committee(actor), quarter=str(quarter), text=_text(text),
                            owner_organisation=_organisation(session, owner_organisation_id, "owner"),
                            due_on=due_on, status="open", created_by_id=actor.id)
    session.add(action)
    session.flush()
    audit.record(session, "committee.action.add", actor=actor, object_type="follow_up_action",
                 object_id=str(action.id))
    return action


def set_action_status(session: so.Session, action_id: int, status: str, *, actor: User) -> FollowUpAction:
    """Mark an action done, or open again."""
    if status not in ("open", "done"):
        raise ValidationError(_l("Statut inconnu."), field="status")
    action = session.get(FollowUpAction, action_id)
    if action is None or action.committee_id != _committee(actor):
        raise NotFound(_l("Action introuvable."))
    action.status = status
    action.done_at = utcnow() if status == "done" else None
    session.flush()
    audit.record(session, f"committee.action.{status}", actor=actor, object_type="follow_up_action",
                 object_id=str(action.id))
    return action


@dataclass
class QuarterReview:
    """The notes and flags of a quarter, its actions, and the actions still open from before."""

    notes: list[ReviewNote]
    actions: list[FollowUpAction]
    carried_over: list[FollowUpAction]


def quarter_review(session: so.Session, quarter: Quarter, committee_id: int | None) -> QuarterReview:
    """What the committee wrote for this quarter, plus open actions of earlier quarters."""
    if committee_id is None:
        return QuarterReview([], [], [])
    notes = list(session.scalars(
        sa.select(ReviewNote).where(ReviewNote.committee_id == committee_id, ReviewNote.quarter == str(quarter))
        .order_by(ReviewNote.created_at, ReviewNote.id)))
    actions = list(session.scalars(
        sa.select(FollowUpAction).where(FollowUpAction.committee_id == committee_id,
                                        FollowUpAction.quarter == str(quarter))
        .order_by(FollowUpAction.created_at, FollowUpAction.id)))
    # Quarters compare as text: "2026-Q4" < "2027-Q1".
    carried = list(session.scalars(
        sa.select(FollowUpAction).where(FollowUpAction.committee_id == committee_id,
                                        FollowUpAction.quarter < str(quarter), FollowUpAction.status == "open")
        .order_by(FollowUpAction.due_on.is_(None), FollowUpAction.due_on, FollowUpAction.id)))
    return QuarterReview(notes, actions, carried)
