"""Emergency and temporary places (issue 18): sheltering a household for a while, apart
from the four ways to a permanent home.

A place is a unit its landlord marked `temporary`, with a maximum stay. The run, the offer
board, the rehousing requests and the direct match never propose it (`units.permanent()`
filters them out, `offers._open_checked` refuses one): a stay is not a home. The
coordination of the place's territory shelters a household there; the stay is a
`models.Placement`, and the household keeps her status, so every channel keeps looking for
her permanent home. Her exclusion zones hold for a place as for a home: the same hard
rules of matching (`offers.pair_check`) are checked before she is sheltered.

A stay ends when the coordination or her association records it (she left, the maximum
stay was reached), or by itself when the lease of her permanent home is signed
(`end_on_lease`, called by the lease).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Household, Placement, Unit, User
from models.housing import PROTECTED
from models.shelter import PLACEMENT_END_REASONS
from services import audit, clock, notifications, offers, territory
from services.errors import Conflict, NotFound, ValidationError

END_REASON_LABELS = {
    "rehoused": _l("Relogée durablement"),
    "left": _l("Partie d'elle-même"),
    "stay_ended": _l("Durée maximale atteinte"),
    "other": _l("Autre raison"),
}
# A stay is recorded when it starts: at most this many days before or after today.
START_WINDOW_DAYS = 30
# The households a place lists as able to go there are checked up to this many (most urgent first).
CANDIDATES_CHECKED = 300
# A household waiting for a place may also be waiting for a commission's answer.
SHELTERABLE_STATUSES = ("active", "proposed")
SHELTER_LINK = "/coordination/places-urgence"


@dataclass
class Candidate:
    household: Household
    score: float


@dataclass
class Place:
    """One emergency or temporary place of the territory, its current stay, and (when it is
    free) the households it may shelter, most urgent first."""

    unit: Unit
    stay: Placement | None
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return self.stay is not None and self.stay.planned_end_on < clock.today(self.unit.department)


def open_stay(session: so.Session, *, unit: Unit | None = None,
              household: Household | None = None) -> Placement | None:
    """The open stay in this place, or of this household."""
    stmt = sa.select(Placement).where(Placement.ended_on.is_(None))
    if unit is not None:
        stmt = stmt.where(Placement.unit_id == unit.id)
    if household is not None:
        stmt = stmt.where(Placement.household_id == household.id)
    return session.scalar(stmt)


def refuse_if_occupied(session: so.Session, unit: Unit) -> None:
    """A place someone is sheltered in stays a place (and stays offered) until her stay ends."""
    stay = open_stay(session, unit=unit)
    if stay is not None:
        raise Conflict(_l("Un ménage est hébergé dans cette place jusqu'au %(day)s : la coordination doit d'abord "
                          "mettre fin au séjour.", day=stay.planned_end_on.strftime("%d/%m/%Y")), field="temporary")


def _shelterable(session: so.Session, user: User) -> list[Household]:
    """Her territory's households that may be sheltered (not already), most urgent first."""
    sheltered = sa.select(Placement.household_id).where(Placement.ended_on.is_(None))
    return list(session.scalars(
        sa.select(Household).where(Household.status.in_(SHELTERABLE_STATUSES), territory.households(session, user),
                                   Household.id.not_in(sheltered))
        .options(so.undefer_group(PROTECTED))
        .order_by(Household.urgency.desc(), Household.id).limit(CANDIDATES_CHECKED)))


def _candidates(session: so.Session, unit: Unit, households: list[Household]) -> list[Candidate]:
    """Those of `households` this place suits by the hard rules, most urgent first, then best score."""
    policy = offers.policy_for(session, unit.department)
    out = []
    for household in households:
        verdict = offers.pair_check(session, unit, household, policy=policy)
        if verdict.compatible:
            out.append(Candidate(household, verdict.score))
    out.sort(key=lambda c: (-c.household.urgency, -c.score))
    return out


def places(session: so.Session, user: User) -> list[Place]:
    """The territory's published emergency and temporary places, each with its stay or its
    candidates (the coordinator's page)."""
    units = list(session.scalars(
        sa.select(Unit).where(Unit.temporary.is_(True), Unit.status == "published", territory.units(user))
        .options(so.joinedload(Unit.landlord)).order_by(Unit.department, Unit.reference)))
    stays = {stay.unit_id: stay for stay in session.scalars(
        sa.select(Placement).where(Placement.unit_id.in_([u.id for u in units]), Placement.ended_on.is_(None))
        .options(so.joinedload(Placement.household)))}
    # The same households are checked against every free place: read them once.
    households = _shelterable(session, user) if len(stays) < len(units) else []
    return [Place(unit, stays.get(unit.id), [] if unit.id in stays else _candidates(session, unit, households))
            for unit in units]


def _place(session: so.Session, user: User, unit_id: str) -> Unit:
    unit = session.scalar(sa.select(Unit).where(Unit.public_id == unit_id, territory.units(user))
                          .options(so.joinedload(Unit.landlord)).with_for_update(of=Unit))
    if unit is None or not unit.temporary:
        raise NotFound(_l("Place introuvable : %(id)s.", id=unit_id), field="unit")
    if unit.status != "published":
        raise Conflict(_l("Cette place n'est pas publiée par son bailleur."), field="unit")
    return unit


