"""Match runs, the proposals they produce, and the decisions people take on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import User, _in
from models.base import Base, UTCDateTime, new_public_id, utcnow
from models.housing import Household, Unit

RUN_STATUSES = ("queued", "running", "succeeded", "failed", "released")
PROPOSAL_STATUSES = (
    "review",  # stored by a run, seen only by coordinators
    "dropped",  # set aside by a coordinator before release
    "pending",  # released: waiting for the household's answer
    "household_accepted",  # the household said yes: waiting for the commission
    "household_declined",
    "expired",  # no answer from the household before the deadline
    # The commission retained her at a rank (1..3) behind a better-ranked candidate: she
    # waits her turn, and is offered the lease if those before her do not sign it.
    "commission_ranked",
    "commission_accepted",  # the best-ranked retained candidate: the lease is hers, the unit promised
    "commission_refused",
    "leased",  # the lease is signed
    "transferred",  # she had to leave that home: an urgent transfer reopened her file (services.transfers)
    "cancelled",  # the unit went to another candidate or was withdrawn
)
# A unit (or a household) is promised to at most one proposal in these statuses.
PROMISED_STATUSES = ("commission_accepted", "leased")
# Retained by the commission and not yet leased or dropped: one candidate per rank per unit.
RETAINED_STATUSES = ("commission_ranked", "commission_accepted")
DECISION_STEPS = ("household", "commission", "lease")
HOUSEHOLD_DECLINE_REASONS = (
    "too_far_from_school",
    "unsafe_area",
    "too_expensive",
    "too_small",
    "household_unreachable",
    "household_found_housing",
    "other",
)
COMMISSION_REFUSAL_REASONS = (
    "income_ceiling",
    "incomplete_file",
    "household_refused",
    "unit_unavailable",
    "other",
)

# How a proposal came to be (services.proposal_flow.ORIGINS): a matching run, a household's
# candidacy, a landlord's request, a coordinator's direct proposal.
PROPOSAL_ORIGINS = ("run", "candidacy", "request", "direct")

_promised = "status IN ('commission_accepted', 'leased')"
_retained = "status IN ('commission_ranked', 'commission_accepted')"


class MatchRun(Base):
    """One run of the solver for a set of departments."""

    __tablename__ = "match_runs"
    __table_args__ = (
        sa.CheckConstraint(_in("status", RUN_STATUSES), name="status"),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("R-")
    )
    # The same submission (double click, retry) carries the same key and starts one job.
    idempotency_key: so.Mapped[str | None] = so.mapped_column(sa.String(80), unique=True)
    departments: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    policy: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="queued", index=True)
    # Bumped by each restart: a job only works on the attempt it was queued for, so a job
    # that comes back to life after its run was restarted cannot store anything.
    attempt: so.Mapped[int] = so.mapped_column(default=1)
    # Solver phase code (see services.runs.PHASE_LABELS) and overall fraction done.
    phase: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    progress: so.Mapped[float] = so.mapped_column(default=0.0)
    stats: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    # Unmatched households and their reasons, keyed by household public id. Deferred: a
    # region's run holds thousands; lists of runs and progress polls never need them.
    unmatched: so.Mapped[list[dict[str, Any]] | None] = so.mapped_column(sa.JSON, deferred=True)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    requested_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    started_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    released_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # Written by the job while it lives: a queued or running run whose heartbeat is old
    # has lost its job and is marked failed (services.runs.fail_stale_runs).
    heartbeat_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    requested_by: so.Mapped[User | None] = so.relationship()


class MatchRunLock(Base):
    """A department held by a queued or running run: two runs never overlap.

    The primary key makes the rule hold under any concurrency: the second of two
    simultaneous runs for the same department fails to insert its row.
    """

    __tablename__ = "match_run_locks"

    department: so.Mapped[str] = so.mapped_column(sa.String(3), primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("match_runs.id", ondelete="CASCADE"), index=True
    )


class TerritoryPolicy(Base):
    """The matching policy a coordination team applies to its runs (contract policy keys)."""

    __tablename__ = "territory_policies"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    policy: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    updated_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class Proposal(Base):
    """A unit proposed to a household (by a run, at a rank, with its score explained; or
    from the offer board: `origin`). Its status changes only in services.proposal_flow."""

    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint(_in("status", PROPOSAL_STATUSES), name="status"),
        sa.CheckConstraint(_in("origin", PROPOSAL_ORIGINS), name="origin"),
        # A run's proposal names its run; the others have none.
        sa.CheckConstraint("(origin = 'run') = (run_id IS NOT NULL)", name="run_origin"),
        sa.CheckConstraint("rank >= 1 AND rank <= 10", name="rank_range"),
        sa.CheckConstraint(
            "commission_rank IS NULL OR (commission_rank >= 1 AND commission_rank <= 3)",
            name="commission_rank_range",
        ),
        sa.CheckConstraint(f"NOT ({_retained}) OR commission_rank IS NOT NULL", name="retained_has_rank"),
        sa.UniqueConstraint("run_id", "unit_id", "rank"),
        sa.UniqueConstraint("run_id", "unit_id", "household_id"),
        # Double booking is impossible whatever the code does: one promise per unit,
        # one per household.
        sa.Index(
            "uq_proposals_unit_promised",
            "unit_id",
            unique=True,
            sqlite_where=sa.text(_promised),
            postgresql_where=sa.text(_promised),
        ),
        sa.Index(
            "uq_proposals_household_promised",
            "household_id",
            unique=True,
            sqlite_where=sa.text(_promised),
            postgresql_where=sa.text(_promised),
        ),
        # The commission's ranks of a unit's retained candidates are distinct.
        sa.Index(
            "uq_proposals_unit_commission_rank",
            "unit_id",
            "commission_rank",
            unique=True,
            sqlite_where=sa.text(_retained),
            postgresql_where=sa.text(_retained),
        ),
        sa.Index("ix_proposals_run_status", "run_id", "status"),
        # Each side's lists and the "busy" checks of a unit or a household; the expiry job.
        sa.Index("ix_proposals_unit_status", "unit_id", "status"),
        sa.Index("ix_proposals_household_status", "household_id", "status"),
        sa.Index("ix_proposals_status_deadline", "status", "deadline"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("P-")
    )
    run_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("match_runs.id", ondelete="CASCADE"))
    origin: so.Mapped[str] = so.mapped_column(sa.String(12), default="run", server_default="run")
    unit_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("units.id", ondelete="CASCADE")
    )
    household_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("households.id", ondelete="CASCADE")
    )
    rank: so.Mapped[int]
    score: so.Mapped[float]
    components: so.Mapped[dict[str, float]] = so.mapped_column(sa.JSON)
    status: so.Mapped[str] = so.mapped_column(sa.String(24), default="review")
    drop_reason: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # Why a coordinator made this direct match (origin `direct`): shown to the committee.
    origin_reason: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    commission_rank: so.Mapped[int | None]
    deadline: so.Mapped[dt.date | None]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    run: so.Mapped[MatchRun | None] = so.relationship()
    unit: so.Mapped[Unit] = so.relationship()
    household: so.Mapped[Household] = so.relationship()


class Decision(Base):
    """What the household, the commission or the lease signature said about a proposal."""

    __tablename__ = "decisions"
    __table_args__ = (
        # Nothing is decided twice.
        sa.UniqueConstraint("proposal_id", "step"),
        sa.CheckConstraint(_in("step", DECISION_STEPS), name="step"),
        sa.CheckConstraint("outcome IN ('accept', 'decline')", name="outcome"),
        sa.CheckConstraint(
            "outcome = 'accept' OR reason IS NOT NULL", name="decline_has_reason"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    step: so.Mapped[str] = so.mapped_column(sa.String(20))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(10))
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    decided_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    proposal: so.Mapped[Proposal] = so.relationship()
