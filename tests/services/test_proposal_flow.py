"""The life of a proposal and of a unit: one table, one writer (services.proposal_flow)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import AuditEvent, Proposal
from models.housing import UNIT_STATUSES
from models.runs import DECISION_STEPS, PROPOSAL_ORIGINS, PROPOSAL_STATUSES
from services import proposal_flow as flow
from services import proposals
from services.errors import Conflict, Forbidden, ValidationError
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 23)


# --- The table ---------------------------------------------------------------------------


def _reachable(kind: str) -> set[str]:
    seen = {t.target for t in flow.TRANSITIONS if t.kind == kind and t.source is None}
    while True:
        more = {t.target for t in flow.TRANSITIONS if t.kind == kind and t.source in seen} - seen
        if not more:
            return seen
        seen |= more


@pytest.mark.parametrize(("kind", "statuses"), [(flow.PROPOSAL, PROPOSAL_STATUSES), (flow.UNIT, UNIT_STATUSES)])
def test_every_status_is_reachable_from_creation_and_none_is_unknown(kind, statuses):
    assert _reachable(kind) == set(statuses)
    named = {s for t in flow.TRANSITIONS if t.kind == kind for s in (t.source, t.target) if s is not None}
    assert named == set(statuses)


def test_terminal_statuses_have_no_exit():
    terminal = {kind: {s for s in statuses if not flow.exits(kind, s)}
                for kind, statuses in ((flow.PROPOSAL, PROPOSAL_STATUSES), (flow.UNIT, UNIT_STATUSES))}
    assert terminal == {
        flow.PROPOSAL: {"dropped", "household_declined", "expired", "commission_refused", "transferred",
                        "cancelled"},
        flow.UNIT: {"allocated"},
    }
    for kind, statuses in terminal.items():
        for status in statuses:
            assert not [t for t in flow.TRANSITIONS if t.kind == kind and t.source == status]


def test_each_event_reaches_one_status_with_one_rule_for_who_decides_and_records():
    events = {(t.kind, t.event) for t in flow.TRANSITIONS if t.source is not None}
    for kind, event in events:
        rows = flow.rules(kind, event)
        assert len({(t.target, t.who, t.step, t.outcome, t.action) for t in rows}) == 1, (kind, event)
        assert len({t.source for t in rows}) == len(rows), (kind, event)  # no duplicate row
    for t in flow.TRANSITIONS:
        assert set(t.who) <= set(flow.ANYONE)
        assert (t.step is None) == (t.outcome is None)
        assert t.step is None or (t.kind == flow.PROPOSAL and t.step in DECISION_STEPS)
        assert (t.source is None) == (t.kind == flow.PROPOSAL and bool(t.origins) or t.event == "create")
    # Every origin starts somewhere, once.
    starts = [o for t in flow.TRANSITIONS if t.source is None for o in t.origins]
    assert sorted(starts) == sorted(PROPOSAL_ORIGINS) == sorted(flow.ORIGINS)


def test_the_documentation_shows_the_table():
    page = (ROOT / "docs" / "proposals.md").read_text(encoding="utf-8")
    assert flow.table_markdown() in page


# --- Nobody else writes the statuses ------------------------------------------------------

# Writes of `.status` that are not a proposal's or a unit's, by module and object as written.
# A new one fails the test until it is added here (or moved to services/proposal_flow.py).
OTHER_STATUSES = {
    ("services/committee.py", "action"),  # a committee's follow-up action
    ("services/households.py", "household"),
    ("services/offers.py", "request"),  # a rehousing request's (open, answered, closed)
    ("services/proposal_flow.py", "household"),
    ("services/proposals.py", "household"),
    ("services/runs.py", "run"),  # a match run's
    ("services/stats.py", "cell"),
    ("services/transfers.py", "checkpoint"),  # a follow-up checkpoint's (due, fine, difficulties, left)
    ("services/transfers.py", "household"),  # an urgent transfer reopens her file
    ("services/stats.py", "table.cell(victim)"),
    ("services/whatif.py", "under_cell"),
}
# setattr with a computed name on a unit: the names come from services.units.FIELDS (checked below).
COMPUTED_SETATTR = {("services/units.py", "unit")}
GUARDED = {"Proposal", "Unit"}


def _guarded(node: ast.AST) -> bool:
    """`Proposal`, `Unit`, `models.Unit`, `Unit.__table__`."""
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        node = node.value
    return (isinstance(node, ast.Name) and node.id in GUARDED) or (
        isinstance(node, ast.Attribute) and node.attr in GUARDED)


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        found = list(node.targets)
    elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        found = [node.target]
    elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        found = [node.target]
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        found = [node.optional_vars]
    else:
        return []
    flat: list[ast.AST] = []
    while found:
        item = found.pop()
        if isinstance(item, (ast.Tuple, ast.List)):
            found.extend(item.elts)
        elif isinstance(item, ast.Starred):
            found.append(item.value)
        else:
            flat.append(item)
    return flat


def _statement_writes(call: ast.Call) -> bool:
    """`….values(status=…)`, `….values(**x)`, `….values({...})` or `.update({"status": …})` on a
    statement built from `update(Proposal|Unit)` / `insert(Proposal|Unit)`, or on a Query of them."""
    node: ast.AST = call.func
    chain_has_guarded = False
    while isinstance(node, (ast.Attribute, ast.Call)):
        if isinstance(node, ast.Call):
            if any(_guarded(a) for a in node.args):
                chain_has_guarded = True
            node = node.func
        else:
            node = node.value
    return chain_has_guarded


def scan(source: str, path: str) -> list[str]:
    """Every write of a proposal's or a unit's status in this module's source, as `path:line what`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and target.attr == "status":
                owner = ast.unparse(target.value)
                if (path, owner) not in OTHER_STATUSES:
                    found.append(f"{path}:{target.lineno} {owner}.status =")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        keywords = {k.arg for k in node.keywords}
        if name == "setattr" and len(node.args) >= 2:
            # setattr(x, "status", …), or a computed name that might be "status" on a unit or a proposal.
            attribute, owner = node.args[1], ast.unparse(node.args[0])
            if (isinstance(attribute, ast.Constant) and attribute.value == "status") or (
                    not isinstance(attribute, ast.Constant) and _guarded_name(node.args[0])
                    and (path, owner) not in COMPUTED_SETATTR):
                found.append(f"{path}:{node.lineno} setattr({owner}, {ast.unparse(attribute)})")
        if name in GUARDED and "status" in keywords:
            found.append(f"{path}:{node.lineno} {name}(status=...)")
        if name == "insert" and any(_guarded(a) for a in node.args):
            found.append(f"{path}:{node.lineno} insert({ast.unparse(node.args[0])})")
        if name in ("values", "update", "ordered_values") and _statement_writes(node):
            dict_keys = [k.value for a in node.args if isinstance(a, ast.Dict) for k in a.keys
                         if isinstance(k, ast.Constant)]
            opaque = None in keywords or any(not isinstance(a, ast.Dict) for a in node.args)
            if "status" in keywords or "status" in dict_keys or opaque:
                found.append(f"{path}:{node.lineno} {ast.unparse(node)[:80]}")
    return found


