"""What happens to a proposal once released: the household's answer, the commission's
decision, the lease, expiry and cancellation — and who may see what of it.

Every transition is a conditional UPDATE (`… WHERE status = <expected>`), checked by its
row count, taken after locking the unit's row then the household's row (always in that
order, so two transactions never wait on each other in a cycle). The database's partial
unique indexes (one promise per unit, one per household) and the unique (proposal, step)
of decisions stand behind that: a unit cannot be promised twice whatever the code does.
Anything that lost a race raises `Conflict` (409).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import AuditEvent, Decision, Household, Organisation, Proposal, Unit, User, utcnow
from models.runs import (
    COMMISSION_REFUSAL_REASONS,
    HOUSEHOLD_DECLINE_REASONS,
    PROMISED_STATUSES,
    RETAINED_STATUSES,
)
from services import clock, labels, leases, notifications
from services import proposal_flow as flow
from services.errors import Conflict, NotFound, ValidationError
from services.paging import Page, paginate

PARIS = clock.PARIS

# Released proposals: what associations and landlords may see at all.
UNRELEASED_STATUSES = ("review", "dropped")
# Waiting for someone's answer: the unit and the household are still "proposed" for it.
# A candidate the commission ranked behind another waits for the lease to fall through.
OPEN_STATUSES = flow.OPEN_STATUSES
BUSY_STATUSES = flow.BUSY_STATUSES
# What withdrawing a unit or a household cancels: everything not yet leased.
CANCELLABLE_STATUSES = flow.CANCELLABLE_STATUSES
DECISIONS = ("accept", "decline")
COMMISSION_RANKS = (1, 2, 3)

STATUS_LABELS = labels.PROPOSAL_STATUS
HOUSEHOLD_DECLINE_LABELS = labels.HOUSEHOLD_DECLINE
COMMISSION_REFUSAL_LABELS = labels.COMMISSION_REFUSAL
ACTION_LABELS = {
    "proposal.release": _l("Proposition transmise"),
    # A proposal made outside a run (offer board): sent when made.
    "proposal.open": _l("Proposition transmise"),
    "proposal.household_accept": _l("Le ménage accepte la proposition"),
    "proposal.household_decline": _l("Le ménage décline la proposition"),
    "proposal.commission_accept": _l("La commission d'attribution retient le ménage"),
    "proposal.commission_refuse": _l("La commission d'attribution refuse la candidature"),
    "proposal.lease_offer": _l("Les candidates mieux classées n'ont pas signé : le bail est proposé à ce ménage"),
    "proposal.lease": _l("Bail signé"),
    "proposal.expire": _l("Délai de réponse dépassé : proposition expirée"),
    "proposal.cancel": _l("Proposition annulée"),
    "proposal.transfer": _l("Mutation urgente : elle quitte ce logement, son dossier est rouvert"),
}
ROLE_LABELS = {
    "landlord": _l("bailleur"),
    "association": _l("association"),
    "coordinator": _l("coordination"),
    "committee": _l("comité de suivi"),
    "admin": _l("administration"),
}
STEP_OF_ACTION = {
    "proposal.household_accept": "household",
    "proposal.household_decline": "household",
    "proposal.commission_accept": "commission",
    "proposal.commission_refuse": "commission",
    "proposal.lease": "lease",
    "proposal.cancel": "lease",
}

ASSOCIATION_LINK = "/association/propositions/{id}"
LANDLORD_LINK = "/bailleur/propositions/{id}"


def paris_today() -> dt.date:
    """Today in metropolitan France (services.clock.today for a given department)."""
    return clock.today()


def reason_label(step: str, code: str | None) -> Any:
    """The French label of a coded reason."""
    return labels.reason(step, code)


# --- Reading -------------------------------------------------------------------------------


def _released() -> sa.ColumnElement[bool]:
    # A proposal the release cancelled (its unit or household was taken meanwhile) was never
    # sent: it has no deadline, and neither side ever hears of it.
    return sa.and_(Proposal.status.not_in(UNRELEASED_STATUSES),
                   sa.or_(Proposal.status != "cancelled", Proposal.deadline.is_not(None)))


def _reach(user: User) -> sa.ColumnElement[bool]:
    """The proposals a user may see: her households' (association), her units' (landlord)."""
    if user.organisation_id is not None and user.role == "association":
        return Proposal.household_id.in_(
            sa.select(Household.id).where(Household.association_id == user.organisation_id)
        )
    if user.organisation_id is not None and user.role == "landlord":
        return Proposal.unit_id.in_(
            sa.select(Unit.id).where(Unit.landlord_id == user.organisation_id)
        )
    return sa.false()


def _with_parties() -> tuple[Any, ...]:
    """Load each proposal's unit and landlord, household and association with the list
    (one statement per relation for the whole page, not one per row)."""
    return (so.selectinload(Proposal.unit).selectinload(Unit.landlord),
            so.selectinload(Proposal.household).selectinload(Household.association))


def list_for(session: so.Session, user: User, *, page: int = 1, per_page: int = 25,
             statuses: tuple[str, ...] | None = None) -> Page[Proposal]:
    """The released proposals on the user's side, those waiting for an answer first."""
    stmt = sa.select(Proposal).where(_reach(user), _released()).options(*_with_parties())
    if statuses:
        stmt = stmt.where(Proposal.status.in_(statuses))
    waiting = sa.case((Proposal.status.in_(OPEN_STATUSES + ("commission_accepted",)), 0), else_=1)
    stmt = stmt.order_by(waiting, Proposal.deadline.asc().nulls_last(), Proposal.id.desc())
    return paginate(session, stmt, page, per_page)


