"""What awaits each side, by deadline: the landlord commission's worklist, readable references,
and the steps that wait too long.

A proposal waits at one step at a time: the household's answer (`pending`, until its
`deadline`), the landlord's commission (`household_accepted`, since the household's yes) or
the lease (`commission_accepted`, since the commission's choice). The delays allowed for the
last two are settings (`STEP_DELAY_DAYS`, web/config.py, passed in by the caller): a step past
its due date is *stalled*, flagged on the worklists and reminded by the periodic job.

References: a commission discusses "candidature n° 2026-0142", not `P-cK_sHqf529VMyjDe`.
The number is the proposal's own row number, the year the year it was made: it is stable
(erasing another household never renumbers it), unique, and derived from nothing about the
household, the unit or where either is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Decision, Household, MatchRun, Notification, Organisation, Proposal, RefusedOffer, Unit, User
from services import clock, messages, notifications, territory
from services import proposals as proposals_svc
from services.paging import Page, paginate

# The steps that wait on someone, and the status a proposal has while it waits there.
STEP_OF_STATUS = {"pending": "answer", "household_accepted": "commission", "commission_accepted": "lease"}
# The decision that starts each step (the answer's step starts at release: it has a deadline).
STARTED_BY = {"commission": "household", "lease": "commission"}

# The landlord's worklist views: (query value, statuses shown). The first is what awaits her
# commission; "toutes" shows every released candidate.
LANDLORD_VIEWS: dict[str, tuple[str, ...] | None] = {
    "commission": ("household_accepted",),
    "bail": ("commission_accepted", "commission_ranked"),
    "decidees": ("commission_ranked", "commission_accepted", "commission_refused", "leased"),
    "toutes": None,
}
DEFAULT_VIEW = "toutes"
# A commission considers at most this many candidates per unit (its ranks 1 to 3).
PACK_SIZE = len(proposals_svc.COMMISSION_RANKS)


def reference(proposal: Proposal) -> str:
    """The proposal's readable reference, e.g. "2026-0142" (see the module's docstring)."""
    made = proposal.created_at or clock.utcnow()
    year = made.astimezone(clock.PARIS).year if made.tzinfo else made.year
    return f"{year}-{proposal.id:04d}"


@dataclass(frozen=True)
class StepDue:
    """Where a proposal waits, since when and until when (`stalled`: past `due`)."""

    step: str
    since: dt.date | None
    due: dt.date | None
    stalled: bool
    days_waiting: int | None


def step_started(session: so.Session, proposals: Iterable[Proposal]) -> dict[int, dt.datetime]:
    """When each waiting proposal entered its current step (commission, lease), in one query."""
    wanted = {p.id: STARTED_BY[STEP_OF_STATUS[p.status]] for p in proposals
              if STEP_OF_STATUS.get(p.status) in STARTED_BY}
    if not wanted:
        return {}
    found: dict[int, dt.datetime] = {}
    for d in session.scalars(sa.select(Decision).where(Decision.proposal_id.in_(wanted))):
        if d.step == wanted[d.proposal_id]:
            found[d.proposal_id] = d.decided_at
    return found


def step_due(proposal: Proposal, started: dt.datetime | None, delays: Mapping[str, int],
             today: dt.date | None = None) -> StepDue | None:
    """The step a proposal waits at and its due date; None if it waits on nobody."""
    step = STEP_OF_STATUS.get(proposal.status)
    if step is None:
        return None
    today = today or clock.today(proposal.unit.department if proposal.unit else None)
    if step == "answer":
        due = proposal.deadline
        return StepDue(step, None, due, due is not None and today > due, None)
    if started is None:
        return StepDue(step, None, None, False, None)
    since = started.astimezone(clock.PARIS).date() if started.tzinfo else started.date()
    due = since + dt.timedelta(days=int(delays[step]))
    return StepDue(step, since, due, today > due, (today - since).days)


def _view_statuses(view: str) -> tuple[str, ...] | None:
    return LANDLORD_VIEWS.get(view, LANDLORD_VIEWS[DEFAULT_VIEW])


def landlord_counts(session: so.Session, user: User) -> dict[str, int]:
    """How many candidates each view of the landlord's worklist shows."""
    rows: dict[str, int] = {status: n for status, n in session.execute(
        sa.select(Proposal.status, sa.func.count()).where(proposals_svc._reach(user), proposals_svc._released())
        .group_by(Proposal.status))}
    return {view: sum(n for s, n in rows.items() if statuses is None or s in statuses)
            for view, statuses in LANDLORD_VIEWS.items()}