def _guarded_name(node: ast.AST) -> bool:
    """A variable that, by its name, holds a proposal or a unit (`unit`, `proposal`, `p.unit`)."""
    text = ast.unparse(node).lower()
    return any(word in text for word in ("unit", "proposal", "candidate"))


def test_only_proposal_flow_writes_a_proposal_or_unit_status():
    from services import units

    assert "status" not in units.FIELDS  # the names update_unit sets one by one
    found = []
    for folder in ("services", "web"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "services/proposal_flow.py":
                continue
            found += scan(path.read_text(encoding="utf-8"), relative)
    assert found == []


@pytest.mark.parametrize("code", [
    "proposal.status = 'leased'",
    "p.unit.status, p.unit.allocated_at = 'allocated', now",
    "for unit.status in ['x']: pass",
    "setattr(unit, 'status', 'published')",
    "setattr(unit, name, value)",
    "session.execute(sa.update(Proposal).where(Proposal.id == 1).values(status='cancelled'))",
    "session.execute(update(models.Unit).values({'status': 'withdrawn'}))",
    "session.execute(sa.update(Unit).values(**changes))",
    "session.query(Proposal).filter_by(id=1).update({'status': 'x'})",
    "session.execute(sa.insert(Proposal), rows)",
    "session.execute(sa.update(Proposal.__table__).values(status='x'))",
    "Unit(landlord=landlord, status='published', **clean)",
])
def test_the_scan_catches_every_way_of_writing_the_status(code):
    assert scan(code, "services/example.py"), code


@pytest.mark.parametrize("code", [
    "x = unit.status",
    "household.status = 'active'",
    "session.execute(sa.update(Unit).values(updated_at=now))",
    "session.execute(sa.update(MatchRun).values(status='released'))",
    "setattr(household, 'notes', value)",
    "setattr(household, name, value)",
    "session.scalars(sa.select(Proposal).where(Proposal.status == 'pending'))",
])
def test_the_scan_lets_other_writes_be(code):
    assert scan(code, "services/households.py") == []


# --- Applying the table ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


@pytest.fixture
def parties(db):
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    return (factories.create_unit(db, landlord=landlord), factories.create_household(db, association=association),
            factories.create_user(db, "landlord", organisation=landlord),
            factories.create_user(db, "association", organisation=association),
            factories.create_user(db, "coordinator"))


def _actions(db, object_id):
    db.commit()
    return list(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id == object_id)
                           .order_by(AuditEvent.id)))


