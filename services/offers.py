"""The offer board: candidacies, rehousing requests and the offers on them, direct matches.

Three ways a unit reaches a household besides the coordinator's run. Each ends as a
proposal created by `proposal_flow.open_proposal` with its origin (`candidacy`, `request`,
`direct`), and each first passes `pair_check`: the hard rules of `matching` on a
one-unit/one-household instance (`matching.validation.pair_failures`, the solver's own
rules), then `matching.check` on that single proposal. A pair that fails either is never
stored.

What a landlord learns of a refused offer is "not compatible", nothing else: the rules
broken are kept (`RefusedOffer`) and audited for the coordinator, and refused offers are
limited per request and landlord, so that offering unit after unit cannot map where she
may not live.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from matching import check, geo, instance_from_dict
from matching import domain as mdomain
from matching.validation import pair_components, pair_failures
from models import Household, Organisation, Proposal, RefusedOffer, RehousingRequest, Unit, User, utcnow
from models.housing import PROTECTED
from services import audit, clock, photos, profiles, proposal_flow, runs, territory
from services import households as households_svc
from services import units as units_svc
from services.errors import Conflict, NotFound, ServiceError, ValidationError

# How many open candidacies a household may have at once (policy key; default 2).
MAX_OPEN_CANDIDACIES_KEY = "max_open_candidacies"
DEFAULT_MAX_OPEN_CANDIDACIES = 2
# Refused offers a landlord may make on one request in a day, before it must wait.
REFUSED_OFFERS_PER_DAY = 3
# Days the household (her referent) has to answer a request's offer or a direct match.
REPLY_DAYS = 14
MESSAGE_MAX = 1000
# Units that can still take a candidate: published, or already proposed to others.
OPEN_UNIT_STATUSES = ("published", "proposed")
CANDIDACY_HOUSEHOLD_STATUSES = ("active", "proposed")
NOT_COMPATIBLE = _l("not compatible")

# Digits that may locate her or reach her: a phone number, a postcode, a street number.
_PHONE = re.compile(r"(?:\+\s*33|\b0)\s*[1-9](?:[\s.\-]*\d){8}")
_POSTCODE = re.compile(r"\b\d{5}\b")
_STREET = re.compile(
    r"\b\d{1,4}\s*(?:bis|ter)?\s*,?\s*(?:rue|av(?:enue|\.)?|bd|boulevard|chemin|all[ée]e|place|impasse"
    r"|quai|route|cours|r[ée]sidence|square|cit[ée]|lotissement|chauss[ée]e|faubourg|voie)\b",
    re.IGNORECASE)


class TooManyRefusals(ServiceError):
    """Too many refused offers on this request today: wait before offering again."""

    status = 429


@dataclass(frozen=True)
class PairCheck:
    """The verdict of the hard rules on one unit for one household."""

    failures: tuple[str, ...]  # matching rule codes, in matching's order; empty: safe
    components: Mapping[str, float]  # the score's components (safe pairs only)

    @property
    def compatible(self) -> bool:
        return not self.failures

    @property
    def score(self) -> float:
        return round(sum(self.components.values()), 2)


def policy_for(session: so.Session, department: str) -> dict[str, Any]:
    """The matching policy of the coordination team working in `department` (the defaults
    if there is none): the same policy its runs would apply to this unit."""
    teams = territory.teams_covering(session, [department])
    return runs.territory_policy(session, teams[0] if teams else None)


def _matching_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    # Keys of the offer board only: matching's reader does not know them.
    return {k: v for k, v in policy.items() if k != MAX_OPEN_CANDIDACIES_KEY}


def pair_check(session: so.Session, unit: Unit, household: Household, *,
               as_of: dt.date | None = None, policy: Mapping[str, Any] | None = None) -> PairCheck:
    """The hard rules of matching on this one pair, then `matching.check` on the proposal.

    The instance is built from the same dictionaries as the run's (services.safety), with
    the policy of the unit's territory; the rules are matching's own functions.
    """
    from services import safety  # safety imports this module's policy_for

    if policy is None:
        policy = policy_for(session, unit.department)
    as_of = as_of or clock.today(unit.department)
    instance = instance_from_dict({
        "format": "passerelle.instance/1",
        "as_of": as_of.isoformat(),
        "policy": _matching_policy(policy),
        "units": [safety._unit_dict(unit, as_of)],
        "households": [safety._household_dict(household)],
    })
    u, h = instance.units[0], instance.households[0]
    failures = pair_failures(instance, u, h)
    if households_svc.current_unit(household.current_home) == unit.public_id:
        # The home she lives in now (the one shared with the aggressor): the closest of zones.
        failures = list(dict.fromkeys([*failures, "exclusion_zone"]))
    if failures:
        return PairCheck(tuple(failures), {})
    components = {name: cents / 100 for name, cents in pair_components(instance, u, h).items()}
    result = mdomain.Result(
        proposals=(mdomain.Proposal(unit=u.id, household=h.id, rank=1,
                                    score=sum(components.values()), components=components),),
        unmatched=())
    violations = check(instance, result)
    if violations:
        return PairCheck(tuple(dict.fromkeys(v.code for v in violations)), {})
    return PairCheck((), components)


def reason_labels(codes: Iterable[str]) -> list[str]:
    """The rules in words (the run's labels)."""
    return [str(runs.REASON_LABELS.get(code, code)) for code in codes]


def _organisation(user: User) -> Organisation:
    # Offers and requests are for association and landlord users only (@requires, web/access.py),
    # and those roles always have their organisation: services.accounts refuses a user of these
    # roles without one, and an organisation with users cannot be deleted (ondelete RESTRICT).
    assert user.organisation is not None
    return user.organisation


def _protected(stmt: sa.Select[Household]) -> sa.Select[Household]:
    return stmt.options(so.undefer_group(PROTECTED), so.joinedload(Household.association))


def _own_household(session: so.Session, user: User, household_id: str) -> Household:
    household = session.scalar(_protected(sa.select(Household).where(
        Household.public_id == household_id, Household.association_id == user.organisation_id)))
    if household is None:
        raise NotFound(_l("Ménage introuvable : %(id)s.", id=household_id), field="household")
    return household


def _unit(session: so.Session, unit_id: str, *, landlord_id: int | None = None,
          within: sa.ColumnElement[bool] | None = None) -> Unit:
    stmt = sa.select(Unit).where(Unit.public_id == unit_id).options(so.joinedload(Unit.landlord))
    if landlord_id is not None:
        stmt = stmt.where(Unit.landlord_id == landlord_id)
    if within is not None:
        stmt = stmt.where(within)
    unit = session.scalar(stmt)
    if unit is None:
        raise NotFound(_l("Logement introuvable : %(id)s.", id=unit_id), field="unit")
    return unit


def _deadline(department: str) -> dt.date:
    return clock.today(department) + dt.timedelta(days=REPLY_DAYS)


# --- The offer board --------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A published unit as an association sees it on the board (an allow-list: no
    reference, no coordinates), with the verdict for one household when asked."""

    id: str
    landlord_name: str
    commune: str
    commune_name: str
    department: str
    typology: str
    rooms: int
    surface_m2: float | None
    floor: int
    elevator: bool
    wheelchair_accessible: bool
    rent: Decimal
    charges: Decimal
    financing: str | None
    available_from: dt.date
    compatible: bool | None = None
    reasons: tuple[str, ...] = ()
    # The landlord's photos: (id, caption, width, height), in their order.
    photos: tuple[tuple[str, str, int, int], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in OFFER_FIELDS}
        d["rent"], d["charges"] = float(self.rent), float(self.charges)
        d["reasons"] = list(self.reasons)
        d["photos"] = [{"id": i, "caption": c, "width": w, "height": h} for i, c, w, h in self.photos]
        return d


OFFER_FIELDS = ("id", "landlord_name", "commune", "commune_name", "department", "typology", "rooms",
                "surface_m2", "floor", "elevator", "wheelchair_accessible", "rent", "charges",
                "financing", "available_from", "compatible", "reasons", "photos")


def list_offers(session: so.Session, user: User, *, household_id: str | None = None,
                department: str | None = None, min_rooms: int | None = None,
                max_rent: float | None = None, accessible: bool = False,
                limit: int = 200) -> list[Offer]:
    """The published units of the departments the association works in, with filters;
    with `household_id` (her own), each says whether it suits her and, if not, why."""
    departments = list(_organisation(user).departments or [])
    if department:
        departments = [d for d in departments if d == department]
    household = _own_household(session, user, household_id) if household_id else None
    stmt = (sa.select(Unit).where(Unit.status == "published", units_svc.permanent(), Unit.department.in_(departments))
            .options(so.joinedload(Unit.landlord)).order_by(Unit.available_from, Unit.id).limit(limit))
    if min_rooms:
        stmt = stmt.where(Unit.rooms >= min_rooms)
    if max_rent is not None:
        stmt = stmt.where(Unit.rent + Unit.charges <= max_rent)
    if accessible:
        stmt = stmt.where(Unit.wheelchair_accessible.is_(True))
    policies: dict[str, dict[str, Any]] = {}
    out = []
    rows = list(session.scalars(stmt))
    pictures = photos.photos_of(session, [u.id for u in rows])
    for unit in rows:
        verdict: PairCheck | None = None
        if household is not None:
            if unit.department not in policies:
                policies[unit.department] = policy_for(session, unit.department)
            verdict = pair_check(session, unit, household, policy=policies[unit.department])
        place = geo.commune(unit.commune)
        out.append(Offer(
            id=unit.public_id, landlord_name=unit.landlord.name, commune=unit.commune,
            commune_name=place.name if place else unit.commune, department=unit.department,
            typology=f"T{unit.rooms}", rooms=unit.rooms, surface_m2=unit.surface_m2, floor=unit.floor,
            elevator=unit.elevator, wheelchair_accessible=unit.wheelchair_accessible, rent=unit.rent,
            charges=unit.charges, financing=unit.financing, available_from=unit.available_from,
            compatible=None if verdict is None else verdict.compatible,
            reasons=() if verdict is None else verdict.failures,
            photos=tuple((p.public_id, p.caption, p.width, p.height) for p in pictures[unit.id])))
    return out


# --- Creating a proposal after the checks ----------------------------------------------


def _open_checked(session: so.Session, *, unit: Unit, household: Household, origin: str,
                  actor: User, refuse: Any) -> Proposal:
    """Check the pair and open the proposal; `refuse(failures)` raises when it is unsafe."""
    if unit.status not in OPEN_UNIT_STATUSES:
        raise Conflict(_l("Ce logement n'est plus proposé : %(id)s.", id=unit.public_id), field="unit")
    if unit.temporary:
        # A stay is not a home: a place is sheltered in through services.shelter, never proposed.
        raise Conflict(_l("%(id)s est une place d'urgence ou temporaire : elle ne se propose pas comme "
                          "logement durable (voir les places d'urgence).", id=unit.public_id), field="unit")
    verdict = pair_check(session, unit, household)
    if not verdict.compatible:
        refuse(verdict.failures)
        raise AssertionError("refuse() must raise")  # pragma: no cover
    return proposal_flow.open_proposal(
        session, unit=unit, household=household, origin=origin, actor=actor, deadline=_deadline(unit.department),
        score=verdict.score, components=dict(verdict.components))


def _broken(failures: Iterable[str]) -> None:
    raise ValidationError({"unit": reason_labels(failures), "rules": list(failures)})


def open_candidacies(session: so.Session, household: Household) -> int:
    """The household's candidacies still waiting for an answer."""
    return session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.household_id == household.id, Proposal.origin == "candidacy",
        Proposal.status.in_(proposal_flow.OPEN_STATUSES))) or 0