def get_for(session: so.Session, user: User, public_id: str) -> Proposal:
    """One released proposal on the user's side; NotFound for anything else."""
    proposal = session.scalar(
        sa.select(Proposal).where(Proposal.public_id == public_id, _reach(user), _released())
    )
    if proposal is None:
        raise NotFound(_l("Proposition introuvable."))
    return proposal


def _commission_order() -> tuple[Any, ...]:
    """A unit's candidates as the commission ranked them (retained, then leased, by rank),
    then the others, newest run first and by the matching's rank."""
    kept = sa.case((Proposal.status.in_(RETAINED_STATUSES + ("leased",)), 0), else_=1)
    return (kept, Proposal.commission_rank.asc().nulls_last(), Proposal.run_id.desc(), Proposal.rank,
            Proposal.id)


def landlord_board(session: so.Session, user: User, *, page: int = 1,
                   per_page: int = 25) -> tuple[Page[Unit], dict[int, list[Proposal]]]:
    """The landlord's units that have released proposals, each with its candidates in the
    commission's order."""
    unit_ids = sa.select(Proposal.unit_id).where(_reach(user), _released())
    busy = sa.select(Proposal.unit_id).where(_reach(user), Proposal.status.in_(BUSY_STATUSES))
    stmt = (sa.select(Unit).where(Unit.id.in_(unit_ids))
            .order_by(sa.case((Unit.id.in_(busy), 0), else_=1), Unit.reference, Unit.id))
    units = paginate(session, stmt, page, per_page)
    candidates: dict[int, list[Proposal]] = {unit.id: [] for unit in units.items}
    if candidates:
        for proposal in session.scalars(
            sa.select(Proposal).where(Proposal.unit_id.in_(candidates), _released())
            .options(*_with_parties())
            .order_by(*_commission_order())
        ):
            candidates[proposal.unit_id].append(proposal)
    return units, candidates


def unit_candidates(session: so.Session, user: User, unit: Unit) -> list[Proposal]:
    """The released proposals of one of the user's units, in the commission's order."""
    return list(session.scalars(
        sa.select(Proposal).where(Proposal.unit_id == unit.id, _reach(user), _released())
        .order_by(*_commission_order())))


def decisions_of(session: so.Session, proposal: Proposal) -> dict[str, Decision]:
    """The decisions taken on a proposal, by step."""
    return {d.step: d for d in session.scalars(
        sa.select(Decision).where(Decision.proposal_id == proposal.id).order_by(Decision.id))}


