"""Privacy rights and retention: export what is stored about a household, erase, purge on time.

Only the audit trail outlives a household, and it never held personal data: an action, a
time, a role, and the household's random public id.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import AuditEvent, Checkpoint, Convention, Decision, Household, Proposal, Unit, User, utcnow
from services import audit, clock

# A household closed (withdrawn or housed) for longer than this is erased by `passerelle purge`.
DEFAULT_PURGE_AFTER_MONTHS = 12
# Retention per purpose (issue 18): a rehoused household's file is kept for her follow-up
# while a checkpoint is still due (at most this many months past its due date), and while a
# convention that covers her rehousing (its department, the lease inside its span) lasts.
DEFAULT_FOLLOWUP_GRACE_MONTHS = 3
CLOSED_STATUSES = ("withdrawn", "housed")
EXPORT_FORMAT = "passerelle.household-export/1"

_HOUSEHOLD_FIELDS = (
    "public_id", "reference", "status", "adults", "children", "monthly_income", "housing_allowance",
    "reference_income", "needs_wheelchair_access", "needs_no_stairs", "urgency", "priority_categories",
    "requested_on", "ready_from", "search_area", "exclusion_zones", "preferred_points", "notes",
    "current_home", "consent_recorded_on", "activated_at", "closed_at", "created_at", "updated_at",
)


def _plain(value: Any) -> Any:
    """A JSON-ready value: dates as ISO strings, money as strings (no float rounding)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def export_household(session: so.Session, household: Household, *, actor: User | None) -> dict[str, Any]:
    """Everything the platform stores about one household, decrypted, for her right of access.

    The export itself is audited (`household.export`).
    """
    proposals = list(session.scalars(
        sa.select(Proposal).where(Proposal.household_id == household.id).order_by(Proposal.created_at, Proposal.id)
    ))
    decisions: dict[int, list[Decision]] = {}
    if proposals:
        for decision in session.scalars(
            sa.select(Decision).where(Decision.proposal_id.in_([p.id for p in proposals]))
            .order_by(Decision.decided_at, Decision.id)
        ):
            decisions.setdefault(decision.proposal_id, []).append(decision)
    timeline = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "household", AuditEvent.object_id == household.public_id)
        .order_by(AuditEvent.id)
    )
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "association": household.association.name,
        "household": {name: _plain(getattr(household, name)) for name in _HOUSEHOLD_FIELDS},
        "proposals": [
            {
                "id": p.public_id,
                "run": p.run.public_id if p.run is not None else None,
                "unit": {"id": p.unit.public_id, "landlord": p.unit.landlord.name, "commune": p.unit.commune,
                         "rooms": p.unit.rooms, "rent": _plain(p.unit.rent), "charges": _plain(p.unit.charges)},
                "rank": p.rank,
                "score": p.score,
                "components": p.components,
                "status": p.status,
                "deadline": _plain(p.deadline),
                "created_at": _plain(p.created_at),
                "decisions": [
                    {"step": d.step, "outcome": d.outcome, "reason": d.reason, "decided_at": _plain(d.decided_at)}
                    for d in decisions.get(p.id, [])
                ],
            }
            for p in proposals
        ],
        # Who did what with her file: actions and roles, not the staff's names.
        "timeline": [
            {"at": _plain(e.at), "action": e.action, "by_role": e.actor_role, "outcome": e.outcome}
            for e in timeline
        ],
    }
    audit.record(session, "household.export", actor=actor, object_type="household",
                 object_id=household.public_id)
    return document


def purge_cutoff(months: int, now: dt.datetime | None = None) -> dt.datetime:
    """The instant `months` calendar months before `now` (the day is clamped to the month's end)."""
    now = now or utcnow()
    month_index = now.year * 12 + (now.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return now.replace(year=year, month=month, day=min(now.day, last_day))


def households_to_purge(session: so.Session, months: int, now: dt.datetime | None = None, *,
                        followup_grace_months: int = DEFAULT_FOLLOWUP_GRACE_MONTHS) -> list[Household]:
    """Households closed (withdrawn or housed) before the cutoff, less those kept for their
    follow-up (`kept_for_followup`)."""
    cutoff = purge_cutoff(months, now)
    closed = list(session.scalars(
        sa.select(Household)
        .where(Household.status.in_(CLOSED_STATUSES), Household.closed_at.is_not(None),
               Household.closed_at < cutoff)
        .order_by(Household.id)
    ))
    kept = kept_for_followup(session, [h.id for h in closed if h.status == "housed"], now,
                             grace_months=followup_grace_months)
    return [h for h in closed if h.id not in kept]


def kept_for_followup(session: so.Session, household_ids: list[int], now: dt.datetime | None = None, *,
                      grace_months: int = DEFAULT_FOLLOWUP_GRACE_MONTHS) -> set[int]:
    """Of these rehoused households, those whose file the follow-up still needs: a checkpoint
    still due and not more than `grace_months` late, or a convention in force that covers her
    lease (the unit's department among its departments, the lease inside its span)."""
    if not household_ids:
        return set()
    now = now or utcnow()
    today = now.astimezone(clock.PARIS).date()
    late_limit = purge_cutoff(grace_months, now).astimezone(clock.PARIS).date()
    kept = set(session.scalars(sa.select(Checkpoint.household_id).where(
        Checkpoint.household_id.in_(household_ids), Checkpoint.status == "due", Checkpoint.due_on >= late_limit)))
    conventions = session.execute(sa.select(Convention.departments, Convention.starts_on, Convention.ends_on)
                                  .where(Convention.ends_on > today)).all()
    if conventions:
        leases = session.execute(
            sa.select(Proposal.household_id, Unit.department, Decision.decided_at)
            .join(Decision, Decision.proposal_id == Proposal.id).join(Unit, Unit.id == Proposal.unit_id)
            .where(Proposal.household_id.in_(household_ids), Decision.step == "lease", Decision.outcome == "accept"))
        for household_id, department, decided_at in leases:
            day = decided_at.astimezone(clock.PARIS).date()
            if any(department in (deps or []) and starts <= day < ends for deps, starts, ends in conventions):
                kept.add(household_id)
    return kept


def purge(session: so.Session, months: int = DEFAULT_PURGE_AFTER_MONTHS,
          now: dt.datetime | None = None, *,
          followup_grace_months: int = DEFAULT_FOLLOWUP_GRACE_MONTHS) -> list[str]:
    """Erase households closed for more than `months`, with their proposals and decisions,
    except a rehoused household's file while her follow-up needs it (`kept_for_followup`).

    Returns the public ids erased. Each erasure leaves one audit row (`household.purge`),
    which names no one.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    erased = []
    for household in households_to_purge(session, months, now, followup_grace_months=followup_grace_months):
        public_id = household.public_id
        # Proposals and their decisions go too (ON DELETE CASCADE), deleted explicitly so that
        # SQLite without foreign keys and the ORM's identity map agree.
        proposal_ids = list(session.scalars(sa.select(Proposal.id).where(Proposal.household_id == household.id)))
        if proposal_ids:
            session.execute(sa.delete(Decision).where(Decision.proposal_id.in_(proposal_ids)))
            session.execute(sa.delete(Proposal).where(Proposal.id.in_(proposal_ids)))
        session.delete(household)
        session.flush()
        audit.record(session, "household.purge", actor=None, object_type="household", object_id=public_id)
        erased.append(public_id)
    return erased
