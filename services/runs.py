"""Match runs: start, build the instance from the database, solve, check, store, review, release.

The life of a run::

    queued --(job claims it)--> running --(checked result stored)--> succeeded --(release)--> released
       |                           |
       +--(no heartbeat)-----------+--(error, failed check, no heartbeat)--> failed --(restart)--> queued

Decisions taken here (documented in docs/runs.md):

- Which households belong to a run: active households whose search area (its departments,
  and the departments of its communes) meets the run's departments; with an empty search
  area, those of her association's departments.
- Earlier decisions: pairs a household declined, a commission refused, a coordinator
  dropped or that expired unanswered are `forbidden` in later runs; pairs a household
  accepted (or a commission accepted) and still open are `locked`, with their unit and
  household included. A locked unit keeps its existing proposal: the run stores nothing
  new for it.
- One queued or running run per department at a time (`match_run_locks`), and the same
  submission (idempotency key) starts one job.
- Release: only a succeeded run, and only if no run overlapping its departments was
  created after it and succeeded (the newest review is the one that counts). A proposal
  whose unit is no longer published, or whose household is no longer active (or has
  already accepted another unit), is cancelled instead of released.

Services flush and never commit, except `execute_run`, which is the job itself: it owns
its sessions and commits progress in short transactions and the result in one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

import matching
from models import Household, MatchRun, Organisation, Proposal, Unit, User, crypto, utcnow
from models.runs import MatchRunLock, TerritoryPolicy
from services import audit, ceilings, clock, messages, notifications, proposal_flow
from services import households as households_svc
from services import policy as policy_defaults
from services import units as units_svc
from services.errors import Conflict, NotFound, ValidationError
from services.paging import Page, paginate

log = logging.getLogger(__name__)

PARIS = clock.PARIS
ACTIVE_RUN_STATUSES = ("queued", "running")
# Earlier decisions that forbid a pair in later runs, and those that lock it.
FORBIDDING_STATUSES = ("household_declined", "commission_refused", "dropped", "expired")
LOCKING_STATUSES = ("commission_accepted", "household_accepted")  # strongest first
MAX_CANDIDATES_PER_UNIT = 10  # proposals.rank_range
BATCH = 1000

DEFAULT_POLICY = policy_defaults.DEFAULT_POLICY

# Phase codes stored on the run, with the words a coordinator reads.
PHASE_LABELS = {
    "queued": _l("En attente"),
    "reading": _l("Lecture des données"),
    "candidates": _l("Calcul des paires possibles"),
    "optimisation": _l("Optimisation"),
    "checking": _l("Vérification"),
    "storing": _l("Enregistrement"),
    "done": _l("Terminé"),
    "failed": _l("Échec"),
}
# Why a run failed: a stable code stored on the run (with its parameters), and the words a
# coordinator reads, translated when she reads them (never stored as French text).
ERROR_MESSAGES = {
    "silent": _l("Le calcul s'est interrompu sans donner de nouvelles : relancez-le."),
    "refused_by_checker": _l("Le résultat du calcul a été refusé par la vérification indépendante "
                             "(%(n)d anomalie(s)) ; rien n'a été enregistré. %(detail)s"),
    "crashed": _l("Erreur pendant le calcul : %(error)s"),
    "not_queued": _l("La file des tâches de calcul ne répondait pas : le calcul n'a pas été lancé. Relancez-le."),
    "dead": _l("Le calcul a cessé de donner signe de vie (processus de calcul arrêté) : relancez-le."),
}


@dataclass(frozen=True)
class RunError:
    """A failed run's reason: `code` for programs, `message` in the current language."""

    code: str
    params: dict[str, Any]

    @property
    def message(self) -> str:
        lazy = ERROR_MESSAGES.get(self.code)
        if lazy is None:
            # Not one of ours (written by hand, or by an older version): shown as it is.
            return str(self.params.get("text", ""))
        return messages.text(messages.deferred(lazy)[0], self.params)


def _error(code: str, **params: Any) -> str:
    """What `MatchRun.error` holds: the code and its parameters, as JSON."""
    assert code in ERROR_MESSAGES, code
    return json.dumps({"code": code, "params": params}, ensure_ascii=False)


def run_error(run: MatchRun) -> RunError | None:
    """Why the run failed (None if it did not)."""
    if not run.error:
        return None
    try:
        stored = json.loads(run.error)
        return RunError(str(stored["code"]), dict(stored.get("params") or {}))
    except (ValueError, TypeError, KeyError):
        return RunError("error", {"text": run.error})


# Solver phase -> (our phase, start, end of its share of the progress bar).
SOLVER_PHASES: dict[str, tuple[str, float, float]] = {
    "candidates": ("candidates", 0.10, 0.50),
    "flow": ("optimisation", 0.50, 0.70),
    "pricing": ("optimisation", 0.50, 0.70),
    "qpv": ("optimisation", 0.70, 0.75),
    "alternates": ("optimisation", 0.75, 0.80),
    "explain": ("optimisation", 0.80, 0.85),
}
OUR_PHASES: dict[str, float] = {"reading": 0.0, "checking": 0.85, "storing": 0.90, "done": 1.0}

STATUS_LABELS = {
    "queued": _l("En attente"),
    "running": _l("En cours"),
    "succeeded": _l("À examiner"),
    "failed": _l("Échec"),
    "released": _l("Diffusé"),
}
REASON_LABELS = {
    "size": _l("taille du logement"),
    "rent_burden": _l("taux d'effort"),
    "wheelchair": _l("accès en fauteuil roulant"),
    "stairs": _l("escaliers (ni rez-de-chaussée ni ascenseur)"),
    "exclusion_zone": _l("zone d'exclusion"),
    "search_area": _l("secteur de recherche"),
    "dates": _l("dates de disponibilité"),
    "forbidden": _l("refus antérieur"),
    "income_ceiling": _l("plafond de ressources"),
    "competition": _l("logements possibles attribués à des ménages prioritaires"),
}
COMPONENT_LABELS = {
    "urgency": _l("Urgence"),
    "waiting": _l("Ancienneté de la demande"),
    "location": _l("Proximité des lieux souhaités"),
    "fit": _l("Adéquation du logement"),
    "rent": _l("Loyer"),
    "availability": _l("Disponibilité"),
}
PROPOSAL_STATUS_LABELS = {
    "review": _l("À examiner"),
    "dropped": _l("Écartée"),
    "pending": _l("Envoyée"),
    "cancelled": _l("Annulée"),
}