def decisions_by_proposal(session: so.Session,
                          proposals: list[Proposal]) -> dict[int, dict[str, Decision]]:
    """The decisions taken on each of `proposals` (by proposal id, then by step), in one query."""
    found: dict[int, dict[str, Decision]] = {p.id: {} for p in proposals}
    if found:
        for d in session.scalars(sa.select(Decision).where(Decision.proposal_id.in_(found))
                                 .order_by(Decision.id)):
            found[d.proposal_id][d.step] = d
    return found


def accepted_by_household(decisions: dict[str, Decision]) -> bool:
    """Whether these decisions (of one proposal, by step) include the household's yes."""
    household = decisions.get("household")
    return household is not None and household.outcome == "accept"


def household_has_accepted(session: so.Session, proposal: Proposal) -> bool:
    """Whether the household said yes to this proposal (only then does the landlord see her)."""
    return bool(session.scalar(sa.select(Decision.id).where(
        Decision.proposal_id == proposal.id, Decision.step == "household",
        Decision.outcome == "accept")))


@dataclass(frozen=True)
class TimelineEntry:
    """One step of a proposal's history as a given viewer may see it."""

    at: dt.datetime
    action: str
    label: Any
    actor: str
    reason: Any = None
    proposal_id: str | None = None


def _actor_text(event: AuditEvent, organisation: Organisation | None, email: str | None,
                viewer: User) -> str:
    if event.actor_role is None:
        return str(_l("Passerelle (automatique)"))
    role = str(ROLE_LABELS.get(event.actor_role, event.actor_role))
    name = organisation.name if organisation else str(_l("organisation supprimée"))
    # A person's e-mail is shown only to her own colleagues.
    if email and viewer.organisation_id is not None and event.organisation_id == viewer.organisation_id:
        return f"{name} ({role}, {email})"
    return f"{name} ({role})"


def timeline(session: so.Session, proposal: Proposal, viewer: User) -> list[TimelineEntry]:
    """Who did what and when on a proposal, as `viewer` may see it.

    A landlord never reads why a household declined (the reason may say where she cannot
    live); an association reads the commission's reasons, which concern her file.
    """
    entries: list[TimelineEntry] = []
    run = proposal.run
    if run is not None and run.released_at is not None:
        entries.append(TimelineEntry(at=run.released_at, action="proposal.release",
                                     label=ACTION_LABELS["proposal.release"],
                                     actor=str(_l("Coordination")), proposal_id=proposal.public_id))
    decisions = decisions_of(session, proposal)
    rows = session.execute(
        sa.select(AuditEvent, Organisation, User.email)
        .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.object_type == "proposal", AuditEvent.object_id == proposal.public_id,
               AuditEvent.outcome == "success")
        .order_by(AuditEvent.id)
    )
    for event, organisation, email in rows:
        if event.action not in ACTION_LABELS:
            continue
        reason = None
        step = STEP_OF_ACTION.get(event.action)
        decision = decisions.get(step) if step else None
        if decision is not None and decision.reason and not (
            step == "household" and viewer.role == "landlord"
        ):
            reason = reason_label(step or "", decision.reason)
        entries.append(TimelineEntry(at=event.at, action=event.action,
                                     label=ACTION_LABELS[event.action],
                                     actor=_actor_text(event, organisation, email, viewer),
                                     reason=reason, proposal_id=proposal.public_id))
    return entries


def household_timeline(session: so.Session, household: Household, viewer: User) -> list[TimelineEntry]:
    """Every released proposal's history for one household (her association's view)."""
    if viewer.role != "association" or household.association_id != viewer.organisation_id:
        raise NotFound(_l("Ménage introuvable."))
    entries: list[TimelineEntry] = []
    for proposal in session.scalars(
        sa.select(Proposal).where(Proposal.household_id == household.id, _released())
        .order_by(Proposal.id)
    ):
        entries.extend(timeline(session, proposal, viewer))
    return sorted(entries, key=lambda e: e.at)


# --- Deciding ------------------------------------------------------------------------------


def _lock(session: so.Session, proposal: Proposal) -> None:
    """Lock the unit's row, then the household's: every transition on either waits its turn."""
    flow.lock(session, proposal)