def put_forward(session: so.Session, user: User, *, unit_id: str, household_id: str) -> Proposal:
    """A candidacy: the referent puts her own household forward on a published unit.

    The household's consent is already given: the proposal goes straight to the landlord's
    commission (`household_accepted`).

    :raise ValidationError: (422) the pair breaks hard rules (named: the association may know).
    :raise Conflict: (409) the household has as many open candidacies as the policy allows,
        or the unit is no longer published.
    """
    household = _own_household(session, user, household_id)
    unit = _unit(session, unit_id)
    if unit.department not in (_organisation(user).departments or []):
        raise NotFound(_l("Logement introuvable : %(id)s.", id=unit_id), field="unit")
    limit = int(policy_for(session, unit.department).get(MAX_OPEN_CANDIDACIES_KEY, DEFAULT_MAX_OPEN_CANDIDACIES))
    if household.status not in CANDIDACY_HOUSEHOLD_STATUSES:
        raise Conflict(_l("Ce ménage n'attend pas de proposition."), field="household")
    if open_candidacies(session, household) >= limit:
        raise Conflict(_l("Ce ménage a déjà %(n)d candidatures en cours.", n=limit), field="household")
    proposal = _open_checked(session, unit=unit, household=household, origin="candidacy", actor=user,
                             refuse=_broken)
    proposal_flow.move(session, proposal, "household_accept", actor=user)
    return proposal


