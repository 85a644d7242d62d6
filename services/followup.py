"""Before and after the lease (issue 18): referrals by landlords' staff, follow-up checkpoints.

Referrals. A landlord's staff (social counsellor, tenancy officer, caretaker) refers one
of its tenants in danger, with her consent, to an association working in her
department. Nothing that names or locates her is stored: the landlord's own reference
(which only the landlord sees again), her household's composition, the urgency, the
department, whether she shares the home with the aggressor, and a short message checked
like a rehousing request's (`services.offers.message_problem`). The association accepts
it, which opens a draft household file linked to the referral (origin "referral"), or
declines it with a coded reason. The landlord then only ever sees the referral's own
status: nothing of the file, of the proposals or of where she is rehoused.

Checkpoints. When a lease is recorded (`services.proposals._lease`), three checkpoints are
scheduled for the household's association, 3, 6 and 12 months after the move-in date of
the lease record (else the day the lease was recorded). The referent records each one: a status (`fine`, `difficulties`,
`left`) and a coded outcome, never a free text. The periodic reminders job reminds the
association `REMINDER_DAYS_BEFORE` days before a checkpoint is due and once it is past.

Every function flushes; the caller commits.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Checkpoint, Household, Notification, Organisation, Proposal, Referral, User, utcnow
from models.followup import (
    CHECKPOINT_MONTHS,
    CHECKPOINT_OUTCOMES,
    CHECKPOINT_STATUSES,
    REFERRAL_DECLINE_REASONS,
)
from services import audit, clock, leases, messages, notifications, offers
from services.errors import Conflict, NotFound, ValidationError
from services.households import check_reference_free

REFERENCE_MAX = 80
SITE_MAX = 80  # the landlord's site or agency: a name, as its own reference
# Who refers for a landlord: its staff with a landlord account, and its referrers (caretakers,
# tenancy officers) who see nothing but their own referrals.
LANDLORD_SIDE = ("landlord", "referrer")
# The household's file starts as a draft the referent completes (income, zones, search area).
REFERRAL_ORIGIN = "referral"
ASSOCIATION_REFERRAL_LINK = "/association/orientations/{id}"
LANDLORD_REFERRAL_LINK = "/bailleur/orientations/{id}"
ASSOCIATION_CHECKPOINT_LINK = "/association/suivi/{id}"

STATUS_LABELS = {"sent": _l("À examiner"), "accepted": _l("Acceptée"), "declined": _l("Déclinée")}
DECLINE_LABELS = {
    "out_of_scope": _l("Hors du champ de l'association"),
    "no_capacity": _l("Pas de place d'accompagnement"),
    "household_refused": _l("La personne ne souhaite plus être accompagnée"),
    "already_supported": _l("Déjà accompagnée"),
    "other_association": _l("Relève d'une autre association"),
}
CHECKPOINT_STATUS_LABELS = {"due": _l("À faire"), "fine": _l("Tout va bien"),
                            "difficulties": _l("Difficultés"), "left": _l("A quitté le logement")}
OUTCOME_LABELS = {
    "none": _l("Rien à signaler"),
    "support_in_place": _l("Accompagnement en place"),
    "support_ended": _l("Accompagnement terminé"),
    "rent_arrears": _l("Impayés de loyer"),
    "safety_incident": _l("Incident de sécurité"),
    "tenancy_incident": _l("Incident locatif"),
    "transfer_needed": _l("Mutation urgente nécessaire"),
    "moved_by_choice": _l("Départ choisi"),
    "lost_contact": _l("Contact perdu"),
}
RECORDED_STATUSES = tuple(s for s in CHECKPOINT_STATUSES if s != "due")


# --- Referrals ---------------------------------------------------------------------------


def _organisation(user: User) -> Organisation:
    """The caller's organisation (every landlord and association user has one)."""
    if user.organisation is None:
        raise NotFound(_l("Organisation introuvable."), field="organisation")
    return user.organisation


def associations_for(session: so.Session, departments: list[str]) -> list[Organisation]:
    """The associations working in one of these departments (those a landlord may refer to)."""
    wanted = set(departments)
    rows = session.scalars(sa.select(Organisation).where(Organisation.kind == "association")
                           .order_by(Organisation.name))
    return [o for o in rows if wanted & set(o.departments or [])]


def _integer(value: Any, field: str, lo: int, hi: int, errors: dict[str, list[Any]]) -> int | None:
    if isinstance(value, bool):
        value = None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = [_l("Un nombre entier est attendu.")]
        return None
    if not lo <= number <= hi:
        errors[field] = [_l("Entre %(lo)d et %(hi)d.", lo=lo, hi=hi)]
        return None
    return number