def _already(proposal: Proposal) -> Conflict:
    return flow.proposal_conflict(proposal)


def _check_reason(decision: str, reason: str | None, allowed: tuple[str, ...]) -> str | None:
    if decision not in DECISIONS:
        raise ValidationError(_l("Décision inconnue : choisissez accepter ou refuser."),
                              field="decision")
    if decision == "accept":
        return None
    if not reason:
        raise ValidationError(_l("Indiquez le motif du refus."), field="reason")
    if reason not in allowed:
        raise ValidationError(_l("Motif inconnu : %(code)s.", code=reason), field="reason")
    return reason


def _free_if_idle(session: so.Session, unit: Unit | None, household: Household | None) -> None:
    """A unit (household) with nothing open or promised left goes back to the pool."""
    _free_idle(session, [unit] if unit else [], [household] if household else [])


def _free_idle(session: so.Session, units: Iterable[Unit], households: Iterable[Household]) -> None:
    """Every one of these units and households with nothing open or promised left goes back
    to the pool (one query per kind, however many)."""
    flow.free_idle(session, units, households)


def _cancel(session: so.Session, proposals: list[Proposal], actor: User | None,
            *, base_url: str, statuses: tuple[str, ...] = OPEN_STATUSES, offer_next: bool = True) -> int:
    """Cancel proposals that can no longer be honoured, and tell both sides; how many.

    `statuses`: those that may be cancelled (open ones unless told otherwise). When the
    candidate offered the lease is cancelled, the next-ranked one is offered it, unless
    `offer_next` is False (the unit itself is going away). A few statements for the lot,
    not a dozen per proposal: a household promised elsewhere may hold dozens of offers."""
    if not proposals:
        return 0
    ids = [p.id for p in proposals]
    # Lock the rows and read their status now.
    current: dict[int, str] = {pid: status for pid, status in session.execute(
        sa.select(Proposal.id, Proposal.status).where(Proposal.id.in_(ids)).with_for_update())}
    by_status: dict[str, list[int]] = {}
    for pid in ids:
        if current.get(pid) in statuses:
            by_status.setdefault(current[pid], []).append(pid)
    was: dict[int, str] = {}
    for status, group in by_status.items():
        # Conditional on the status just read: whoever moved it first wins.
        moved = flow.apply(session, flow.PROPOSAL, group, "cancel", actor=actor, expected=(status,))
        was.update(dict.fromkeys(moved, status))
    # The caller's objects refreshed, both sides of each loaded with the lot.
    cancelled = [p for p in session.scalars(
        sa.select(Proposal).where(Proposal.id.in_(ids)).order_by(Proposal.id)
        .options(*_with_parties()).execution_options(populate_existing=True)) if p.id in was]
    for other in cancelled:
        notifications.tell(session, other.household.association,
                           _l("La proposition %(id)s est annulée.", id=other.public_id),
                           ASSOCIATION_LINK.format(id=other.public_id), email="proposal_update",
                           base_url=base_url)
        notifications.tell(session, other.unit.landlord,
                           _l("La proposition %(id)s est annulée.", id=other.public_id),
                           LANDLORD_LINK.format(id=other.public_id))
        if was[other.id] == "commission_accepted" and offer_next:
            _offer_next(session, other.unit, actor, base_url=base_url)
    _free_idle(session, [p.unit for p in cancelled], [p.household for p in cancelled])
    return len(cancelled)


