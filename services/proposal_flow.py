"""The life of a proposal and of a unit: one table of transitions, one function that applies them.

`TRANSITIONS` lists every move a proposal or a unit may make: its kind (`"proposal"` or
`"unit"`), the status it leaves (`None`: the record is being created), the event, the
status it reaches, who may make it (the actor's role, or `"system"` for the jobs and the
consequences nobody chose), the decision step it records (if it is a decision) and the
audit action it appends. docs/proposals.md shows the same table (a test keeps them equal).

`apply` is the ONLY code that writes `Proposal.status` or `Unit.status` (a test scans
services/ and web/ for any other writer). Everything else calls it, or one of the helpers
built on it:

- `apply(session, kind, ids, event, *, actor, expected=None, reason=None, values=None)`:
  the conditional UPDATE (`… WHERE id IN ids AND status IN <the event's sources>`) of many
  rows at once, the decision rows, the audit events; returns the ids that moved (those a
  concurrent transaction moved first are left out).
- `move(session, record, event, *, actor, expected=None, reason=None, notices=(), **values)`:
  one proposal or one unit; raises `Conflict` (409) if it lost a race or if the move would
  break a promise (the partial unique indexes), then sends `notices`.
- `open_proposal(session, *, unit, household, origin, actor, status="pending", deadline=…)`:
  creation is the transition from "nothing". Origins: `ORIGINS` (`run`, `candidacy`,
  `request`, `direct`). A `pending` proposal locks the unit's row then the household's
  (always in that order, like every decision), and marks both `proposed`.
- `store_run_proposals(session, rows)`: the run job's bulk creation (status `review`).
- `lock(session, proposal)`: the unit's row, then the household's, FOR UPDATE.
- `free_idle(session, units, households)`: those with nothing open or promised left go
  back to the pool.
- `notify(session, notices, base_url=...)`: send `Notice`s (in-platform, and e-mail kinds).

The caller checks the business preconditions that need more than a status (the deadline,
the commission's ranks, the hard rules of matching for a new proposal) and chooses the
words of the notifications; this module guarantees that a status only ever changes along
the table, with its lock, its decision row and its audit event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Decision, Household, Organisation, Proposal, Unit, User, utcnow
from services import audit, notifications
from services.errors import Conflict, Forbidden, ValidationError

PROPOSAL = "proposal"
UNIT = "unit"
KINDS = (PROPOSAL, UNIT)

# How a proposal came to be: a matching run, a household's candidacy on a published unit,
# a landlord's request for candidates, a coordinator's direct proposal.
ORIGINS = ("run", "candidacy", "request", "direct")

SYSTEM = "system"
COORDINATION = ("coordinator", "admin")
SIDES = ("association", "landlord") + COORDINATION
ANYONE = SIDES + (SYSTEM,)
# A unit's landlord (the import and the commands act as `system`).
UNIT_OWNERS = ("landlord",) + COORDINATION + (SYSTEM,)

# Waiting for someone's answer: the unit and the household are still "proposed" for it.
OPEN_STATUSES = ("pending", "household_accepted", "commission_ranked")
# A unit (or a household) is promised to at most one proposal in these statuses.
PROMISED_STATUSES = ("commission_accepted", "leased")
BUSY_STATUSES = OPEN_STATUSES + PROMISED_STATUSES
CANCELLABLE_STATUSES = OPEN_STATUSES + ("commission_accepted",)


@dataclass(frozen=True)
class Transition:
    """One row of the table: `kind` goes from `source` to `target` on `event`."""

    kind: str
    source: str | None  # None: creation
    event: str
    target: str
    who: tuple[str, ...]
    step: str | None = None  # the decision step recorded (proposals)
    outcome: str | None = None  # the decision's outcome: accept / decline
    action: str | None = None  # the audit action appended for each record moved
    origins: tuple[str, ...] = ()  # creation only: the origins that start here


def _each(kind: str, sources: Iterable[str | None], event: str, target: str, who: tuple[str, ...],
          **more: Any) -> list[Transition]:
    return [Transition(kind, source, event, target, who, **more) for source in sources]


TRANSITIONS: tuple[Transition, ...] = tuple(
    # --- proposals ---------------------------------------------------------------------
    _each(PROPOSAL, [None], "open", "review", (SYSTEM,), origins=("run",))
    + _each(PROPOSAL, [None], "open", "pending", SIDES, origins=("candidacy", "request", "direct"),
            action="proposal.open")
    # Set aside before release: by the coordinator, or because an edit broke a hard rule.
    + _each(PROPOSAL, ["review"], "drop", "dropped", ANYONE, action="proposal.drop")
    + _each(PROPOSAL, ["review"], "release", "pending", COORDINATION)
    # Released while its unit or household was taken: never sent.
    + _each(PROPOSAL, ["review"], "release_cancel", "cancelled", COORDINATION)
    + _each(PROPOSAL, ["pending"], "household_accept", "household_accepted", ("association",),
            step="household", outcome="accept", action="proposal.household_accept")
    + _each(PROPOSAL, ["pending"], "household_decline", "household_declined", ("association",),
            step="household", outcome="decline", action="proposal.household_decline")
    + _each(PROPOSAL, ["pending"], "expire", "expired", (SYSTEM,), action="proposal.expire")
    + _each(PROPOSAL, ["household_accepted"], "commission_accept", "commission_accepted", ("landlord",),
            step="commission", outcome="accept", action="proposal.commission_accept")
    + _each(PROPOSAL, ["household_accepted"], "commission_rank", "commission_ranked", ("landlord",),
            step="commission", outcome="accept", action="proposal.commission_accept")
    + _each(PROPOSAL, ["household_accepted"], "commission_refuse", "commission_refused", ("landlord",),
            step="commission", outcome="decline", action="proposal.commission_refuse")
    # The candidate offered the lease fell through: the next-ranked one is offered it.
    + _each(PROPOSAL, ["commission_ranked"], "lease_offer", "commission_accepted", ANYONE,
            action="proposal.lease_offer")
    + _each(PROPOSAL, ["commission_accepted"], "lease", "leased", ("landlord",),
            step="lease", outcome="accept", action="proposal.lease")
    # Her safety in that home is lost: an urgent transfer reopens her file (services.transfers).
    + _each(PROPOSAL, ["leased"], "transfer", "transferred", ("association",), action="proposal.transfer")
    + _each(PROPOSAL, ["commission_accepted", "commission_ranked"], "lease_decline", "cancelled",
            ("landlord",), step="lease", outcome="decline", action="proposal.cancel")
    # Can no longer be honoured (the unit or the household was taken, withdrawn, or an edit
    # broke a hard rule).
    + _each(PROPOSAL, CANCELLABLE_STATUSES, "cancel", "cancelled", ANYONE, action="proposal.cancel")
    # --- units ---------------------------------------------------------------------------
    + _each(UNIT, [None], "create", "draft", UNIT_OWNERS)
    + _each(UNIT, ["draft", "withdrawn"], "publish", "published", UNIT_OWNERS, action="unit.publish")
    # A unit withdrawn while proposed has its proposals cancelled first (`cancel`).
    + _each(UNIT, ["draft", "published", "proposed"], "withdraw", "withdrawn", UNIT_OWNERS,
            action="unit.withdraw")
    + _each(UNIT, ["published"], "propose", "proposed", ANYONE)
    + _each(UNIT, ["proposed"], "free", "published", ANYONE)
    + _each(UNIT, ["published", "proposed"], "allocate", "allocated", ("landlord",))
)

PROPOSAL_STATUSES_OF_TABLE = tuple(dict.fromkeys(
    s for t in TRANSITIONS if t.kind == PROPOSAL for s in (t.source, t.target) if s is not None))


def rules(kind: str, event: str) -> list[Transition]:
    """The rows of the table for this kind and event (one per source status)."""
    found = [t for t in TRANSITIONS if t.kind == kind and t.event == event]
    if not found:
        raise ValueError(f"no {kind} transition {event!r}")
    return found


def sources(kind: str, event: str) -> tuple[str, ...]:
    """The statuses an event may leave."""
    return tuple(t.source for t in rules(kind, event) if t.source is not None)


def target(kind: str, event: str) -> str:
    """The status an event reaches."""
    return rules(kind, event)[0].target


def exits(kind: str, status: str) -> list[Transition]:
    """The transitions out of a status (none: the status is terminal)."""
    return [t for t in TRANSITIONS if t.kind == kind and t.source == status]


def role_of(actor: User | None) -> str:
    """The table's name for who acts: the user's role, or `system` for nobody."""
    return actor.role if actor is not None else SYSTEM


def may(kind: str, event: str, actor: User | None) -> bool:
    """Whether this actor may make this move."""
    return role_of(actor) in rules(kind, event)[0].who


@dataclass(frozen=True)
class Notice:
    """A message to an organisation (in the platform; by e-mail too when `email` names a kind)."""

    organisation: Organisation
    message: Any
    link: str | None
    email: str | None = None


def notify(session: so.Session, notices: Iterable[Notice], *, base_url: str = "") -> None:
    """Send these notices."""
    for notice in notices:
        notifications.tell(session, notice.organisation, notice.message, notice.link,
                           email=notice.email, base_url=base_url)


_MODELS: dict[str, Any] = {PROPOSAL: Proposal, UNIT: Unit}


def _chunks(items: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def apply(session: so.Session, kind: str, ids: Iterable[int], event: str, *, actor: User | None,
          expected: Iterable[str] | None = None, reason: str | None = None,
          values: dict[str, Any] | None = None, now: dt.datetime | None = None) -> list[int]:
    """Apply one transition of the table to these records: the only writer of their status.

    A conditional UPDATE moves those still in one of the event's source statuses (narrowed
    to `expected` when given); a record a concurrent transaction moved first stays as it is
    and is left out of the answer. For a decision, one Decision row per record moved; for
    an audited event, one audit event per record moved. `values`: other columns to set.

    :raise Forbidden: the actor's role may not make this move.
    :raise ValueError: no such transition, or `expected` names a status it does not leave.
    """
    table = rules(kind, event)
    rule = table[0]
    if role_of(actor) not in rule.who:
        raise Forbidden(_l("Cette étape ne vous revient pas."), field="status")
    allowed = sources(kind, event)
    if expected is not None:
        expected = tuple(expected)
        if not set(expected) <= set(allowed):
            raise ValueError(f"{kind} {event!r} does not leave {sorted(set(expected) - set(allowed))}")
        allowed = expected
    model = _MODELS[kind]
    now = now or utcnow()
    moved: list[tuple[int, str]] = []
    for chunk in _chunks(sorted(set(ids))):
        moved.extend((row[0], row[1]) for row in session.execute(
            sa.update(model).where(model.id.in_(chunk), model.status.in_(allowed))
            .values(status=rule.target, updated_at=now, **(values or {}))
            .returning(model.id, model.public_id)))
    if rule.step is not None and moved:
        session.add_all([Decision(proposal_id=pid, step=rule.step, outcome=rule.outcome, reason=reason,
                                  decided_by_id=actor.id if actor else None) for pid, _ in moved])
        session.flush()
    if rule.action is not None and moved:
        audit.record_many(session, rule.action, [public_id for _, public_id in sorted(moved)], actor=actor,
                          object_type=kind)
    return sorted(pid for pid, _ in moved)


def proposal_conflict(proposal: Proposal) -> Conflict:
    """The answer to a proposal that moved under the request."""
    from services.proposals import STATUS_LABELS  # the words live with the pages'

    return Conflict(_l("Cette proposition a déjà changé d'état (%(status)s) : rechargez la page.",
                       status=STATUS_LABELS.get(proposal.status, proposal.status)), field="status")


class _Lost(Exception):
    """The conditional update matched no row: someone else moved the record first."""


def move(session: so.Session, record: Proposal | Unit, event: str, *, actor: User | None,
         expected: Iterable[str] | None = None, reason: str | None = None,
         notices: Iterable[Notice] = (), base_url: str = "", **values: Any) -> None:
    """Apply a transition to one proposal or one unit, then send `notices`.

    :raise Conflict: it moved meanwhile (409, as every lost race), or the move would give a
        unit or a household a second promise (the partial unique indexes).
    """
    if isinstance(record, Proposal):
        try:
            with session.begin_nested():
                if not apply(session, PROPOSAL, [record.id], event, actor=actor, expected=expected,
                             reason=reason, values=values):
                    raise _Lost()
        except _Lost:
            session.refresh(record)
            raise proposal_conflict(record) from None
        except sa.exc.IntegrityError as exc:
            session.refresh(record)
            raise Conflict(_l("Ce logement est déjà promis à un autre ménage, ou ce ménage à un "
                              "autre logement."), field="status") from exc
        session.refresh(record)
    else:
        session.flush()
        now = utcnow()
        if not apply(session, UNIT, [record.id], event, actor=actor, expected=expected,
                     values=values, now=now):
            session.refresh(record)
            raise Conflict(_l("Ce logement a déjà changé d'état : rechargez la page."), field="status")
        # The object in the session says what the row now holds, without reading it again.
        for name, value in {"status": target(UNIT, event), "updated_at": now, **values}.items():
            so.attributes.set_committed_value(record, name, value)
    notify(session, notices, base_url=base_url)


def lock(session: so.Session, proposal: Proposal) -> None:
    """Lock the unit's row, then the household's: every transition on either waits its turn."""
    lock_parties(session, proposal.unit_id, proposal.household_id)


def lock_parties(session: so.Session, unit_id: int, household_id: int) -> None:
    """The unit's row, then the household's, FOR UPDATE (always in that order: no cycle)."""
    session.execute(sa.select(Unit.id).where(Unit.id == unit_id).with_for_update())
    session.execute(sa.select(Household.id).where(Household.id == household_id).with_for_update())


def free_idle(session: so.Session, units: Iterable[Unit], households: Iterable[Household],
              *, actor: User | None = None) -> None:
    """Every one of these units and households with nothing open or promised left goes back
    to the pool (one query per kind, however many)."""
    def idle(column: Any, rows: dict[int, Any]) -> list[Any]:
        if not rows:
            return []
        busy = set(session.scalars(sa.select(column).where(column.in_(rows), Proposal.status.in_(BUSY_STATUSES))))
        return [row for key, row in rows.items() if key not in busy]

    free_units = idle(Proposal.unit_id, {u.id: u for u in units if u.status == "proposed"})
    if free_units:
        now = utcnow()
        moved = set(apply(session, UNIT, [u.id for u in free_units], "free", actor=actor, now=now))
        for unit in free_units:
            if unit.id in moved:
                so.attributes.set_committed_value(unit, "status", "published")
                so.attributes.set_committed_value(unit, "updated_at", now)
    for household in idle(Proposal.household_id, {h.id: h for h in households if h.status == "proposed"}):
        household.status = "active"
    session.flush()


def create_unit(session: so.Session, unit: Unit, *, actor: User | None) -> Unit:
    """A new unit starts as a draft (the transition from nothing)."""
    rule = rules(UNIT, "create")[0]
    if role_of(actor) not in rule.who:
        raise Forbidden(_l("Cette étape ne vous revient pas."), field="status")
    unit.status = rule.target
    session.add(unit)
    return unit


def open_proposal(session: so.Session, *, unit: Unit, household: Household, origin: str,
                  actor: User | None, status: str = "pending", deadline: dt.date | None = None,
                  run_id: int | None = None, rank: int = 1, score: float = 0.0,
                  components: dict[str, float] | None = None, notices: Iterable[Notice] = (),
                  base_url: str = "") -> Proposal:
    """Create a proposal (the transition from nothing to `status`) of `unit` to `household`.

    `origin` is one of `ORIGINS`; `status` must be a creation row of the table for that
    origin (`review` for a run, `pending` for the others). A `pending` proposal needs its
    reply `deadline`; it locks the unit's row then the household's, requires the unit to be
    published (or already proposed) and the household active (or already proposed), marks
    both `proposed`, appends `proposal.open` and sends `notices`. The caller checks the hard
    rules of matching first (services.safety.broken_rules).

    :raise Forbidden: the actor may not open such a proposal.
    :raise ValidationError: unknown origin, no row of the table for it, or no deadline.
    :raise Conflict: the unit or the household is no longer available, or already has an open
        proposal of the same pair.
    """
    if origin not in ORIGINS:
        raise ValidationError(_l("Origine inconnue : %(code)s.", code=origin), field="origin")
    rule = next((t for t in TRANSITIONS if t.kind == PROPOSAL and t.source is None and t.target == status
                 and origin in t.origins), None)
    if rule is None:
        raise ValidationError(_l("Une proposition de cette origine ne commence pas ainsi."), field="status")
    if role_of(actor) not in rule.who:
        raise Forbidden(_l("Cette étape ne vous revient pas."), field="origin")
    if (origin == "run") != (run_id is not None):
        raise ValueError("a proposal has a run exactly when its origin is 'run'")
    if status == "pending" and deadline is None:
        raise ValidationError(_l("Indiquez le délai de réponse."), field="deadline")
    lock_parties(session, unit.id, household.id)
    session.refresh(unit, ["status"])
    session.refresh(household, ["status"])
    if status == "pending":
        if unit.status not in ("published", "proposed"):
            raise Conflict(_l("Ce logement n'est pas disponible."), field="unit")
        if household.status not in ("active", "proposed"):
            raise Conflict(_l("Ce ménage n'attend pas de proposition."), field="household")
        if session.scalar(sa.select(Proposal.id).where(
                Proposal.unit_id == unit.id, Proposal.household_id == household.id,
                Proposal.status.in_(BUSY_STATUSES))):
            raise Conflict(_l("Ce logement est déjà proposé à ce ménage."), field="household")
    proposal = Proposal(unit_id=unit.id, household_id=household.id, origin=origin, run_id=run_id,
                        rank=rank, score=score, components=components or {}, deadline=deadline)
    proposal.status = rule.target
    try:
        with session.begin_nested():
            session.add(proposal)
            session.flush()
    except sa.exc.IntegrityError as exc:
        raise Conflict(_l("Ce logement est déjà proposé à ce ménage."), field="household") from exc
    if status == "pending":
        if unit.status == "published":
            move(session, unit, "propose", actor=actor)
        if household.status == "active":
            household.status = "proposed"
            session.flush()
    if rule.action is not None:
        audit.record(session, rule.action, actor=actor, object_type=PROPOSAL, object_id=proposal.public_id)
    notify(session, notices, base_url=base_url)
    return proposal


def store_run_proposals(session: so.Session, rows: list[dict[str, Any]], *, batch: int = 1000) -> None:
    """The run job's proposals, created in batches as `review` (origin `run`), in the
    caller's transaction. Each row has run_id, unit_id, household_id, rank, score, components."""
    rule = next(t for t in TRANSITIONS if t.kind == PROPOSAL and t.source is None and "run" in t.origins)
    for i in range(0, len(rows), batch):
        session.execute(sa.insert(Proposal), [{**row, "origin": "run", "status": rule.target}
                                              for row in rows[i:i + batch]])


