"""Incremental events (matching.resolve): same optimum and proof as a full solve."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Changes, InstanceError, PairRef, apply_changes, check, resolve, solve
from matching.generate import generate


def _newcomers(n: int, seed: int, shape: str) -> tuple:
    """Households of another generated instance, with ids the first one does not use."""
    other = generate(max(n, 1), 5, seed + 1000, shape=shape)
    return tuple(dataclasses.replace(h, id=f"NEW-{i}") for i, h in
                 enumerate(other.households[:n]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), shape=st.sampled_from(["sparse", "dense"]),
       withdraw=st.integers(0, 3), lock=st.booleans(), add=st.integers(0, 4))
def test_resolve_gives_the_full_solve_objective(seed: int, shape: str, withdraw: int,
                                                 lock: bool, add: int) -> None:
    inst = generate(120, 40, seed, shape=shape)
    previous = solve(inst)
    rank1 = [p for p in previous.proposals if p.rank == 1]
    gone = tuple(p.unit for p in rank1[:withdraw])
    locked_u = {p.unit for p in inst.locked} | set(gone)
    locked_h = {p.household for p in inst.locked}
    locks: tuple[PairRef, ...] = ()
    if lock:
        # an alternate (a feasible pair) becomes a decision
        alt = [p for p in previous.proposals if p.rank > 1 and p.unit not in locked_u
               and p.household not in locked_h]
        locks = tuple(PairRef(unit=p.unit, household=p.household) for p in alt[:1])
    changes = Changes(withdrawn_units=gone, locked=locks,
                      added_households=_newcomers(add, seed, shape))
    new = apply_changes(inst, changes)
    result = resolve(previous, inst, changes)
    full = solve(new)
    assert result.stats["optimality"] == "proven"
    assert result.stats["objective"] == pytest.approx(full.stats["objective"], abs=0.005)
    assert result.stats["matched_by_urgency"] == full.stats["matched_by_urgency"]
    assert check(new, result) == []


def test_a_withdrawn_unit_is_gone_and_its_household_placed_again_if_possible() -> None:
    inst = generate(400, 120, 3, shape="dense")
    previous = solve(inst)
    first = next(p for p in previous.proposals if p.rank == 1)
    result = resolve(previous, inst, Changes(withdrawn_units=(first.unit,)))
    assert all(p.unit != first.unit for p in result.proposals)
    new = apply_changes(inst, Changes(withdrawn_units=(first.unit,)))
    assert check(new, result) == []
    assert result.stats["objective"] <= previous.stats["objective"]
    assert result.stats["objective"] == pytest.approx(solve(new).stats["objective"], abs=0.005)


def test_a_locked_pair_is_rank_one_and_an_added_household_is_considered() -> None:
    inst = generate(300, 90, 5)
    previous = solve(inst)
    alt = next(p for p in previous.proposals if p.rank == 2)
    newcomer = dataclasses.replace(inst.households[0], id="H-NEW", urgency=3)
    changes = Changes(locked=(PairRef(unit=alt.unit, household=alt.household),),
                      added_households=(newcomer,))
    result = resolve(previous, inst, changes)
    assert any(p.rank == 1 and p.unit == alt.unit and p.household == alt.household
               for p in result.proposals)
    assert result.stats["households"] == 301
    assert check(apply_changes(inst, changes), result) == []


@pytest.mark.parametrize(("changes", "field"), [
    (Changes(withdrawn_units=("U-nope",)), "changes.withdrawn_units[0]"),
    (Changes(locked=(PairRef(unit="U-01", household="H-nope"),)), "changes.locked[0].household"),
    (Changes(added_households=(None,)), "changes.added_households[0].id"),
])
def test_bad_changes_are_refused_naming_the_field(changes: Changes, field: str) -> None:
    inst = generate(30, 10, 1)
    if changes.added_households:
        changes = Changes(added_households=(inst.households[0],))
    with pytest.raises(InstanceError, match=re.escape(field)):
        apply_changes(inst, changes)