def _offer_next(session: so.Session, unit: Unit, actor: User | None, *, base_url: str) -> Proposal | None:
    """Nobody holds the unit's lease any more: offer it to the best-ranked retained candidate
    still waiting (her association and the landlord are told); she is promised now, so her
    other offers are cancelled."""
    if session.scalar(sa.select(Proposal.id).where(Proposal.unit_id == unit.id,
                                                   Proposal.status.in_(PROMISED_STATUSES))):
        return None
    waiting = list(session.scalars(
        sa.select(Proposal).where(Proposal.unit_id == unit.id, Proposal.status == "commission_ranked")
        .order_by(Proposal.commission_rank)))
    for candidate in waiting:
        try:
            flow.move(session, candidate, "lease_offer", actor=actor)
        except Conflict:
            # Moved meanwhile, or promised elsewhere (her waiting here would then have been
            # cancelled): she cannot take it, the next one may.
            _cancel(session, [candidate], actor, base_url=base_url)
            continue
        notifications.tell(session, candidate.household.association,
                           _l("Les candidates classées avant le ménage n'ont pas signé : le bail lui est "
                              "maintenant proposé (proposition %(id)s).", id=candidate.public_id),
                           ASSOCIATION_LINK.format(id=candidate.public_id), email="proposal_update",
                           base_url=base_url)
        notifications.tell(session, unit.landlord,
                           _l("Le bail peut maintenant être signé avec la candidate suivante dans l'ordre "
                              "de la commission (proposition %(id)s).", id=candidate.public_id),
                           LANDLORD_LINK.format(id=candidate.public_id))
        _cancel(session, _open_others(session, candidate, same_unit=False), actor, base_url=base_url)
        return candidate
    return None


def cancellable(session: so.Session, *, unit: Unit | None = None,
                household: Household | None = None) -> list[Proposal]:
    """The released proposals of a unit (or a household) that withdrawing it would cancel:
    every one still open, and the lease offered but not signed."""
    stmt = sa.select(Proposal).where(Proposal.status.in_(CANCELLABLE_STATUSES)).order_by(Proposal.id)
    if unit is not None:
        stmt = stmt.where(Proposal.unit_id == unit.id)
    if household is not None:
        stmt = stmt.where(Proposal.household_id == household.id)
    return list(session.scalars(stmt))


def cancel_all(session: so.Session, actor: User | None, *, unit: Unit | None = None,
               household: Household | None = None, base_url: str = "") -> int:
    """Cancel what `cancellable` lists, telling both sides of each (one audit event each);
    how many. A household's lease offer then goes to the unit's next-ranked candidate; a
    unit's goes to nobody (the unit is being withdrawn)."""
    count = _cancel(session, cancellable(session, unit=unit, household=household), actor,
                    base_url=base_url, statuses=CANCELLABLE_STATUSES, offer_next=unit is None)
    _free_if_idle(session, unit, household)
    return count


def _open_others(session: so.Session, proposal: Proposal, *, same_unit: bool = True,
                 same_household: bool = True) -> list[Proposal]:
    clauses = []
    if same_unit:
        clauses.append(Proposal.unit_id == proposal.unit_id)
    if same_household:
        clauses.append(Proposal.household_id == proposal.household_id)
    return list(session.scalars(
        sa.select(Proposal).where(sa.or_(*clauses), Proposal.id != proposal.id,
                                  Proposal.status.in_(OPEN_STATUSES)).order_by(Proposal.id)
    ))


def decide(session: so.Session, user: User, public_id: str, *, decision: str,
           reason: str | None = None, rank: int | None = None, step: str | None = None,
           today: dt.date | None = None, base_url: str = "",
           lease: leases.LeaseTerms | None = None) -> Proposal:
    """Record a decision on a proposal: the household's (association), then the
    commission's or the lease's (landlord; `lease`: the signed lease's dates and kind, kept
    with it). Wrong side: NotFound; wrong order: Conflict."""
    proposal = get_for(session, user, public_id)
    if lease is not None and (step != "lease" or decision != "accept"):
        raise ValidationError(_l("Les dates et le type de bail accompagnent la signature du bail."),
                              field="kind")
    if user.role == "association":
        if step not in (None, "household"):
            raise Conflict(_l("Cette étape revient au bailleur."), field="step")
        if rank is not None:
            raise ValidationError(_l("Le rang est donné par la commission du bailleur."),
                                  field="rank")
        return _household_decides(session, user, proposal, decision, reason,
                                  today or clock.today(proposal.unit.department), base_url)
    if step == "household":
        raise Conflict(_l("Cette étape revient à l'association du ménage."), field="step")
    if step == "lease":
        if lease is not None:
            lease = leases.check(lease, today=today or clock.today(proposal.unit.department))
        return _lease(session, user, proposal, decision, reason, base_url, lease)
    if step not in (None, "commission"):
        raise ValidationError(_l("Étape inconnue."), field="step")
    return _commission_decides(session, user, proposal, decision, reason, rank, base_url)


