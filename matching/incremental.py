"""Incremental events: re-optimise after a unit withdrawn, a pair locked, a household added.

``resolve(previous, instance, changes)`` applies ``changes`` to ``instance`` (the instance
``previous`` was solved from) and solves the new instance, warm-started with the previous
run's proposals (they join the first reduced set, see ``seed_pairs`` of
:func:`matching.solve`). The proof is the one of a full solve: every feasible pair of the
new instance is priced against the final duals, so ``stats["optimality"] == "proven"``
means the same thing, and :func:`matching.check` validates the result like any other.

What the warm start saves is the pricing rounds that a cold reduced set needs to bring
back the pairs of the optimum; the candidate pass (every feasible pair scored once) is
still run in full: it is what the proof rests on. See ``matching/README.md`` for the
measured cost against a full solve.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.domain import Household, Instance, InstanceError, PairRef, Result

__all__ = ["Changes", "apply_changes", "resolve"]


@dataclass(frozen=True, slots=True)
class Changes:
    """Events since the previous run.

    ``withdrawn_units``: ids of units no longer offered (their locks go too).
    ``locked``: pairs now decided (a candidacy accepted, a committee decision).
    ``added_households``: households that joined the search.
    """

    withdrawn_units: tuple[str, ...] = ()
    locked: tuple[PairRef, ...] = ()
    added_households: tuple[Household, ...] = ()


def apply_changes(instance: Instance, changes: Changes) -> Instance:
    """The instance after ``changes``.

    :raise InstanceError: naming the record and field, for an unknown unit or household,
        a household id already present, a unit or household locked twice, or a locked
        pair that is forbidden.
    """
    unit_ids = {u.id for u in instance.units}
    for i, uid in enumerate(changes.withdrawn_units):
        if uid not in unit_ids:
            raise InstanceError(f"changes.withdrawn_units[{i}]: unknown unit {uid!r}")
    gone = set(changes.withdrawn_units)
    hh_ids = {h.id for h in instance.households}
    added: list[Household] = []
    for i, hh in enumerate(changes.added_households):
        if hh.id in hh_ids:
            raise InstanceError(f"changes.added_households[{i}].id: household {hh.id!r} "
                                "already exists")
        hh_ids.add(hh.id)
        added.append(hh)
    locked = [p for p in instance.locked if p.unit not in gone]
    locked_u = {p.unit for p in locked}
    locked_h = {p.household for p in locked}
    forbidden = {(p.unit, p.household) for p in instance.forbidden}
    for i, p in enumerate(changes.locked):
        where = f"changes.locked[{i}]"
        if p.unit not in unit_ids or p.unit in gone:
            raise InstanceError(f"{where}.unit: unknown or withdrawn unit {p.unit!r}")
        if p.household not in hh_ids:
            raise InstanceError(f"{where}.household: unknown household {p.household!r}")
        if p.unit in locked_u:
            raise InstanceError(f"{where}.unit: unit {p.unit!r} is already locked")
        if p.household in locked_h:
            raise InstanceError(f"{where}.household: household {p.household!r} is already "
                                "locked")
        if (p.unit, p.household) in forbidden:
            raise InstanceError(f"{where}: the pair {p.unit!r}, {p.household!r} is forbidden")
        locked.append(p)
        locked_u.add(p.unit)
        locked_h.add(p.household)
    return Instance(
        as_of=instance.as_of, policy=instance.policy,
        units=tuple(u for u in instance.units if u.id not in gone),
        households=instance.households + tuple(added),
        locked=tuple(locked),
        forbidden=tuple(p for p in instance.forbidden if p.unit not in gone),
    )


def resolve(previous: Result, instance: Instance, changes: Changes, *,
            time_limit_s: float | None = None) -> Result:
    """Re-optimise after ``changes`` from the run ``previous`` of ``instance``.

    Returns the result for :func:`apply_changes` ``(instance, changes)``: safe, optimal
    at rank 1 with the same proof and urgency guarantee as :func:`matching.solve` (the
    same objective as a full solve of the new instance).
    """
    from matching.solver import solve

    new = apply_changes(instance, changes)
    seeds = [(p.unit, p.household) for p in previous.proposals]
    return solve(new, time_limit_s=time_limit_s, seed_pairs=seeds)