@dataclass(frozen=True)
class RunSettings:
    """What a job needs from the app's settings."""

    time_limit_s: float | None = None
    heartbeat_s: float = 15.0
    progress_every_s: float = 0.5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RunSettings:
        immediate = bool(config.get("JOBS_IMMEDIATE"))
        return cls(
            time_limit_s=config.get("RUN_TIME_LIMIT_SECONDS"),
            # In immediate mode the job shares the caller's connection: no second thread on it.
            heartbeat_s=0.0 if immediate else float(config.get("RUN_HEARTBEAT_SECONDS", 15)),
            progress_every_s=float(config.get("RUN_PROGRESS_EVERY_SECONDS", 0.5)),
        )


def today() -> dt.date:
    """Today in metropolitan France (services.clock: a territory's own day)."""
    return clock.today()


# --- Policy ---------------------------------------------------------------------------


def validate_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The policy, checked with the solver's own reader; a ValidationError names the key."""
    if not isinstance(policy, Mapping):
        raise ValidationError({"policy": [_l("La politique doit être un objet.")]})
    policy = dict(policy)
    cpu = policy.get("candidates_per_unit")
    if isinstance(cpu, int) and not isinstance(cpu, bool) and not 1 <= cpu <= MAX_CANDIDATES_PER_UNIT:
        raise ValidationError({"candidates_per_unit": [
            _l("Entre 1 et %(n)d candidats par logement.", n=MAX_CANDIDATES_PER_UNIT)]})
    try:
        matching.instance_from_dict({"format": "passerelle.instance/1", "as_of": "2026-01-01",
                                     "policy": policy, "units": [], "households": []})
    except matching.InstanceError as exc:
        raise ValidationError({"policy": [_l("Politique invalide : %(error)s", error=str(exc))]}) from exc
    return policy


def territory_policy(session: so.Session, organisation: Organisation | None) -> dict[str, Any]:
    """The policy a coordination team applies: the defaults, then its own settings."""
    return policy_defaults.of_organisation(session, organisation)


def set_territory_policy(session: so.Session, organisation: Organisation, policy: Mapping[str, Any], *,
                         actor: User) -> dict[str, Any]:
    """Save a coordination team's policy (contract policy keys), after checking it."""
    clean = validate_policy(policy)
    row = session.scalar(sa.select(TerritoryPolicy).where(TerritoryPolicy.organisation_id == organisation.id))
    if row is None:
        row = TerritoryPolicy(organisation_id=organisation.id)
        session.add(row)
    row.policy = clean
    row.updated_by_id = actor.id
    session.flush()
    audit.record(session, "policy.update", actor=actor, object_type="organisation",
                 object_id=str(organisation.id))
    return {**DEFAULT_POLICY, **clean}


# --- Starting, restarting, stale runs -------------------------------------------------


def validate_departments(departments: Iterable[str], allowed: Iterable[str] | None = None) -> list[str]:
    """Known department codes, upper-cased, sorted, without repeats; within `allowed` if given."""
    from matching.geo import departments as known

    codes = sorted({str(code).strip().upper() for code in departments if str(code).strip()})
    if not codes:
        raise ValidationError({"departments": [_l("Choisissez au moins un département.")]})
    unknown = [code for code in codes if code not in known()]
    if unknown:
        raise ValidationError({"departments": [
            _l("Département inconnu : %(codes)s", codes=", ".join(unknown))]})
    allowed_set = set(allowed or [])
    if allowed_set:
        outside = [code for code in codes if code not in allowed_set]
        if outside:
            raise ValidationError({"departments": [
                _l("Hors de votre territoire : %(codes)s", codes=", ".join(outside))]})
    return codes


def _active_run_for(session: so.Session, departments: Iterable[str]) -> MatchRun | None:
    return session.scalar(
        sa.select(MatchRun).join(MatchRunLock, MatchRunLock.run_id == MatchRun.id)
        .where(MatchRunLock.department.in_(list(departments))).limit(1)
    )


def _overlap_conflict(run: MatchRun) -> Conflict:
    return Conflict(
        _l("Un rapprochement est déjà en cours pour ces départements (%(run)s).", run=run.public_id),
        field="departments", run=run.public_id,
    )


def _take_departments(session: so.Session, run: MatchRun) -> None:
    """Hold the run's departments; a concurrent run for one of them makes this fail."""
    active = _active_run_for(session, run.departments)
    if active is not None and active.id != run.id:
        raise _overlap_conflict(active)
    try:
        with session.begin_nested():
            # Sorted: two runs always take their rows in the same order (no deadlock).
            for code in sorted(run.departments):
                session.add(MatchRunLock(department=code, run_id=run.id))
            session.flush()
    except sa_exc.IntegrityError:
        active = _active_run_for(session, run.departments)
        raise _overlap_conflict(active) if active else Conflict(
            _l("Un rapprochement est déjà en cours pour ces départements."), field="departments") from None


def _free_departments(session: so.Session, run_id: int) -> None:
    session.execute(sa.delete(MatchRunLock).where(MatchRunLock.run_id == run_id))