def _household_decides(session: so.Session, user: User, proposal: Proposal, decision: str,
                       reason: str | None, today: dt.date, base_url: str) -> Proposal:
    reason = _check_reason(decision, reason, HOUSEHOLD_DECLINE_REASONS)
    _lock(session, proposal)
    session.refresh(proposal)
    if proposal.status != "pending":
        raise _already(proposal)
    if proposal.deadline is not None and today > proposal.deadline:
        raise Conflict(_l("Le délai de réponse est dépassé : la proposition a expiré."),
                       field="deadline")
    accepted = decision == "accept"
    flow.move(session, proposal, "household_accept" if accepted else "household_decline", actor=user,
              reason=reason)
    landlord = proposal.unit.landlord
    link = LANDLORD_LINK.format(id=proposal.public_id)
    if accepted:
        notifications.tell(session, landlord,
                           _l("Une candidature attend l'avis de votre commission d'attribution "
                              "(proposition %(id)s).", id=proposal.public_id),
                           link, email="new_proposal", base_url=base_url)
    else:
        notifications.tell(session, landlord,
                           _l("Le ménage a décliné la proposition %(id)s.", id=proposal.public_id),
                           link)
        _free_if_idle(session, proposal.unit, proposal.household)
    return proposal


def retained(session: so.Session, unit: Unit) -> list[Proposal]:
    """The unit's candidates retained by the commission and not yet leased, by rank: the
    first holds the lease offer (`commission_accepted`), the others wait their turn."""
    return list(session.scalars(
        sa.select(Proposal).where(Proposal.unit_id == unit.id, Proposal.status.in_(RETAINED_STATUSES))
        .order_by(Proposal.commission_rank)))


def free_ranks(session: so.Session, unit: Unit) -> list[int]:
    """The ranks a new retained candidate of this unit may take: not held by another
    retained candidate, and after the one already offered the lease (she keeps her turn)."""
    held = retained(session, unit)
    offered = [p.commission_rank or 0 for p in held if p.status == "commission_accepted"]
    after = max(offered, default=0)
    taken = {p.commission_rank for p in held}
    return [r for r in COMMISSION_RANKS if r > after and r not in taken]


def _check_rank(session: so.Session, proposal: Proposal, rank: int | None) -> int:
    """The commission's rank for this candidate: the one given, or the next after those
    already retained (1 for the first). Conflict (field `rank`) if taken or too late."""
    held = retained(session, proposal.unit)
    if rank is None:
        rank = max((p.commission_rank or 0 for p in held), default=0) + 1
        if rank > COMMISSION_RANKS[-1]:
            raise Conflict(_l("La commission a déjà retenu trois candidates pour ce logement : choisissez le "
                              "rang de celle-ci."), field="rank")
    if rank not in free_ranks(session, proposal.unit):
        holder = next((p for p in held if p.commission_rank == rank), None)
        if holder is not None:
            raise Conflict(_l("Le rang %(rank)d est déjà donné à la candidature %(id)s : choisissez un "
                              "autre rang.", rank=rank, id=holder.public_id), field="rank")
        offered = next(p for p in held if p.status == "commission_accepted")
        raise Conflict(_l("Le bail est déjà proposé à la candidature %(id)s, classée au rang %(rank)d : "
                          "donnez un rang après le sien.", id=offered.public_id,
                          rank=offered.commission_rank), field="rank")
    return rank