def direct_match(session: so.Session, user: User, *, unit_id: str, household_id: str,
                 reason: str) -> Proposal:
    """A coordinator proposes one unit to one household of its territory, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Indiquez la raison de cette proposition directe."), field="reason")
    # Her territory, by services.territory's rules (the ones every other route applies).
    unit = _unit(session, unit_id, within=territory.units(user))
    household = session.scalar(_protected(sa.select(Household).where(
        Household.public_id == household_id, territory.households(session, user))))
    if household is None:
        raise NotFound(_l("Ménage introuvable : %(id)s.", id=household_id), field="household")
    proposal = _open_checked(session, unit=unit, household=household, origin="direct", actor=user,
                             refuse=_broken)
    proposal.origin_reason = reason[:200]
    audit.record(session, "proposal.direct", actor=user, object_type="proposal", object_id=proposal.public_id)
    session.flush()
    return proposal


# The coordinator's page lists this many of her territory's latest direct matches.
DIRECT_MATCHES_SHOWN = 50


def direct_matches(session: so.Session, user: User, *, limit: int = DIRECT_MATCHES_SHOWN) -> list[Proposal]:
    """The direct matches of the coordinator's territory, newest first, with where each stands."""
    return list(session.scalars(
        sa.select(Proposal).where(Proposal.origin == "direct", territory.proposals(session, user))
        .options(so.joinedload(Proposal.unit), so.joinedload(Proposal.household))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc()).limit(limit)))