def landlord_worklist(session: so.Session, user: User, *, view: str = DEFAULT_VIEW, page: int = 1,
                      per_page: int = 10) -> tuple[Page[Unit], dict[int, list[Proposal]]]:
    """The landlord's units with candidates in `view`, grouped by unit: first the units whose
    commission has waited longest (the earliest due date first), then those waiting for a
    lease signature, then the others by reference. Each unit's candidates in the commission's
    order."""
    statuses = _view_statuses(view)
    shown = [proposals_svc._reach(user), proposals_svc._released()]
    if statuses is not None:
        shown.append(Proposal.status.in_(statuses))
    unit_ids = sa.select(Proposal.unit_id).where(*shown)
    # The oldest household "yes" still waiting for this unit's commission: the earliest due date.
    waiting_since = (sa.select(sa.func.min(Decision.decided_at))
                     .join(Proposal, Proposal.id == Decision.proposal_id)
                     .where(Proposal.unit_id == Unit.id, Proposal.status == "household_accepted",
                            Decision.step == "household")
                     .scalar_subquery())
    lease_waiting = sa.select(Proposal.unit_id).where(Proposal.status == "commission_accepted")
    stmt = (sa.select(Unit).where(Unit.id.in_(unit_ids))
            .order_by(waiting_since.asc().nulls_last(),
                      sa.case((Unit.id.in_(lease_waiting), 0), else_=1), Unit.reference, Unit.id))
    units = paginate(session, stmt, page, per_page)
    candidates: dict[int, list[Proposal]] = {unit.id: [] for unit in units.items}
    if candidates:
        for proposal in session.scalars(
            sa.select(Proposal).where(Proposal.unit_id.in_(candidates), *shown[1:])
            .options(*proposals_svc._with_parties())
            .order_by(*proposals_svc._commission_order())
        ):
            candidates[proposal.unit_id].append(proposal)
    return units, candidates


def commission_pack(session: so.Session, user: User, unit: Unit) -> list[Proposal]:
    """The candidates of one of the landlord's units that her commission examines: those who
    accepted and are not yet refused (awaiting, retained, leased), in the commission's order,
    at most `PACK_SIZE`."""
    return [p for p in proposals_svc.unit_candidates(session, user, unit)
            if p.status in ("household_accepted", "commission_ranked", "commission_accepted", "leased")
            ][:PACK_SIZE]


# --- Worklists per role (home pages) -------------------------------------------------------

WORKLIST_LIMIT = 20


@dataclass(frozen=True)
class Waiting:
    """One proposal on a worklist and where it waits."""

    proposal: Proposal
    due: StepDue


def _waiting(session: so.Session, proposals: list[Proposal], delays: Mapping[str, int]) -> list[Waiting]:
    started = step_started(session, proposals)
    found = []
    for p in proposals:
        due = step_due(p, started.get(p.id), delays)
        if due is not None:
            found.append(Waiting(p, due))
    return sorted(found, key=lambda w: (w.due.due or dt.date.max, w.proposal.id))


def association_worklist(session: so.Session, user: User, delays: Mapping[str, int],
                         limit: int = WORKLIST_LIMIT) -> dict[str, list[Any]]:
    """What awaits a referent: her households' proposals to answer (the nearest deadline first),
    and the files still in draft (not yet in the matching), the oldest first."""
    answer = list(session.scalars(
        sa.select(Proposal).where(proposals_svc._reach(user), Proposal.status == "pending",
                                  Proposal.deadline.is_not(None))
        .options(*proposals_svc._with_parties())
        .order_by(Proposal.deadline, Proposal.id).limit(limit)))
    drafts = list(session.scalars(
        sa.select(Household).where(Household.association_id == user.organisation_id,
                                   Household.status == "draft")
        .order_by(Household.created_at, Household.id).limit(limit)))
    return {"answer": _waiting(session, answer, delays), "drafts": drafts}


def landlord_worklist_summary(session: so.Session, user: User, delays: Mapping[str, int],
                              limit: int = WORKLIST_LIMIT) -> list[Waiting]:
    """What awaits a landlord: the candidates for her commission and the leases to sign, the
    earliest due date first."""
    rows = list(session.scalars(
        sa.select(Proposal).where(proposals_svc._reach(user),
                                  Proposal.status.in_(("household_accepted", "commission_accepted")))
        .options(*proposals_svc._with_parties()).order_by(Proposal.id)))
    return _waiting(session, rows, delays)[:limit]