def table_markdown() -> str:
    """The table as docs/proposals.md shows it (a test keeps the page equal to this)."""
    lines = []
    for kind in KINDS:
        lines += [f"### {kind}", "", "| from | event | to | who may | decision | audit |", "|---|---|---|---|---|---|"]
        for t in TRANSITIONS:
            if t.kind != kind:
                continue
            source = "(new" + (": " + ", ".join(t.origins) if t.origins else "") + ")" if t.source is None \
                else f"`{t.source}`"
            decision = f"{t.step}: {t.outcome}" if t.step else ""
            lines.append(f"| {source} | `{t.event}` | `{t.target}` | {', '.join(t.who)} | {decision} | "
                         f"{t.action or ''} |")
        lines.append("")
    return "\n".join(lines)


__all__ = [
    "ANYONE", "BUSY_STATUSES", "CANCELLABLE_STATUSES", "KINDS", "OPEN_STATUSES", "ORIGINS", "PROMISED_STATUSES",
    "PROPOSAL", "SYSTEM", "TRANSITIONS", "UNIT", "Notice", "Transition", "apply", "create_unit", "exits",
    "free_idle", "lock", "lock_parties", "may", "move", "notify", "open_proposal", "proposal_conflict", "role_of",
    "rules", "sources", "store_run_proposals", "table_markdown", "target",
]