def start_run(session: so.Session, *, actor: User, departments: Iterable[str],
              policy_overrides: Mapping[str, Any] | None = None,
              idempotency_key: str | None = None,
              liveness: Liveness | None = None) -> tuple[MatchRun, bool]:
    """Queue a run for these departments; returns (run, created).

    `liveness`: how to tell a dead job (see `fail_dead_runs`); a run of these departments
    whose job is dead is failed first, so a killed worker does not block the territory.

    The same idempotency key returns the run it first created (created is False). A
    queued or running run for one of these departments makes this a Conflict. The caller
    commits, then enqueues the job (`run.id`, `run.attempt`).
    """
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 80:
            raise ValidationError({"idempotency_key": [_l("Clé d'idempotence trop longue.")]})
        existing = _run_with_key(session, key, actor)
        if existing is not None:
            return existing, False
    org = actor.organisation
    if org is None or not org.departments:
        # No territory is no department at all, never every department (docs/SECURITY.md).
        raise ValidationError({"departments": [_l("Votre organisation n'a aucun département : "
                                                  "aucun rapprochement ne peut être lancé.")]})
    codes = validate_departments(departments, org.departments)
    policy = validate_policy({**territory_policy(session, org), **(policy_overrides or {})})
    if liveness is not None:
        fail_dead_runs(session, codes, liveness)
    active = _active_run_for(session, codes)
    if active is not None:
        if key is not None and active.idempotency_key == key and active.requested_by_id == actor.id:
            # The same submission, committed by a concurrent request since the key was read.
            return active, False
        raise _overlap_conflict(active)
    try:
        with session.begin_nested():
            run = MatchRun(departments=codes, policy=policy, status="queued", phase="queued",
                           progress=0.0, idempotency_key=key, requested_by_id=actor.id,
                           heartbeat_at=utcnow())
            session.add(run)
            session.flush()
            _take_departments(session, run)
    except sa_exc.IntegrityError:
        # The same key, committed by a concurrent request a moment ago.
        existing = _run_with_key(session, key, actor) if key else None
        if existing is None:
            raise
        return existing, False
    audit.record(session, "run.start", actor=actor, object_type="match_run", object_id=run.public_id)
    return run, True


def _run_with_key(session: so.Session, key: str | None, actor: User) -> MatchRun | None:
    run = session.scalar(sa.select(MatchRun).where(MatchRun.idempotency_key == key))
    if run is not None and run.requested_by_id != actor.id:
        # A key is a submission of one person; someone else's key is not a way to read her run.
        raise Conflict(_l("Cette clé d'idempotence a déjà servi."), field="idempotency_key")
    return run


def restart_run(session: so.Session, run: MatchRun, *, actor: User,
                liveness: Liveness | None = None) -> MatchRun:
    """Queue a failed run again (a new attempt); the caller commits, then enqueues."""
    if liveness is not None:
        fail_dead_runs(session, run.departments, liveness)
    if run.status != "failed":
        raise Conflict(_l("Seul un rapprochement en échec peut être relancé."), field="status")
    _take_departments(session, run)
    run.status, run.phase, run.progress = "queued", "queued", 0.0
    run.attempt += 1
    run.error = run.stats = run.unmatched = None
    run.started_at = run.finished_at = None
    run.heartbeat_at = utcnow()
    session.flush()
    audit.record(session, "run.restart", actor=actor, object_type="match_run", object_id=run.public_id)
    return run


@dataclass(frozen=True)
class Liveness:
    """How a start tells a dead job from a slow one.

    `dead_after_s`: a running run whose heartbeat (written every RUN_HEARTBEAT_SECONDS by
    its job) is older than this has lost its worker. `job_pending(run_id, attempt)`: whether
    the queue still holds a queued run's job; a queued run older than `dead_after_s` whose
    job is in no queue will never start (its worker took it and died before claiming it).
    """

    dead_after_s: float
    job_pending: Callable[[int, int], bool] | None = None


def fail_dead_runs(session: so.Session, departments: Iterable[str], liveness: Liveness,
                   now: dt.datetime | None = None) -> list[MatchRun]:
    """Fail at once the active runs of these departments whose job is dead (see `Liveness`)."""
    now = now or utcnow()
    limit = now - dt.timedelta(seconds=liveness.dead_after_s)
    beat = sa.func.coalesce(MatchRun.heartbeat_at, MatchRun.created_at)
    holders = sa.select(MatchRunLock.run_id).where(MatchRunLock.department.in_(list(departments)))
    candidates = list(session.scalars(
        sa.select(MatchRun).where(MatchRun.id.in_(holders), MatchRun.status.in_(ACTIVE_RUN_STATUSES),
                                  beat < limit).order_by(MatchRun.id).with_for_update()))
    dead = []
    for run in candidates:
        if run.status == "queued" and (liveness.job_pending is None
                                       or liveness.job_pending(run.id, run.attempt)):
            continue  # waiting its turn behind other jobs (or we cannot tell): not dead
        run.status, run.phase = "failed", "failed"
        run.error = _error("dead")
        run.finished_at = now
        _free_departments(session, run.id)
        audit.record(session, "run.failed", object_type="match_run", object_id=run.public_id,
                     outcome="failure")
        dead.append(run)
    session.flush()
    return dead


def fail_unqueued(sessionmaker: Callable[[], so.Session], run_id: int, attempt: int) -> None:
    """The queue refused the job of a run just committed: fail it and free its departments.

    Its own transaction (the request's is committed): no queued run is left without a job,
    holding its departments until the stale-run sweep.
    """
    _fail(sessionmaker, run_id, attempt, _error("not_queued"), statuses=("queued",))