def stalled(session: so.Session, user: User, delays: Mapping[str, int],
            limit: int = WORKLIST_LIMIT) -> list[Waiting]:
    """The steps of the coordinator's territory past their due date: an answer, a commission or
    a lease that waits too long (the earliest due first)."""
    now = clock.utcnow()
    late_start = sa.select(Decision.proposal_id).where(sa.or_(
        sa.and_(Decision.step == "household", Decision.outcome == "accept",
                Decision.decided_at < now - dt.timedelta(days=int(delays["commission"]))),
        sa.and_(Decision.step == "commission", Decision.outcome == "accept",
                Decision.decided_at < now - dt.timedelta(days=int(delays["lease"])))))
    rows = list(session.scalars(
        sa.select(Proposal).where(territory.proposals(session, user), sa.or_(
            sa.and_(Proposal.status == "pending", Proposal.deadline < clock.latest_today()),
            sa.and_(Proposal.status.in_(("household_accepted", "commission_accepted")),
                    Proposal.id.in_(late_start))))
        .options(*proposals_svc._with_parties()).order_by(Proposal.id).limit(10 * limit)))
    return [w for w in _waiting(session, rows, delays) if w.due.stalled][:limit]


def coordinator_worklist(session: so.Session, user: User, delays: Mapping[str, int],
                         limit: int = WORKLIST_LIMIT, refused_days: int = 30) -> dict[str, Any]:
    """What awaits a coordinator: the runs done and not yet released (to review), the stalled
    steps of her territory, and how many offers on rehousing requests were refused lately."""
    review = list(session.scalars(
        sa.select(MatchRun).where(territory.runs(session, user), MatchRun.status == "succeeded")
        .order_by(MatchRun.created_at, MatchRun.id).limit(limit)))
    codes = sorted(territory.departments(user))
    since = clock.utcnow() - dt.timedelta(days=refused_days)
    refused = session.scalar(
        sa.select(sa.func.count()).select_from(RefusedOffer).join(Unit, Unit.id == RefusedOffer.unit_id)
        .where(Unit.department.in_(codes), RefusedOffer.created_at >= since)) or 0
    return {"review": review, "stalled": stalled(session, user, delays, limit), "refused": refused,
            "refused_days": refused_days}


# --- Reminders (the periodic job) ----------------------------------------------------------

def reminder(step: str, late: bool, **params: str) -> Any:
    """The words of a reminder at `step`: before the due date, or once it is past (`late`)."""
    if step == "answer":
        if late:
            return _l("En retard : la proposition %(ref)s attendait la réponse du ménage le %(date)s.", **params)
        return _l("Rappel : la proposition %(ref)s attend la réponse du ménage au plus tard le %(date)s.",
                  **params)
    if step == "commission":
        if late:
            return _l("En retard : la candidature %(ref)s attendait la décision de votre commission le "
                      "%(date)s.", **params)
        return _l("Rappel : la candidature %(ref)s attend la décision de votre commission au plus tard "
                  "le %(date)s.", **params)
    if late:
        return _l("En retard : le bail de la candidature %(ref)s devait être signé le %(date)s.", **params)
    return _l("Rappel : le bail de la candidature %(ref)s doit être signé au plus tard le %(date)s.", **params)


# Who is reminded at each step: the page where it is done. Each reminder (before the due date,
# then once past it) is sent once per proposal and step: a notification with the same words
# and link is not repeated.
LINKS = {"answer": proposals_svc.ASSOCIATION_LINK, "commission": proposals_svc.LANDLORD_LINK,
         "lease": proposals_svc.LANDLORD_LINK}


def _reminded(session: so.Session, organisation: Organisation, msgid: str, link: str) -> bool:
    return session.scalar(sa.select(Notification.id).where(
        Notification.organisation_id == organisation.id, Notification.msgid == msgid,
        Notification.link == link).limit(1)) is not None


def send_reminders(session: so.Session, delays: Mapping[str, int], days_before: int, *,
                   today: dt.date | None = None, base_url: str = "") -> int:
    """Remind whoever a waiting proposal waits on (the association for the household's answer,
    the landlord for the commission and the lease), `days_before` its due date and once it is
    past; each reminder once. Returns how many were sent (the caller commits)."""
    waiting = list(session.scalars(
        sa.select(Proposal).where(Proposal.status.in_(STEP_OF_STATUS))
        .options(so.selectinload(Proposal.unit).selectinload(Unit.landlord),
                 so.selectinload(Proposal.household).selectinload(Household.association))
        .order_by(Proposal.id)))
    started = step_started(session, waiting)
    sent = 0
    for proposal in waiting:
        due = step_due(proposal, started.get(proposal.id), delays, today)
        if due is None or due.due is None:
            continue
        now = today or clock.today(proposal.unit.department)
        if now < due.due - dt.timedelta(days=days_before):
            continue
        message = reminder(due.step, due.stalled, ref=reference(proposal), date=due.due.strftime("%d/%m/%Y"))
        who = proposal.household.association if due.step == "answer" else proposal.unit.landlord
        link = LINKS[due.step].format(id=proposal.public_id)
        if who is None or _reminded(session, who, messages.deferred(message)[0], link):
            continue
        notifications.tell(session, who, message, link, email="reminder", base_url=base_url)
        sent += 1
    session.flush()
    return sent