def _commission_decides(session: so.Session, user: User, proposal: Proposal, decision: str,
                        reason: str | None, rank: int | None, base_url: str) -> Proposal:
    reason = _check_reason(decision, reason, COMMISSION_REFUSAL_REASONS)
    if rank is not None and (decision != "accept" or rank not in COMMISSION_RANKS):
        raise ValidationError(_l("Le rang de la commission va de 1 à 3, pour un ménage retenu."),
                              field="rank")
    _lock(session, proposal)
    session.refresh(proposal)
    if proposal.status == "pending":
        raise Conflict(_l("Le ménage n'a pas encore répondu à cette proposition."), field="status")
    if proposal.status != "household_accepted":
        raise _already(proposal)
    association = proposal.household.association
    link = ASSOCIATION_LINK.format(id=proposal.public_id)
    if decision == "accept":
        rank = _check_rank(session, proposal, rank)
        # The best-ranked retained candidate is offered the lease (the unit is promised to
        # her); one ranked behind her waits for it to fall through.
        first = not retained(session, proposal.unit)
        flow.move(session, proposal, "commission_accept" if first else "commission_rank", actor=user,
                  commission_rank=rank)
        if first:
            notifications.tell(session, association,
                               _l("La commission d'attribution a retenu le ménage (proposition "
                                  "%(id)s).", id=proposal.public_id),
                               link, email="proposal_update", base_url=base_url)
            # She is promised to this unit: her other offers go. The unit's other candidates
            # stay until the lease is signed: the commission may rank them behind her.
            _cancel(session, _open_others(session, proposal, same_unit=False), user, base_url=base_url)
        else:
            notifications.tell(session, association,
                               _l("La commission d'attribution a retenu le ménage au rang %(rank)d "
                                  "(proposition %(id)s) : le bail lui sera proposé si les candidates "
                                  "classées avant elle ne le signent pas.", rank=rank, id=proposal.public_id),
                               link, email="proposal_update", base_url=base_url)
        return proposal
    flow.move(session, proposal, "commission_refuse", actor=user, reason=reason)
    notifications.tell(session, association,
                       _l("La commission d'attribution n'a pas retenu la candidature "
                          "(proposition %(id)s).", id=proposal.public_id),
                       link, email="proposal_update", base_url=base_url)
    if reason == "unit_unavailable":
        _withdraw_unit(session, proposal, user, base_url)
    _free_if_idle(session, proposal.unit, proposal.household)
    return proposal


def _withdraw_unit(session: so.Session, proposal: Proposal, user: User, base_url: str) -> None:
    """The unit is gone: its other candidates are cancelled and it leaves the pool."""
    others = session.scalars(sa.select(Proposal).where(
        Proposal.unit_id == proposal.unit_id, Proposal.id != proposal.id,
        Proposal.status.in_(CANCELLABLE_STATUSES)).order_by(Proposal.id))
    _cancel(session, list(others), user, base_url=base_url, statuses=CANCELLABLE_STATUSES, offer_next=False)
    if proposal.unit.status in ("published", "proposed"):
        flow.move(session, proposal.unit, "withdraw", actor=user)
    session.flush()


def lease_holder(session: so.Session, unit: Unit) -> Proposal | None:
    """The retained candidate the unit's lease is offered to, if any."""
    return next((p for p in retained(session, unit) if p.status == "commission_accepted"), None)