def fail_stale_runs(session: so.Session, stale_after_s: float, now: dt.datetime | None = None) -> list[MatchRun]:
    """Mark failed the queued or running runs whose job stopped giving signs of life."""
    now = now or utcnow()
    limit = now - dt.timedelta(seconds=stale_after_s)
    beat = sa.func.coalesce(MatchRun.heartbeat_at, MatchRun.created_at)
    # A queued run waits its turn while a live job works: the queue is busy, not lost.
    busy = session.scalar(sa.select(
        sa.select(MatchRun.id).where(MatchRun.status == "running", beat >= limit).exists()))
    statuses = ["running"] if busy else list(ACTIVE_RUN_STATUSES)
    stale = list(session.scalars(sa.select(MatchRun).where(MatchRun.status.in_(statuses), beat < limit)))
    for run in stale:
        run.status, run.phase = "failed", "failed"
        run.error = _error("silent")
        run.finished_at = now
        _free_departments(session, run.id)
        audit.record(session, "run.failed", object_type="match_run", object_id=run.public_id,
                     outcome="failure")
    session.flush()
    return stale


# --- Reading ----------------------------------------------------------------------------


def get_run(session: so.Session, public_id: str, *, within: sa.ColumnElement[bool]) -> MatchRun:
    """The run with this public id, if `within` (the reader's reach: `services.territory.runs`) holds it.

    :raise NotFound: no such run, or one outside the reader's territory (the same answer).
    """
    run = session.scalar(sa.select(MatchRun).where(MatchRun.public_id == public_id, within))
    if run is None:
        raise NotFound(_l("Rapprochement introuvable."))
    return run


def list_runs(session: so.Session, page: int = 1, per_page: int = 25, *,
              within: sa.ColumnElement[bool]) -> Page[MatchRun]:
    """Runs within the reader's reach (`services.territory.runs`), newest first."""
    stmt = sa.select(MatchRun).where(within).order_by(MatchRun.created_at.desc(), MatchRun.id.desc())
    return paginate(session, stmt, page, per_page)


def list_proposals(session: so.Session, run: MatchRun, page: int = 1, per_page: int = 25) -> Page[Proposal]:
    """Every proposal of a run, by unit then rank, with its unit and household ids loaded."""
    stmt = (
        sa.select(Proposal).where(Proposal.run_id == run.id)
        .join(Unit, Unit.id == Proposal.unit_id)
        .options(so.contains_eager(Proposal.unit).load_only(Unit.public_id, Unit.reference),
                 so.joinedload(Proposal.household).load_only(Household.public_id))
        .order_by(Unit.public_id, Proposal.rank, Proposal.id)
    )
    return paginate(session, stmt, page, per_page)


@dataclass
class UnitReview:
    """One unit of a run under review: its rank-1 proposal and the alternates."""

    unit: Unit
    proposals: list[Proposal] = field(default_factory=list)

    @property
    def first(self) -> Proposal | None:
        return self.proposals[0] if self.proposals and self.proposals[0].rank == 1 else None

    @property
    def alternates(self) -> list[Proposal]:
        return [p for p in self.proposals if p.rank > 1]


def review_page(session: so.Session, run: MatchRun, page: int = 1, per_page: int = 20) -> Page[UnitReview]:
    """The run's units, best rank-1 score first, each with all its proposals (two queries)."""
    units_stmt = (
        sa.select(Proposal.unit_id).where(Proposal.run_id == run.id, Proposal.rank == 1)
        .order_by(Proposal.score.desc(), Proposal.id)
    )
    ids_page = paginate(session, units_stmt, page, per_page)
    unit_ids = list(ids_page.items)
    proposals = session.scalars(
        sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.unit_id.in_(unit_ids))
        .options(so.joinedload(Proposal.unit).joinedload(Unit.landlord),
                 so.joinedload(Proposal.household).joinedload(Household.association))
        .order_by(Proposal.rank)
    ).unique()
    by_unit: dict[int, UnitReview] = {}
    for p in proposals:
        by_unit.setdefault(p.unit_id, UnitReview(unit=p.unit)).proposals.append(p)
    items = [by_unit[uid] for uid in unit_ids if uid in by_unit]
    return Page(items=items, page=ids_page.page, per_page=ids_page.per_page, total=ids_page.total)


@dataclass(frozen=True)
class UnmatchedRow:
    """A household the run could not match, and why."""

    public_id: str
    household: Household | None
    reasons: list[str]

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASON_LABELS.get(r, r)) for r in self.reasons]


def unmatched_page(session: so.Session, run: MatchRun, page: int = 1, per_page: int = 50) -> Page[UnmatchedRow]:
    """The run's unmatched households with their reasons (stored most urgent first)."""
    rows = run.unmatched or []
    page = max(1, page)
    chunk = rows[(page - 1) * per_page: page * per_page]
    ids = [r["household"] for r in chunk]
    households = {
        h.public_id: h for h in session.scalars(
            sa.select(Household).where(Household.public_id.in_(ids))
            .options(so.joinedload(Household.association))
        )
    } if ids else {}
    items = [UnmatchedRow(r["household"], households.get(r["household"]), list(r["reasons"])) for r in chunk]
    return Page(items=items, page=page, per_page=per_page, total=len(rows))


def get_proposal(session: so.Session, run: MatchRun, public_id: str) -> Proposal:
    """A proposal of this run."""
    proposal = session.scalar(
        sa.select(Proposal).where(Proposal.run_id == run.id, Proposal.public_id == public_id)
    )
    if proposal is None:
        raise NotFound(_l("Proposition introuvable."))
    return proposal


# --- Review and release -------------------------------------------------------------------


def drop_proposal(session: so.Session, run: MatchRun, proposal_public_id: str, reason: str, *,
                  actor: User) -> Proposal:
    """Set a proposal aside before release, with the coordinator's reason."""
    proposal = get_proposal(session, run, proposal_public_id)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({"reason": [_l("Indiquez pourquoi cette proposition est écartée.")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_l("200 caractères au plus.")]})
    if run.status != "succeeded":
        raise Conflict(_l("Ce rapprochement n'est plus en cours d'examen."), field="status")
    if proposal.status != "review":
        raise Conflict(_l("Cette proposition n'est plus en cours d'examen."), field="status")
    proposal_flow.move(session, proposal, "drop", actor=actor, drop_reason=reason)
    return proposal