# --- Rehousing requests -----------------------------------------------------------------


def message_problem(message: str) -> str | None:
    """Why this message may locate or reach the household (None: it may be sent)."""
    if _PHONE.search(message):
        return str(_l("Le message contient ce qui ressemble à un numéro de téléphone."))
    if _STREET.search(message) or _POSTCODE.search(message):
        return str(_l("Le message contient ce qui ressemble à une adresse."))
    return None


def post_request(session: so.Session, user: User, *, household_id: str,
                 message: str | None = None) -> RehousingRequest:
    """An anonymised rehousing request for one of the association's active households."""
    household = _own_household(session, user, household_id)
    if household.status != "active":
        raise Conflict(_l("Seul un ménage actif peut faire l'objet d'une demande."), field="household")
    message = (message or "").strip() or None
    if message is not None:
        if len(message) > MESSAGE_MAX:
            raise ValidationError(_l("Au plus %(n)d caractères.", n=MESSAGE_MAX), field="message")
        problem = message_problem(message)
        if problem:
            raise ValidationError(problem, field="message")
    if session.scalar(sa.select(RehousingRequest.id).where(
            RehousingRequest.household_id == household.id, RehousingRequest.status == "open")):
        raise Conflict(_l("Une demande est déjà ouverte pour ce ménage."), field="household")
    departments = sorted(runs.household_departments(household.search_area,
                                                    _organisation(user).departments or []))
    request = RehousingRequest(association_id=user.organisation_id, household_id=household.id,
                               departments=departments, message=message, created_by_id=user.id)
    session.add(request)
    session.flush()
    audit.record(session, "request.post", actor=user, object_type="request", object_id=request.public_id)
    return request


@dataclass(frozen=True)
class RequestView:
    """A request as a landlord may see it: the allow-listed profile and the departments
    searched; never a zone, a commune, a reference or the household's id."""

    id: str
    persons: int
    adults: int
    children: int
    income_band: str
    needs_wheelchair_access: bool
    needs_no_stairs: bool
    urgency: int
    departments: list[str]
    message: str | None
    association_name: str
    created_at: dt.datetime
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in REQUEST_FIELDS}


REQUEST_FIELDS = ("id", "persons", "adults", "children", "income_band", "needs_wheelchair_access",
                  "needs_no_stairs", "urgency", "departments", "message", "association_name",
                  "created_at", "status")