def _lease(session: so.Session, user: User, proposal: Proposal, decision: str,
           reason: str | None, base_url: str, terms: leases.LeaseTerms | None = None) -> Proposal:
    """The lease is signed, or will not be signed with this candidate: the one offered it,
    or one waiting her turn (then the lease stays where it is, the others keep their order)."""
    reason = _check_reason(decision, reason, COMMISSION_REFUSAL_REASONS)
    _lock(session, proposal)
    session.refresh(proposal)
    if proposal.status == "commission_ranked" and decision == "accept":
        offered = lease_holder(session, proposal.unit)
        raise Conflict(_l("Le bail est d'abord proposé à la candidature %(id)s, mieux classée par la "
                          "commission.", id=offered.public_id if offered else "—"), field="status")
    if proposal.status in ("pending", "household_accepted"):
        raise Conflict(_l("La commission n'a pas encore retenu ce ménage pour ce logement."),
                       field="status")
    if proposal.status not in RETAINED_STATUSES:
        raise _already(proposal)
    was = proposal.status
    association = proposal.household.association
    link = ASSOCIATION_LINK.format(id=proposal.public_id)
    unit, household = proposal.unit, proposal.household
    if decision == "accept":
        flow.move(session, proposal, "lease", actor=user)
        now = utcnow()
        flow.move(session, unit, "allocate", actor=user, allocated_at=now)
        household.status, household.closed_at = "housed", now
        session.flush()
        if terms is not None:
            leases.record(session, proposal, terms, user)
        # The follow-up after the lease: checkpoints at 3, 6 and 12 months (issue 18). Imported
        # here: services.followup reaches services.offers, which imports this module's callers.
        from services import followup

        followup.schedule(session, proposal)
        # Her permanent home ends her stay in an emergency place, if she had one.
        from services import shelter

        moved_in = terms.move_in_on if terms is not None else clock.today(unit.department)
        shelter.end_on_lease(session, household, moved_in, actor=user)
        notifications.tell(session, association,
                           _l("Le bail est signé (proposition %(id)s).", id=proposal.public_id),
                           link, email="proposal_update", base_url=base_url)
        # The unit is let and she is housed: whoever still waits for either is told it is over.
        _cancel(session, _open_others(session, proposal), user, base_url=base_url)
        return proposal
    flow.move(session, proposal, "lease_decline", actor=user, expected=(was,), reason=reason)
    if was == "commission_ranked":
        message = _l("Le bailleur ne proposera pas le bail au ménage retenu au rang %(rank)d : la "
                     "proposition %(id)s est annulée.", rank=proposal.commission_rank or 0, id=proposal.public_id)
    else:
        message = _l("Le bail ne sera pas signé : la proposition %(id)s est annulée.", id=proposal.public_id)
    notifications.tell(session, association, message, link, email="proposal_update", base_url=base_url)
    if reason == "unit_unavailable":
        _withdraw_unit(session, proposal, user, base_url)
    elif was == "commission_accepted":
        # The next-ranked retained candidate, if any, is offered the lease.
        _offer_next(session, unit, user, base_url=base_url)
    _free_if_idle(session, unit, household)
    return proposal


def overdue(session: so.Session, *, today: dt.date | None = None) -> list[int]:
    """Ids of the pending proposals whose reply deadline has passed (`today`: the same day
    everywhere; by default, today in each unit's department)."""
    if today is not None:
        return list(session.scalars(
            sa.select(Proposal.id).where(Proposal.status == "pending", Proposal.deadline < today)
            .order_by(Proposal.id)
        ))
    # Those past their deadline somewhere, then each against its own territory's day.
    rows = session.execute(
        sa.select(Proposal.id, Proposal.deadline, Unit.department).join(Unit, Unit.id == Proposal.unit_id)
        .where(Proposal.status == "pending", Proposal.deadline < clock.latest_today())
        .order_by(Proposal.id))
    days: dict[str, dt.date] = {}
    return [pid for pid, deadline, department in rows
            if deadline is not None and deadline < days.setdefault(department, clock.today(department))]


def expire(session: so.Session, proposal_id: int, *, base_url: str = "") -> bool:
    """Expire one overdue proposal (silence is a refusal); False if it was answered meanwhile."""
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        return False
    _lock(session, proposal)
    try:
        flow.move(session, proposal, "expire", actor=None)
    except Conflict:
        return False
    notifications.tell(session, proposal.household.association,
                       _l("Sans réponse dans le délai, la proposition %(id)s a expiré.",
                          id=proposal.public_id),
                       ASSOCIATION_LINK.format(id=proposal.public_id), email="proposal_update",
                       base_url=base_url)
    notifications.tell(session, proposal.unit.landlord,
                       _l("Sans réponse du ménage, la proposition %(id)s a expiré.",
                          id=proposal.public_id),
                       LANDLORD_LINK.format(id=proposal.public_id))
    _free_if_idle(session, proposal.unit, proposal.household)
    return True


def expire_overdue(session: so.Session, *, today: dt.date | None = None,
                   base_url: str = "") -> list[str]:
    """Expire every overdue pending proposal in this transaction; their public ids.

    The command commits after each proposal instead (`overdue` then `expire`), so that it
    never holds many units' locks at once while people decide.
    """
    expired = []
    for proposal_id in overdue(session, today=today):
        if expire(session, proposal_id, base_url=base_url):
            expired.append(session.get(Proposal, proposal_id).public_id)  # type: ignore[union-attr]
    return expired