def check_message(message: str | None, field: str = "message") -> str | None:
    """The rehousing request's check on a short message (length, no phone, no address)."""
    message = (message or "").strip() or None
    if message is None:
        return None
    if len(message) > offers.MESSAGE_MAX:
        raise ValidationError(_l("Au plus %(n)d caractères.", n=offers.MESSAGE_MAX), field=field)
    problem = offers.message_problem(message)
    if problem:
        raise ValidationError(problem, field=field)
    return message


def refer(session: so.Session, user: User, *, association: str, landlord_reference: str, department: str,
          adults: Any, children: Any, urgency: Any, consent_on: dt.date | None, shares_home: bool = False,
          message: str | None = None, site: str | None = None, is_tenant: bool = False) -> Referral:
    """A landlord's staff refers one of its tenants to an association of her department.

    `association` is the association's code. Every field is checked and every error named.

    :raise ValidationError: (422) a field is wrong, or the message may locate or reach her.
    :raise Conflict: (409) the landlord already referred this reference.
    """
    if user.role not in LANDLORD_SIDE:
        raise NotFound(_l("Organisation introuvable."), field="organisation")
    errors: dict[str, list[Any]] = {}
    landlord = _organisation(user)
    reference = (landlord_reference or "").strip()
    if not reference:
        errors["landlord_reference"] = [_l("Indiquez votre référence pour ce dossier.")]
    elif len(reference) > REFERENCE_MAX:
        errors["landlord_reference"] = [_l("Au plus %(n)d caractères.", n=REFERENCE_MAX)]
    department = (department or "").strip()
    if department not in (landlord.departments or []):
        errors["department"] = [_l("Choisissez un de vos départements.")]
    target = session.scalar(sa.select(Organisation).where(Organisation.code == (association or ""),
                                                          Organisation.kind == "association"))
    if target is None or department not in (target.departments or []):
        errors["association"] = [_l("Choisissez une association qui travaille dans ce département.")]
    n_adults = _integer(adults, "adults", 1, 10, errors)
    n_children = _integer(children, "children", 0, 15, errors)
    level = _integer(urgency, "urgency", 0, 3, errors)
    today = clock.today(department if department in (landlord.departments or []) else None)
    if consent_on is None:
        errors["consent_on"] = [_l("Indiquez la date de son accord : rien ne se fait sans lui.")]
    elif consent_on > today:
        errors["consent_on"] = [_l("La date de son accord ne peut pas être dans le futur.")]
    try:
        text = check_message(message)
    except ValidationError as exc:
        errors.update(exc.errors)
        text = None
    site_name = (site or "").strip() or None
    if site_name is not None and len(site_name) > SITE_MAX:
        errors["site"] = [_l("Au plus %(n)d caractères.", n=SITE_MAX)]
    elif site_name is not None and offers.message_problem(site_name):
        # The agency's name ("Agence Lille Sud"), not the building she lives in.
        errors["site"] = [_l("Le nom d'un site ou d'une agence : jamais une adresse ni un téléphone.")]
    if errors:
        raise ValidationError(errors)
    assert target is not None and n_adults is not None and n_children is not None and level is not None
    if session.scalar(sa.select(Referral.id).where(Referral.landlord_id == landlord.id,
                                                   Referral.landlord_reference == reference)):
        raise Conflict(_l("Vous avez déjà orienté ce dossier : %(ref)s.", ref=reference),
                       field="landlord_reference")
    referral = Referral(landlord_id=landlord.id, association_id=target.id, landlord_reference=reference,
                        department=department, adults=n_adults, children=n_children, urgency=level,
                        shares_home=bool(shares_home), consent_on=consent_on, message=text,
                        site=site_name, is_tenant=bool(is_tenant), created_by_id=user.id)
    session.add(referral)
    session.flush()
    audit.record(session, "referral.create", actor=user, object_type="referral", object_id=referral.public_id)
    # No name, no address, no landlord reference: a mailbox may be read by the aggressor.
    notifications.tell(session, target, _l("Un bailleur vous oriente une personne à accompagner "
                                           "(orientation %(id)s).", id=referral.public_id),
                       ASSOCIATION_REFERRAL_LINK.format(id=referral.public_id))
    return referral