def _overlaps(a: Iterable[str], b: Iterable[str]) -> bool:
    return bool(set(a) & set(b))


def release_run(session: so.Session, run: MatchRun, *, actor: User, reply_days: int,
                on: dt.date | None = None, base_url: str = "") -> dict[str, int]:
    """Send the reviewed proposals: pending with a reply deadline; units and households proposed.

    Returns counts: {"released": n, "cancelled": m}.
    """
    if run.status == "released":
        raise Conflict(_l("Ce rapprochement a déjà été diffusé."), field="status")
    if run.status != "succeeded":
        raise Conflict(_l("Seul un rapprochement terminé peut être diffusé."), field="status")
    newer = session.scalars(
        sa.select(MatchRun).where(MatchRun.id > run.id, MatchRun.status.in_(("succeeded", "released")))
    )
    for other in newer:
        if _overlaps(other.departments, run.departments):
            raise Conflict(_l("Un rapprochement plus récent (%(run)s) couvre ces départements : "
                              "diffusez celui-là.", run=other.public_id), field="status")
    now = utcnow()
    # The status test in the UPDATE makes a second, concurrent release change nothing.
    # Session.execute is typed as returning a Result; for an UPDATE it is a CursorResult.
    claimed = cast("sa.CursorResult[Any]", session.execute(
        sa.update(MatchRun).where(MatchRun.id == run.id, MatchRun.status == "succeeded")
        .values(status="released", released_at=now)
    )).rowcount
    if claimed != 1:
        raise Conflict(_l("Ce rapprochement a déjà été diffusé."), field="status")
    deadline = (on or clock.today_for(run.departments)) + dt.timedelta(days=reply_days)

    # Households that already accepted a unit (still open) are not sent other offers.
    committed = sa.select(Proposal.household_id).where(
        Proposal.status.in_(("household_accepted", "commission_ranked", "commission_accepted", "leased")))
    rows = session.execute(
        sa.select(Proposal.id, Proposal.unit_id, Proposal.household_id, Unit.status, Household.status,
                  Proposal.household_id.in_(committed))
        .join(Unit, Unit.id == Proposal.unit_id).join(Household, Household.id == Proposal.household_id)
        .where(Proposal.run_id == run.id, Proposal.status == "review")
    ).all()
    released, cancelled, units, households = [], [], set(), set()
    for pid, unit_id, household_id, unit_status, household_status, has_accepted in rows:
        if unit_status == "published" and household_status in ("active", "proposed") and not has_accepted:
            released.append(pid)
            units.add(unit_id)
            households.add(household_id)
        else:
            cancelled.append(pid)
    proposal_flow.apply(session, proposal_flow.PROPOSAL, released, "release", actor=actor,
                        values={"deadline": deadline}, now=now)
    proposal_flow.apply(session, proposal_flow.PROPOSAL, cancelled, "release_cancel", actor=actor, now=now)
    proposal_flow.apply(session, proposal_flow.UNIT, sorted(units), "propose", actor=actor, now=now)
    for chunk in _chunks(sorted(households)):
        session.execute(sa.update(Household).where(Household.id.in_(chunk), Household.status == "active")
                        .values(status="proposed", updated_at=now))
    counts = {"released": len(released), "cancelled": len(cancelled)}
    # Both sides learn that proposals wait for them (never what or where: see notifications).
    org_ids: set[int] = set()
    for chunk in _chunks(sorted(units)):
        org_ids.update(session.scalars(sa.select(Unit.landlord_id).where(Unit.id.in_(chunk))))
    for chunk in _chunks(sorted(households)):
        org_ids.update(session.scalars(sa.select(Household.association_id).where(Household.id.in_(chunk))))
    if org_ids:
        notifications.proposals_released(
            session, session.scalars(sa.select(Organisation).where(Organisation.id.in_(sorted(org_ids)))),
            base_url=base_url)
    session.refresh(run)
    run.stats = {**(run.stats or {}), "release": counts}
    session.flush()
    audit.record(session, "run.release", actor=actor, object_type="match_run", object_id=run.public_id)
    return counts