def request_view(request: RehousingRequest) -> RequestView:
    """The request through the landlord's allow-list."""
    household = request.household
    return RequestView(
        id=request.public_id, persons=household.persons, adults=household.adults,
        children=household.children, income_band=profiles.income_band(household.monthly_income),
        needs_wheelchair_access=household.needs_wheelchair_access,
        needs_no_stairs=household.needs_no_stairs, urgency=household.urgency,
        departments=list(request.departments or []), message=request.message,
        association_name=request.association.name, created_at=request.created_at,
        status=request.status)


def list_requests(session: so.Session, user: User, *, household: Household | None = None) -> list[RehousingRequest]:
    """An association's own requests (of one household); a landlord's: the open ones of its departments."""
    stmt = sa.select(RehousingRequest).options(
        so.joinedload(RehousingRequest.household), so.joinedload(RehousingRequest.association)
    ).order_by(RehousingRequest.created_at.desc(), RehousingRequest.id.desc())
    if user.role == "association":
        stmt = stmt.where(RehousingRequest.association_id == user.organisation_id)
        if household is not None:
            stmt = stmt.where(RehousingRequest.household_id == household.id)
        return list(session.scalars(stmt))
    mine = set(_organisation(user).departments or [])
    rows = session.scalars(stmt.where(RehousingRequest.status == "open"))
    return [r for r in rows if mine & set(r.departments or [])]


def _request_for_landlord(session: so.Session, user: User, request_id: str) -> RehousingRequest:
    request = session.scalar(sa.select(RehousingRequest).where(RehousingRequest.public_id == request_id))
    if request is None or not (set(_organisation(user).departments or []) & set(request.departments or [])):
        raise NotFound(_l("Demande introuvable : %(id)s.", id=request_id), field="request")
    if request.status != "open":
        raise Conflict(_l("Cette demande n'est plus ouverte."), field="request")
    return request


def offer_on_request(session: so.Session, user: User, *, request_id: str, unit_id: str) -> Proposal:
    """A landlord offers one of its units on a request.

    A pair that breaks a hard rule is refused with "not compatible" and nothing else: the
    rules go to a `RefusedOffer` and the audit trail, for the coordinator. A landlord with
    `REFUSED_OFFERS_PER_DAY` refusals on this request today must wait (429).
    """
    request = _request_for_landlord(session, user, request_id)
    unit = _unit(session, unit_id, landlord_id=user.organisation_id)
    since = utcnow() - dt.timedelta(days=1)
    refused = session.scalar(sa.select(sa.func.count()).select_from(RefusedOffer).where(
        RefusedOffer.request_id == request.id, RefusedOffer.landlord_id == user.organisation_id,
        RefusedOffer.created_at >= since)) or 0
    if refused >= REFUSED_OFFERS_PER_DAY:
        raise TooManyRefusals(_l("Trop d'offres refusées sur cette demande aujourd'hui : réessayez demain."),
                              field="unit")
    household = session.scalar(_protected(sa.select(Household).where(Household.id == request.household_id)))
    assert household is not None  # the request's foreign key

    def refuse(failures: Iterable[str]) -> None:
        session.add(RefusedOffer(request_id=request.id, unit_id=unit.id, landlord_id=user.organisation_id,
                                 offered_by_id=user.id, rules=list(failures)))
        session.flush()
        audit.record(session, "request.offer_refused", actor=user, object_type="request",
                     object_id=request.public_id, outcome="denied")
        raise RefusedOfferError()

    proposal = _open_checked(session, unit=unit, household=household, origin="request", actor=user,
                             refuse=refuse)
    request.status = "answered"
    request.closed_at = utcnow()
    audit.record(session, "request.offer", actor=user, object_type="request", object_id=request.public_id)
    session.flush()
    return proposal


class RefusedOfferError(ValidationError):
    """The one answer to an unsafe offer: it names no rule."""

    def __init__(self) -> None:
        super().__init__({"unit": [NOT_COMPATIBLE]})


def refused_offers(session: so.Session, user: User) -> list[RefusedOffer]:
    """The refused offers on requests of the coordinator's territory, newest first."""
    rows = session.scalars(sa.select(RefusedOffer).where(
        RefusedOffer.unit_id.in_(sa.select(Unit.id).where(territory.units(user)))).options(
        so.joinedload(RefusedOffer.request), so.joinedload(RefusedOffer.unit),
        so.joinedload(RefusedOffer.landlord)).order_by(RefusedOffer.created_at.desc(), RefusedOffer.id.desc()))
    return list(rows)