def _scope(user: User) -> sa.ColumnElement[bool]:
    if user.role == "landlord":
        return Referral.landlord_id == user.organisation_id
    if user.role == "referrer":  # a caretaker reads the referrals she made, not her colleagues'
        return sa.and_(Referral.landlord_id == user.organisation_id, Referral.created_by_id == user.id)
    if user.role == "association":
        return Referral.association_id == user.organisation_id
    return sa.false()


def list_referrals(session: so.Session, user: User, *, status: str | None = None,
                   limit: int = 200) -> list[Referral]:
    """The landlord's referrals, or those addressed to the association; those to examine first."""
    stmt = (sa.select(Referral).where(_scope(user))
            .options(so.joinedload(Referral.landlord), so.joinedload(Referral.association),
                     so.joinedload(Referral.household))
            .order_by(sa.case((Referral.status == "sent", 0), else_=1), Referral.created_at.desc(),
                      Referral.id.desc()).limit(limit))
    if status:
        stmt = stmt.where(Referral.status == status)
    return list(session.scalars(stmt))


def get_referral(session: so.Session, user: User, public_id: str) -> Referral:
    """One referral on the user's side; NotFound for any other."""
    referral = session.scalar(sa.select(Referral).where(Referral.public_id == public_id, _scope(user))
                              .options(so.joinedload(Referral.landlord), so.joinedload(Referral.association)))
    if referral is None:
        raise NotFound(_l("Orientation introuvable : %(id)s.", id=public_id), field="referral")
    return referral


def _decide(session: so.Session, referral: Referral, user: User, status: str, **values: Any) -> None:
    """The conditional update from `sent`: a lost race answers 409."""
    moved = session.execute(sa.update(Referral).where(Referral.id == referral.id, Referral.status == "sent")
                            .values(status=status, decided_at=utcnow(), decided_by_id=user.id, **values)
                            .returning(Referral.id)).first()
    session.refresh(referral)
    if moved is None:
        raise Conflict(_l("Cette orientation a déjà été traitée."), field="status")


def accept(session: so.Session, user: User, public_id: str, *, reference: str) -> Household:
    """The association takes her on: a draft household file linked to the referral.

    The file has the referral's composition and urgency, her department as search area, and
    the priority categories "violence" (and "shared_home" when she shares the home with the
    aggressor). Its income and exclusion zones are the referent's to complete before it is
    activated (consent, already given to the landlord, is recorded again by the referent).
    A tenant of the referring landlord gets that landlord as her current home, its commune
    to be given by the referent before activation (services.households).
    """
    referral = get_referral(session, user, public_id)
    if user.role != "association":
        raise NotFound(_l("Orientation introuvable : %(id)s.", id=public_id), field="referral")
    reference = (reference or "").strip()
    if not reference or len(reference) > REFERENCE_MAX:
        raise ValidationError(_l("Indiquez la référence de votre dossier (au plus %(n)d caractères).",
                                 n=REFERENCE_MAX), field="reference")
    if referral.status != "sent":
        raise Conflict(_l("Cette orientation a déjà été traitée."), field="status")
    check_reference_free(session, _organisation(user).id, reference, None)
    today = clock.today(referral.department)
    categories = ["violence"] + (["shared_home"] if referral.shares_home else [])
    household = Household(association_id=user.organisation_id, reference=reference, status="draft",
                          adults=referral.adults, children=referral.children, urgency=referral.urgency,
                          monthly_income=0, housing_allowance=0, priority_categories=categories,
                          requested_on=today, ready_from=today,
                          search_area={"communes": [], "departments": [referral.department]},
                          exclusion_zones=[], preferred_points=[],
                          current_home=({"landlord": referral.landlord.code, "commune": None, "unit": None}
                                        if referral.is_tenant else None))
    session.add(household)
    session.flush()
    _decide(session, referral, user, "accepted", household_id=household.id)
    audit.record(session, "household.create", actor=user, object_type="household", object_id=household.public_id)
    audit.record(session, "referral.accept", actor=user, object_type="referral", object_id=referral.public_id)
    notifications.tell(session, referral.landlord, _l("L'association a accepté votre orientation %(id)s.",
                                                      id=referral.public_id),
                       LANDLORD_REFERRAL_LINK.format(id=referral.public_id))
    return household