def _chunks(items: list[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- Building the instance --------------------------------------------------------------


@dataclass
class BuiltInstance:
    """The solver's instance and the mapping back to database rows (kept in memory)."""

    instance: matching.Instance
    unit_ids: dict[str, int]  # instance id (public id) -> units.id
    household_ids: dict[str, int]
    locked_units: set[str]
    counts: dict[str, int]


_UNIT_COLUMNS = (
    Unit.id, Unit.public_id, Organisation.code, Unit.commune, Unit.lat, Unit.lon,
    Unit.location_uncertainty_km, Unit.rooms, Unit.surface_m2, Unit.floor, Unit.elevator,
    Unit.wheelchair_accessible, Unit.rent, Unit.charges, Unit.financing, Unit.in_qpv, Unit.available_from,
)
_HOUSEHOLD_COLUMNS = (
    Household.id, Household.public_id, Household.association_id, Household.adults, Household.children,
    Household.monthly_income, Household.housing_allowance, Household.reference_income,
    Household.needs_wheelchair_access, Household.needs_no_stairs, Household.urgency,
    Household.priority_categories, Household.requested_on, Household.ready_from, Household.search_area,
    # Read as ciphertext: only the households of the run are decrypted.
    sa.type_coerce(Household.exclusion_zones, sa.Text()).label("zones"),
    sa.type_coerce(Household.preferred_points, sa.Text()).label("points"),
    sa.type_coerce(Household.current_home, sa.Text()).label("home"),
)


def _unit_dict(row: Any, table: ceilings.CeilingTable | None = None) -> dict[str, Any]:
    """A unit of the instance; with `table`, the income ceilings of its financing in its
    zone (rule 9 on by default: no policy key to set)."""
    d: dict[str, Any] = {
        "id": row.public_id, "landlord": row.code, "commune": row.commune,
        "rooms": row.rooms, "floor": row.floor, "elevator": row.elevator,
        "wheelchair_accessible": row.wheelchair_accessible, "rent": float(row.rent),
        "charges": float(row.charges), "in_qpv": row.in_qpv,
        "available_from": row.available_from.isoformat(),
        "location_uncertainty_km": float(row.location_uncertainty_km or 0.0),
    }
    if row.lat is not None and row.lon is not None:
        d["lat"], d["lon"] = float(row.lat), float(row.lon)
    if row.surface_m2 is not None:
        d["surface_m2"] = float(row.surface_m2)
    if row.financing:
        d["financing"] = row.financing
        ceiling_row = ceilings.unit_ceiling(table, row.financing, row.commune) if table else None
        if ceiling_row is not None:
            d["income_ceiling"] = list(ceiling_row)
    return d


def _decrypt(text: str | None) -> Any:
    return json.loads(crypto.decrypt(text)) if text else []


def _current_unit(row: Any) -> str | None:
    """The unit a household row's current home is (decrypted only when she has one)."""
    return households_svc.current_unit(json.loads(crypto.decrypt(row.home))) if row.home else None


def _household_dict(row: Any, association_code: str) -> dict[str, Any]:
    area = row.search_area or {}
    d: dict[str, Any] = {
        "id": row.public_id, "association": association_code,
        "adults": row.adults, "children": row.children,
        "monthly_income": float(row.monthly_income), "housing_allowance": float(row.housing_allowance),
        "needs_wheelchair_access": row.needs_wheelchair_access, "needs_no_stairs": row.needs_no_stairs,
        "urgency": row.urgency, "priority_categories": list(row.priority_categories or []),
        "requested_on": row.requested_on.isoformat(), "ready_from": row.ready_from.isoformat(),
        "search_area": {"communes": list(area.get("communes") or []),
                        "departments": list(area.get("departments") or [])},
        "exclusion_zones": _decrypt(row.zones) or [],
        "preferred_points": _decrypt(row.points) or [],
    }
    if row.reference_income is not None:
        d["reference_income"] = row.reference_income
    # The official category of the ceilings (a single mother with a child is category 3).
    d["income_category"] = ceilings.household_category(row)
    return d


def household_departments(search_area: Mapping[str, Any] | None, association_departments: Iterable[str]) -> set[str]:
    """Departments a household looks in: her search area's, or else her association's."""
    from matching.geo import department_of

    area = search_area or {}
    found = set(area.get("departments") or [])
    found.update(department_of(code) for code in area.get("communes") or [])
    return found or set(association_departments)


def build_instance(session: so.Session, run: MatchRun, as_of: dt.date) -> BuiltInstance:
    """The run's instance, read in streamed batches of the needed columns (no per-row query)."""
    departments = set(run.departments)
    table = ceilings.table_for(session, as_of)
    units: dict[str, dict[str, Any]] = {}
    unit_ids: dict[str, int] = {}
    for row in session.execute(
        sa.select(*_UNIT_COLUMNS).join(Organisation, Organisation.id == Unit.landlord_id)
        # Permanent homes only: an emergency place is sheltered in apart (services.shelter).
        .where(Unit.status == "published", units_svc.permanent(), Unit.department.in_(sorted(departments)))
        .order_by(Unit.id).execution_options(yield_per=BATCH)
    ):
        units[row.public_id] = _unit_dict(row, table)
        unit_ids[row.public_id] = row.id

    associations = {
        org_id: (code, list(deps or []))
        for org_id, code, deps in session.execute(
            sa.select(Organisation.id, Organisation.code, Organisation.departments)
            .where(Organisation.kind == "association"))
    }
    households: dict[str, dict[str, Any]] = {}
    household_ids: dict[str, int] = {}
    current_units: dict[str, str] = {}  # household -> the unit she rents now
    for hrow in session.execute(
        sa.select(*_HOUSEHOLD_COLUMNS).where(Household.status == "active")
        .order_by(Household.id).execution_options(yield_per=BATCH)
    ):
        code, assoc_departments = associations.get(hrow.association_id, ("?", []))
        if household_departments(hrow.search_area, assoc_departments) & departments:
            households[hrow.public_id] = _household_dict(hrow, code)
            household_ids[hrow.public_id] = hrow.id
            if (home_unit := _current_unit(hrow)) is not None:
                current_units[hrow.public_id] = home_unit

    # Accepted pairs still open: locked, with their unit and household (no longer
    # published/active because of that very acceptance).
    lock_rows = session.execute(
        sa.select(Proposal.unit_id, Proposal.household_id, Proposal.status)
        .join(Unit, Unit.id == Proposal.unit_id)
        # Only a run's own pairs: a candidacy, an offer or a direct match keeps its unit and
        # household `proposed`, out of the run (taken), until it is decided.
        .where(Proposal.status.in_(LOCKING_STATUSES), Proposal.origin == "run",
               Unit.department.in_(sorted(departments)),
               Unit.status.in_(("published", "proposed")),
               sa.select(Household.id).where(Household.id == Proposal.household_id,
                                             Household.status.in_(("active", "proposed"))).exists())
        .order_by(sa.case((Proposal.status == "commission_accepted", 0), else_=1), Proposal.id)
    ).all()
    lock_unit_db: set[int] = {r.unit_id for r in lock_rows}
    lock_household_db: set[int] = {r.household_id for r in lock_rows}
    have_units = set(unit_ids.values())
    have_households = set(household_ids.values())
    missing_units = sorted(lock_unit_db - have_units)
    for chunk in _chunks(missing_units):
        for row in session.execute(
            sa.select(*_UNIT_COLUMNS).join(Organisation, Organisation.id == Unit.landlord_id)
            .where(Unit.id.in_(chunk))
        ):
            units[row.public_id] = _unit_dict(row, table)
            unit_ids[row.public_id] = row.id
    for chunk in _chunks(sorted(lock_household_db - have_households)):
        for hrow in session.execute(sa.select(*_HOUSEHOLD_COLUMNS).where(Household.id.in_(chunk))):
            code, _deps = associations.get(hrow.association_id, ("?", []))
            households[hrow.public_id] = _household_dict(hrow, code)
            household_ids[hrow.public_id] = hrow.id
    unit_public = {db_id: pid for pid, db_id in unit_ids.items()}
    household_public = {db_id: pid for pid, db_id in household_ids.items()}

    candidate_locks: list[tuple[str, str]] = []
    seen_u: set[str] = set()
    seen_h: set[str] = set()
    for r in lock_rows:
        u, h = unit_public[r.unit_id], household_public[r.household_id]
        if u in seen_u or h in seen_h:
            continue  # one promise per unit and per household; the strongest comes first
        seen_u.add(u)
        seen_h.add(h)
        candidate_locks.append((u, h))

    locked_pairs = set(candidate_locks)
    forbidden: set[tuple[str, str]] = set()
    for unit_id, household_id in session.execute(
        sa.select(Proposal.unit_id, Proposal.household_id)
        .where(Proposal.status.in_(FORBIDDING_STATUSES)).execution_options(yield_per=BATCH)
    ):
        fu, fh = unit_public.get(unit_id), household_public.get(household_id)
        if fu is not None and fh is not None and (fu, fh) not in locked_pairs:
            forbidden.add((fu, fh))
    # Her current home is never proposed to her, whatever zones she kept around it.
    forbidden |= {(u, h) for h, u in current_units.items() if u in units and (u, h) not in locked_pairs}

    doc = {
        "format": "passerelle.instance/1", "as_of": as_of.isoformat(), "policy": run.policy,
        "units": list(units.values()), "households": list(households.values()),
        "forbidden": [{"unit": u, "household": h} for u, h in sorted(forbidden)],
    }
    instance = matching.instance_from_dict(doc)

    # A locked pair must still satisfy every hard rule (the unit or the policy may have
    # changed since she accepted): one that does not is left out with its unit and household.
    from matching.validation import pair_failures

    by_unit = {u.id: u for u in instance.units}
    by_household = {h.id: h for h in instance.households}
    locks: list[matching.PairRef] = []
    broken_units: set[str] = set()
    broken_households: set[str] = set()
    for u, h in candidate_locks:
        failures = [r for r in pair_failures(instance, by_unit[u], by_household[h]) if r != "forbidden"]
        if failures:
            log.warning("run %s: locked pair %s/%s now breaks %s: left out", run.public_id, u, h, failures)
            broken_units.add(u)
            broken_households.add(h)
        else:
            locks.append(matching.PairRef(unit=u, household=h))
    if broken_units:
        instance = dataclasses.replace(
            instance,
            units=tuple(x for x in instance.units if x.id not in broken_units),
            households=tuple(x for x in instance.households if x.id not in broken_households),
            forbidden=tuple(p for p in instance.forbidden
                            if p.unit not in broken_units and p.household not in broken_households),
        )
        for u in broken_units:
            unit_ids.pop(u, None)
        for h in broken_households:
            household_ids.pop(h, None)
    instance = dataclasses.replace(instance, locked=tuple(locks))
    counts = {"units": len(instance.units), "households": len(instance.households),
              "locked": len(locks), "forbidden": len(instance.forbidden),
              "locks_left_out": len(broken_units)}
    return BuiltInstance(instance, unit_ids, household_ids, {p.unit for p in locks}, counts)


# --- The job ------------------------------------------------------------------------------


class ProgressReporter:
    """Writes the run's phase, progress and heartbeat in short transactions of their own."""

    def __init__(self, sessionmaker: Callable[[], so.Session], run_id: int, attempt: int,
                 every_s: float = 0.5) -> None:
        self.sessionmaker = sessionmaker
        self.run_id, self.attempt = run_id, attempt
        self.every_s = every_s
        self.phase: str | None = None
        self.progress = 0.0
        self.last_write = 0.0
        self.lock = threading.Lock()

    def set(self, phase: str, progress: float, *, force: bool = False) -> None:
        """Record a phase and a fraction done (never going backwards)."""
        with self.lock:
            progress = max(self.progress, min(1.0, progress))
            changed = phase != self.phase
            self.phase, self.progress = phase, progress
            now = time.monotonic()
            if not (force or changed or now - self.last_write >= self.every_s):
                return
            self.last_write = now
            self._write(phase=phase, progress=round(progress, 4))

    def our_phase(self, phase: str) -> None:
        self.set(phase, OUR_PHASES[phase], force=True)

    def solver(self, phase: str, fraction: float) -> None:
        """The solver's progress callback."""
        ours, start, end = SOLVER_PHASES.get(phase, ("optimisation", 0.50, 0.85))
        self.set(ours, start + (end - start) * fraction)

    def beat(self) -> None:
        with self.lock:
            self._write()

    def _write(self, **values: Any) -> None:
        try:
            with self.sessionmaker() as s:
                s.execute(sa.update(MatchRun).where(
                    MatchRun.id == self.run_id, MatchRun.attempt == self.attempt,
                    MatchRun.status == "running").values(heartbeat_at=utcnow(), **values))
                s.commit()
        except sa_exc.SQLAlchemyError:
            # Progress is a courtesy: a busy database must not fail the run.
            log.warning("run %s: progress not written", self.run_id, exc_info=True)


class _Heartbeat:
    def __init__(self, reporter: ProgressReporter, every_s: float) -> None:
        self.reporter, self.every_s = reporter, every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="run-heartbeat", daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(self.every_s):
            self.reporter.beat()

    def __enter__(self) -> _Heartbeat:
        if self.every_s > 0:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5)


def _claim(sessionmaker: Callable[[], so.Session], run_id: int, attempt: int) -> bool:
    with sessionmaker() as s:
        now = utcnow()
        # Session.execute is typed as returning a Result; for an UPDATE it is a CursorResult.
        claimed = cast("sa.CursorResult[Any]", s.execute(
            sa.update(MatchRun).where(MatchRun.id == run_id, MatchRun.attempt == attempt,
                                      MatchRun.status == "queued")
            .values(status="running", phase="reading", progress=0.0, started_at=now, heartbeat_at=now)
        )).rowcount
        s.commit()
        return claimed == 1


def _fail(sessionmaker: Callable[[], so.Session], run_id: int, attempt: int, message: str,
          statuses: tuple[str, ...] = ("running",)) -> None:
    with sessionmaker() as s:
        run = s.scalar(sa.select(MatchRun).where(MatchRun.id == run_id).with_for_update())
        if run is None or run.attempt != attempt or run.status not in statuses:
            return
        # `message` is an `_error(...)`: its long parts are cut before, so the JSON stays whole.
        run.status, run.phase, run.error, run.finished_at = "failed", "failed", message, utcnow()
        _free_departments(s, run_id)
        audit.record(s, "run.failed", object_type="match_run", object_id=run.public_id, outcome="failure")
        s.commit()


def execute_run(sessionmaker: Callable[[], so.Session], run_id: int, attempt: int,
                settings: RunSettings | None = None) -> str:
    """The job: claim the run, build, solve, check, store in one transaction. Returns the final status."""
    settings = settings or RunSettings()
    if not _claim(sessionmaker, run_id, attempt):
        log.info("run %s attempt %s: not queued any more, nothing to do", run_id, attempt)
        return "skipped"
    reporter = ProgressReporter(sessionmaker, run_id, attempt, settings.progress_every_s)
    try:
        with _Heartbeat(reporter, settings.heartbeat_s):
            as_of = today()
            clock = [time.perf_counter()]
            with sessionmaker() as s:
                run = s.get(MatchRun, run_id)
                assert run is not None
                built = build_instance(s, run, as_of)
            clock.append(time.perf_counter())
            reporter.set("candidates", 0.10, force=True)
            result = matching.solve(built.instance, time_limit_s=settings.time_limit_s, progress=reporter.solver)
            clock.append(time.perf_counter())
            reporter.our_phase("checking")
            violations = matching.check(built.instance, result)
            clock.append(time.perf_counter())
            if violations:
                # Never stored, never shown: the independent checker has the last word.
                log.error("run %s: result refused by the checker: %s", run_id, violations[:20])
                detail = "; ".join(str(v) for v in violations[:5])
                _fail(sessionmaker, run_id, attempt,
                      _error("refused_by_checker", n=len(violations), detail=detail[:2000]))
                return "failed"
            reporter.our_phase("storing")
            # Seconds of each phase of the job, in the run's stats (`job_timings`).
            timings = {name: round(clock[i + 1] - clock[i], 3) for i, name in enumerate(("build_s", "solve_s",
                                                                                         "check_s"))}
            return _store(sessionmaker, run_id, attempt, built, result, as_of, timings)
    except Exception as exc:  # noqa: BLE001 - any failure of the job fails the run, with its reason
        log.exception("run %s attempt %s failed", run_id, attempt)
        _fail(sessionmaker, run_id, attempt, _error("crashed", error=f"{type(exc).__name__}: {exc}"[:2000]))
        return "failed"


def _insert_proposals(session: so.Session, rows: list[dict[str, Any]]) -> None:
    """Insert the proposals in batches (one transaction: the caller's)."""
    proposal_flow.store_run_proposals(session, rows, batch=BATCH)


def _store(sessionmaker: Callable[[], so.Session], run_id: int, attempt: int, built: BuiltInstance,
           result: matching.Result, as_of: dt.date, timings: dict[str, float] | None = None) -> str:
    """Store every proposal and the run's outcome in one transaction: all of it or nothing."""
    started = time.perf_counter()
    doc = matching.result_to_dict(result)
    now = utcnow()
    rows = []
    for p in doc["proposals"]:
        if p["unit"] in built.locked_units:
            continue  # already promised: its existing proposal stands
        rows.append({
            "run_id": run_id, "unit_id": built.unit_ids[p["unit"]],
            "household_id": built.household_ids[p["household"]], "rank": p["rank"],
            "score": float(p["score"]), "components": {k: float(v) for k, v in p["components"].items()},
            "status": "review", "created_at": now, "updated_at": now,
        })
    stats = {**doc["stats"], **built.counts, "proposals": len(rows), "as_of": as_of.isoformat()}
    with sessionmaker() as s:
        run = s.scalar(sa.select(MatchRun).where(MatchRun.id == run_id).with_for_update())
        if run is None or run.attempt != attempt or run.status != "running":
            log.warning("run %s: no longer running attempt %s; result discarded", run_id, attempt)
            return "skipped"
        _insert_proposals(s, rows)
        run.status, run.phase, run.progress = "succeeded", "done", 1.0
        # store_s: until the proposals are inserted (the commit follows).
        stats["job_timings"] = {**(timings or {}), "store_s": round(time.perf_counter() - started, 3)}
        run.stats = json.loads(json.dumps(stats, default=float))
        urgency = {h.id: h.urgency for h in built.instance.households}
        # Most urgent first: the coordinator reads those before anyone else.
        run.unmatched = sorted(doc["unmatched"], key=lambda u: (-urgency.get(u["household"], 0), u["household"]))
        run.finished_at = run.heartbeat_at = utcnow()
        _free_departments(s, run_id)
        audit.record(s, "run.succeeded", object_type="match_run", object_id=run.public_id)
        s.commit()
    return "succeeded"
