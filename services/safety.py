"""Keeping open proposals safe when the facts behind them change.

A proposal was safe when the solver made it. If the referent then adds an exclusion
zone, or the landlord moves a unit, a proposal still waiting for a decision may now
place her where she must never live. Each such change re-checks the open proposals of
that household or unit with the independent checker's own rules, and cancels any that
now breaks a hard rule (time passing — the `dates` rule — cancels nothing).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from matching import instance_from_dict
from matching.validation import pair_failures
from models import Household, Proposal, Unit, User
from models.housing import PROTECTED
from services import ceilings, clock, households, proposal_flow, runs
from services import policy as policies
from services.proposals import OPEN_STATUSES, _cancel

# Proposals still waiting for someone's decision (before release too).
RECHECKED_STATUSES = ("review",) + tuple(OPEN_STATUSES)
IGNORED_RULES = {"dates", "forbidden"}


def _unit_dict(unit: Unit, as_of: dt.date | None = None) -> dict[str, Any]:
    """The unit as a run's adapter gives it, with the income ceilings in force on `as_of`."""
    row = SimpleNamespace(**{c: getattr(unit, c) for c in (
        "public_id", "commune", "rooms", "floor", "elevator", "wheelchair_accessible", "rent",
        "charges", "in_qpv", "available_from", "location_uncertainty_km", "lat", "lon",
        "surface_m2", "financing")}, code=unit.landlord.code)
    session = so.object_session(unit)
    table = ceilings.table_for(session, as_of or clock.today(unit.department)) if session is not None else None
    return runs._unit_dict(row, table)


def _household_dict(household: Household) -> dict[str, Any]:
    row = SimpleNamespace(**{c: getattr(household, c) for c in (
        "public_id", "adults", "children", "monthly_income", "housing_allowance",
        "needs_wheelchair_access", "needs_no_stairs", "urgency", "priority_categories",
        "requested_on", "ready_from", "search_area", "reference_income")}, zones=None, points=None)
    d = runs._household_dict(row, household.association.code)
    d["exclusion_zones"] = list(household.exclusion_zones or [])
    d["preferred_points"] = list(household.preferred_points or [])
    return d


def broken_rules(proposal: Proposal, as_of: dt.date | None = None,
                 policy: dict[str, Any] | None = None) -> list[str]:
    """The hard rules this proposal breaks today, with the policy of the run that made it
    (a proposal made outside a run: `policy`, else its territory's, as when the offer board
    checked it)."""
    if policy is None:
        if proposal.run is not None:
            policy = proposal.run.policy or {}
        else:
            from services import offers

            session = so.object_session(proposal)
            assert session is not None
            policy = offers._matching_policy(offers.policy_for(session, proposal.unit.department))
    instance = instance_from_dict({
        "format": "passerelle.instance/1",
        "as_of": (as_of or clock.today(proposal.unit.department)).isoformat(),
        "policy": policy,
        "units": [_unit_dict(proposal.unit, as_of)],
        "households": [_household_dict(proposal.household)],
    })
    failures = pair_failures(instance, instance.units[0], instance.households[0])
    if households.current_unit(proposal.household.current_home) == proposal.unit.public_id:
        failures = [*failures, "exclusion_zone"]  # her current home (services.offers.pair_check)
    return list(dict.fromkeys(rule for rule in failures if rule not in IGNORED_RULES))


def recheck_open_proposals(session: so.Session, *, household: Household | None = None,
                           unit: Unit | None = None, actor: User | None,
                           base_url: str = "") -> list[Proposal]:
    """Cancel the open proposals of this household or unit that now break a hard rule."""
    stmt = sa.select(Proposal).where(Proposal.status.in_(RECHECKED_STATUSES))
    if household is not None:
        stmt = stmt.where(Proposal.household_id == household.id)
    if unit is not None:
        stmt = stmt.where(Proposal.unit_id == unit.id)
    stmt = stmt.options(so.joinedload(Proposal.unit).joinedload(Unit.landlord),
                        so.joinedload(Proposal.household).options(
                            so.undefer_group(PROTECTED), so.joinedload(Household.association)))
    # A proposal made outside a run is checked with the policy of the unit's territory.
    unsafe = {p: broken_rules(p, policy=None if p.run_id is not None
                              else policies.for_departments(session, [p.unit.department]))
              for p in session.scalars(stmt.order_by(Proposal.id))}
    unsafe = {p: rules for p, rules in unsafe.items() if rules}
    # Not yet released: nobody was told, the coordinator sees it set aside and why.
    for proposal, rules in unsafe.items():
        if proposal.status == "review":
            labels = ", ".join(str(runs.REASON_LABELS.get(rule, rule)) for rule in rules)
            proposal_flow.move(session, proposal, "drop", actor=actor,
                               drop_reason=str(_l("Plus conforme aux règles : %(rules)s", rules=labels))[:200])
    released = [p for p in unsafe if p.status != "dropped"]
    if released:
        _cancel(session, released, actor, base_url=base_url)
    session.flush()
    return list(unsafe)