def decline(session: so.Session, user: User, public_id: str, *, reason: str) -> Referral:
    """The association declines the referral, with a coded reason the landlord reads."""
    referral = get_referral(session, user, public_id)
    if user.role != "association":
        raise NotFound(_l("Orientation introuvable : %(id)s.", id=public_id), field="referral")
    if reason not in REFERRAL_DECLINE_REASONS:
        raise ValidationError(_l("Choisissez un motif."), field="reason")
    _decide(session, referral, user, "declined", decline_reason=reason)
    audit.record(session, "referral.decline", actor=user, object_type="referral", object_id=referral.public_id)
    notifications.tell(session, referral.landlord, _l("L'association a décliné votre orientation %(id)s.",
                                                      id=referral.public_id),
                       LANDLORD_REFERRAL_LINK.format(id=referral.public_id))
    return referral


def referral_of(session: so.Session, household: Household) -> Referral | None:
    """The referral a household file came from, if any."""
    return session.scalar(sa.select(Referral).where(Referral.household_id == household.id))


REFERRAL_FIELDS = ("id", "status", "department", "adults", "children", "urgency", "shares_home", "is_tenant",
                   "site", "consent_on", "message", "decline_reason", "created_at", "decided_at")


def referral_view(referral: Referral, user: User) -> dict[str, Any]:
    """What each side may read of a referral (an allow-list per audience).

    The landlord: what it typed, the association's name and the status — never the file.
    The association: the same without the landlord's reference (it may identify her
    tenancy), with the landlord's name and its own file when it accepted.
    """
    data: dict[str, Any] = {k: getattr(referral, k) for k in REFERRAL_FIELDS if k != "id"}
    data["id"] = referral.public_id
    data["origin"] = REFERRAL_ORIGIN
    if user.role in LANDLORD_SIDE:
        data["landlord_reference"] = referral.landlord_reference
        data["association"] = {"code": referral.association.code, "name": referral.association.name}
    else:
        data["landlord"] = {"name": referral.landlord.name}
        household = referral.household
        data["household"] = ({"id": household.public_id, "reference": household.reference}
                             if household is not None else None)
    return data


# --- Checkpoints -------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it has no such day)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def lease_date(session: so.Session, proposal: Proposal) -> dt.date:
    """The date the follow-up counts from: the move-in date of the lease record (the tenancy
    starts then), else the day the lease was recorded (a lease recorded without its terms)."""
    record = leases.of(session, proposal)
    if record is not None:
        return record.move_in_on
    return clock.today(proposal.unit.department)


def schedule(session: so.Session, proposal: Proposal) -> list[Checkpoint]:
    """The three checkpoints of a lease just recorded (none twice)."""
    start = lease_date(session, proposal)
    have = set(session.scalars(sa.select(Checkpoint.months).where(Checkpoint.proposal_id == proposal.id)))
    made = [Checkpoint(proposal_id=proposal.id, household_id=proposal.household_id,
                       association_id=proposal.household.association_id, months=m, lease_on=start,
                       due_on=add_months(start, m)) for m in CHECKPOINT_MONTHS if m not in have]
    session.add_all(made)
    session.flush()
    return made


def list_checkpoints(session: so.Session, user: User, *, household: Household | None = None,
                     status: str | None = None, limit: int = 200) -> list[Checkpoint]:
    """The association's checkpoints (of one household), the earliest due first."""
    stmt = (sa.select(Checkpoint).where(Checkpoint.association_id == user.organisation_id)
            .options(so.joinedload(Checkpoint.household))
            .order_by(sa.case((Checkpoint.status == "due", 0), else_=1), Checkpoint.due_on, Checkpoint.id)
            .limit(limit))
    if household is not None:
        stmt = stmt.where(Checkpoint.household_id == household.id)
    if status:
        stmt = stmt.where(Checkpoint.status == status)
    return list(session.scalars(stmt))


def get_checkpoint(session: so.Session, user: User, public_id: str) -> Checkpoint:
    """One of the association's checkpoints; NotFound for any other."""
    checkpoint = session.scalar(sa.select(Checkpoint).where(
        Checkpoint.public_id == public_id, Checkpoint.association_id == user.organisation_id)
        .options(so.joinedload(Checkpoint.household)))
    if checkpoint is None:
        raise NotFound(_l("Point de suivi introuvable : %(id)s.", id=public_id), field="checkpoint")
    return checkpoint