def shelter(session: so.Session, user: User, *, unit_id: str, household_id: str,
            started_on: dt.date | None = None, base_url: str = "") -> Placement:
    """Shelter one household of the coordinator's territory in one of its places.

    :raise NotFound: the place or the household is not of her territory.
    :raise Conflict: the place is taken, or the household is already sheltered or not active.
    :raise ValidationError: the start date, or a hard rule of matching (her exclusion zones first).
    """
    unit = _place(session, user, unit_id)
    household = session.scalar(sa.select(Household).where(
        Household.public_id == household_id, territory.households(session, user))
        .options(so.undefer_group(PROTECTED), so.joinedload(Household.association)).with_for_update(of=Household))
    if household is None:
        raise NotFound(_l("Ménage introuvable : %(id)s.", id=household_id), field="household")
    if household.status not in SHELTERABLE_STATUSES:
        raise Conflict(_l("Seul un ménage actif peut être mis à l'abri."), field="household")
    today = clock.today(unit.department)
    started_on = started_on or today
    if abs((started_on - today).days) > START_WINDOW_DAYS:
        raise ValidationError(_l("Le séjour commence au plus %(n)d jours avant ou après aujourd'hui.",
                                 n=START_WINDOW_DAYS), field="started_on")
    if open_stay(session, unit=unit) is not None:
        raise Conflict(_l("Cette place est déjà occupée."), field="unit")
    if open_stay(session, household=household) is not None:
        raise Conflict(_l("Ce ménage est déjà hébergé dans une place d'urgence."), field="household")
    verdict = offers.pair_check(session, unit, household)
    if not verdict.compatible:
        raise ValidationError({"unit": offers.reason_labels(verdict.failures), "rules": list(verdict.failures)})
    assert unit.max_stay_days is not None  # the units' check constraint: a place has its maximum stay
    stay = Placement(unit_id=unit.id, household_id=household.id, department=unit.department,
                     started_on=started_on, planned_end_on=started_on + dt.timedelta(days=unit.max_stay_days),
                     created_by_id=user.id)
    session.add(stay)
    session.flush()
    audit.record(session, "placement.open", actor=user, object_type="household", object_id=household.public_id)
    # Neither message says where: the association reads the place on her file, the landlord
    # learns only that its place is taken, and until when.
    notifications.tell(session, household.association, _l(
        "Mise à l'abri : le ménage %(ref)s est hébergé dans une place d'urgence du %(start)s au %(end)s. Sa "
        "recherche d'un logement durable continue.", ref=household.reference,
        start=stay.started_on.strftime("%d/%m/%Y"), end=stay.planned_end_on.strftime("%d/%m/%Y")),
        f"/association/menages/{household.public_id}", email="placement", base_url=base_url)
    notifications.tell(session, unit.landlord, _l(
        "Votre place d'urgence %(ref)s accueille un ménage du %(start)s au %(end)s.", ref=unit.reference,
        start=stay.started_on.strftime("%d/%m/%Y"), end=stay.planned_end_on.strftime("%d/%m/%Y")), None)
    return stay


def _end(session: so.Session, user: User | None, stay: Placement, ended_on: dt.date, reason: str) -> Placement:
    stay.ended_on = max(ended_on, stay.started_on)
    stay.end_reason = reason
    session.flush()
    audit.record(session, "placement.end", actor=user, object_type="household", object_id=stay.household.public_id)
    return stay


def end_stay(session: so.Session, user: User, placement_id: str, *, reason: str,
             ended_on: dt.date | None = None) -> Placement:
    """Record the end of a stay: the coordination of the place's territory, or her association.

    :raise NotFound: not a stay this user may see. :raise Conflict: already ended.
    :raise ValidationError: unknown reason, or a date before the stay or in the future.
    """
    stmt = sa.select(Placement).where(Placement.public_id == placement_id).join(Household).join(Unit)
    if user.role == "association":
        stmt = stmt.where(Household.association_id == user.organisation_id)
    else:
        stmt = stmt.where(territory.units(user))
    stay = session.scalar(stmt.with_for_update(of=Placement))
    if stay is None:
        raise NotFound(_l("Séjour introuvable : %(id)s.", id=placement_id), field="placement")
    if stay.ended_on is not None:
        raise Conflict(_l("Ce séjour est déjà terminé."), field="placement")
    if reason not in PLACEMENT_END_REASONS or reason == "rehoused":
        # "rehoused" is the lease's to record (`end_on_lease`), with its date.
        raise ValidationError(_l("Choisissez pourquoi le séjour se termine."), field="reason")
    today = clock.today(stay.department)
    ended_on = ended_on or today
    if not stay.started_on <= ended_on <= today:
        raise ValidationError(_l("La fin du séjour est entre son début (%(start)s) et aujourd'hui.",
                                 start=stay.started_on.strftime("%d/%m/%Y")), field="ended_on")
    return _end(session, user, stay, ended_on, reason)


def end_on_lease(session: so.Session, household: Household, move_in_on: dt.date, *,
                 actor: User | None = None) -> Placement | None:
    """Her permanent home's lease ends her stay, on the day she moves in."""
    stay = open_stay(session, household=household)
    if stay is None:
        return None
    return _end(session, actor, stay, move_in_on, "rehoused")


def stays_of(session: so.Session, household: Household) -> list[Placement]:
    """Her stays, newest first (her association's page)."""
    return list(session.scalars(sa.select(Placement).where(Placement.household_id == household.id)
                                .options(so.joinedload(Placement.unit).joinedload(Unit.landlord))
                                .order_by(Placement.started_on.desc(), Placement.id.desc())))