def test_a_direct_proposal_is_open_to_both_sides_and_decided_as_a_runs(db, parties):
    unit, household, lu, au, coordinator = parties
    proposal = flow.open_proposal(db, unit=unit, household=household, origin="direct", actor=coordinator,
                                  deadline=TODAY + dt.timedelta(days=10))
    assert (proposal.status, proposal.origin, proposal.run_id) == ("pending", "direct", None)
    assert (unit.status, household.status) == ("proposed", "proposed")
    # Both sides see it, and the household answers it as any other.
    assert proposals.get_for(db, au, proposal.public_id) == proposal
    assert proposals.get_for(db, lu, proposal.public_id) == proposal
    proposals.decide(db, au, proposal.public_id, decision="accept", today=TODAY)
    assert proposal.status == "household_accepted"
    assert _actions(db, proposal.public_id) == ["proposal.open", "proposal.household_accept"]
    assert [e.action for e in proposals.timeline(db, proposal, au)] == ["proposal.open",
                                                                       "proposal.household_accept"]


def test_opening_a_proposal_refuses_what_the_table_does_not_allow(db, parties):
    unit, household, lu, au, coordinator = parties
    committee = factories.create_user(db, "committee")
    deadline = TODAY + dt.timedelta(days=10)
    with pytest.raises(ValidationError) as unknown:
        flow.open_proposal(db, unit=unit, household=household, origin="lottery", actor=au, deadline=deadline)
    assert unknown.value.field == "origin"
    with pytest.raises(ValidationError):  # only a run's start under review
        flow.open_proposal(db, unit=unit, household=household, origin="candidacy", actor=au, status="review")
    with pytest.raises(ValidationError) as no_deadline:
        flow.open_proposal(db, unit=unit, household=household, origin="candidacy", actor=au)
    assert no_deadline.value.field == "deadline"
    with pytest.raises(Forbidden):
        flow.open_proposal(db, unit=unit, household=household, origin="request", actor=committee,
                           deadline=deadline)
    flow.open_proposal(db, unit=unit, household=household, origin="candidacy", actor=au, deadline=deadline)
    with pytest.raises(Conflict):  # the same pair twice
        flow.open_proposal(db, unit=unit, household=household, origin="request", actor=lu, deadline=deadline)
    let = factories.create_unit(db, landlord=unit.landlord, status="allocated")
    with pytest.raises(Conflict) as taken:
        flow.open_proposal(db, unit=let, household=household, origin="request", actor=lu, deadline=deadline)
    assert taken.value.field == "unit"
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 1


def test_a_move_the_table_does_not_have_is_refused_and_a_lost_race_is_a_conflict(db, parties):
    unit, household, lu, au, _ = parties
    proposal = factories.create_proposal(db, unit=unit, household=household)
    with pytest.raises(ValueError):
        flow.move(db, proposal, "teleport", actor=au)
    with pytest.raises(Forbidden):  # the commission's step is the landlord's
        flow.move(db, proposal, "commission_accept", actor=au)
    with pytest.raises(Conflict):  # not yet accepted by the household
        flow.move(db, proposal, "commission_refuse", actor=lu, reason="other")
    assert proposal.status == "pending"
    flow.move(db, proposal, "household_decline", actor=au, reason="too_small")
    with pytest.raises(Conflict):  # terminal
        flow.move(db, proposal, "cancel", actor=au)
    assert flow.apply(db, flow.PROPOSAL, [proposal.id], "cancel", actor=au) == []
    assert proposal.status == "household_declined"


def test_a_direct_proposal_is_rechecked_with_its_territorys_policy_when_she_moves_her_zones(db, parties):
    from services import safety

    unit, household, lu, au, coordinator = parties
    proposal = flow.open_proposal(db, unit=unit, household=household, origin="direct", actor=coordinator,
                                  deadline=TODAY + dt.timedelta(days=10))
    assert safety.recheck_open_proposals(db, household=household, actor=au) == []
    household.exclusion_zones = [{"lat": unit.lat, "lon": unit.lon, "radius_km": 5.0}]
    db.flush()
    assert safety.recheck_open_proposals(db, household=household, actor=au) == [proposal]
    assert proposal.status == "cancelled"
    assert (unit.status, household.status) == ("published", "active")