def record_checkpoint(session: so.Session, user: User, public_id: str, *, status: str,
                      outcome: str) -> Checkpoint:
    """The referent records a checkpoint: a status and a coded outcome (once)."""
    checkpoint = get_checkpoint(session, user, public_id)
    errors: dict[str, list[Any]] = {}
    if status not in RECORDED_STATUSES:
        errors["status"] = [_l("Choisissez : %(choices)s.", choices=", ".join(RECORDED_STATUSES))]
    if outcome not in CHECKPOINT_OUTCOMES:
        errors["outcome"] = [_l("Choisissez un constat.")]
    if errors:
        raise ValidationError(errors)
    moved = session.execute(sa.update(Checkpoint).where(Checkpoint.id == checkpoint.id, Checkpoint.status == "due")
                            .values(status=status, outcome=outcome, recorded_at=utcnow(),
                                    recorded_by_id=user.id).returning(Checkpoint.id)).first()
    session.refresh(checkpoint)
    if moved is None:
        raise Conflict(_l("Ce point de suivi est déjà enregistré."), field="status")
    audit.record(session, "checkpoint.record", actor=user, object_type="checkpoint",
                 object_id=checkpoint.public_id)
    return checkpoint


@dataclass(frozen=True)
class CheckpointDue:
    """A checkpoint on the referent's worklist."""

    checkpoint: Checkpoint
    overdue: bool


def worklist(session: so.Session, user: User, days_before: int, *, today: dt.date | None = None,
             limit: int = 20) -> list[CheckpointDue]:
    """The checkpoints to record now: past due (overdue) or due within `days_before` days."""
    today = today or clock.today_for(_organisation(user).departments or [])
    rows = session.scalars(sa.select(Checkpoint).where(
        Checkpoint.association_id == user.organisation_id, Checkpoint.status == "due",
        Checkpoint.due_on <= today + dt.timedelta(days=days_before))
        .options(so.joinedload(Checkpoint.household)).order_by(Checkpoint.due_on, Checkpoint.id).limit(limit))
    return [CheckpointDue(c, c.due_on < today) for c in rows]


def overdue_count(session: so.Session, user: User, *, today: dt.date | None = None) -> int:
    """How many of the association's checkpoints are past due."""
    today = today or clock.today_for(_organisation(user).departments or [])
    return session.scalar(sa.select(sa.func.count()).select_from(Checkpoint).where(
        Checkpoint.association_id == user.organisation_id, Checkpoint.status == "due",
        Checkpoint.due_on < today)) or 0


def reminder(months: int, late: bool, **params: str) -> Any:
    """The words of a checkpoint reminder (her file's reference only: no address)."""
    if late:
        return _l("En retard : le point de suivi à %(months)s mois du dossier %(ref)s était attendu le %(date)s.",
                  months=str(months), **params)
    return _l("Rappel : le point de suivi à %(months)s mois du dossier %(ref)s est attendu le %(date)s.",
              months=str(months), **params)


def send_reminders(session: so.Session, days_before: int, *, today: dt.date | None = None) -> int:
    """Remind each association of its checkpoints `days_before` their due date, and once past
    it; each reminder once (the mechanism of `services.worklists.send_reminders`: a
    notification with the same words and link is not repeated). Returns how many."""
    horizon = (today or clock.latest_today()) + dt.timedelta(days=days_before)
    rows = list(session.scalars(sa.select(Checkpoint).where(Checkpoint.status == "due", Checkpoint.due_on <= horizon)
                                .options(so.joinedload(Checkpoint.household), so.joinedload(Checkpoint.association),
                                         so.joinedload(Checkpoint.proposal).joinedload(Proposal.unit))
                                .order_by(Checkpoint.id)))
    sent = 0
    for checkpoint in rows:
        now = today or clock.today(checkpoint.proposal.unit.department)
        if now < checkpoint.due_on - dt.timedelta(days=days_before):
            continue
        message = reminder(checkpoint.months, checkpoint.due_on < now, ref=checkpoint.household.reference,
                           date=checkpoint.due_on.strftime("%d/%m/%Y"))
        link = ASSOCIATION_CHECKPOINT_LINK.format(id=checkpoint.public_id)
        msgid = messages.deferred(message)[0]
        if session.scalar(sa.select(Notification.id).where(
                Notification.organisation_id == checkpoint.association_id, Notification.msgid == msgid,
                Notification.link == link).limit(1)) is not None:
            continue
        notifications.tell(session, checkpoint.association, message, link)
        sent += 1
    session.flush()
    return sent


def checkpoint_view(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as its association reads it."""
    return {"id": checkpoint.public_id, "months": checkpoint.months, "lease_on": checkpoint.lease_on,
            "due_on": checkpoint.due_on, "status": checkpoint.status, "outcome": checkpoint.outcome,
            "recorded_at": checkpoint.recorded_at,
            "household": {"id": checkpoint.household.public_id, "reference": checkpoint.household.reference}}
