"""Builders of tiny instances for the solver tests (no database, no Flask)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from matching import Household, Instance, PairRef, Policy, Unit

AS_OF = date(2026, 11, 22)


def unit(uid: str = "U-1", **overrides: Any) -> Unit:
    """A unit that suits the default household (T2 in Lille, cheap, available)."""
    base = Unit(
        id=uid, landlord="L-01", commune="59350", lat=50.6292, lon=3.0573, rooms=2,
        floor=0, elevator=False, wheelchair_accessible=False, rent=300.0, charges=50.0,
        in_qpv=False, available_from=date(2026, 12, 1), surface_m2=45.0, financing="PLUS",
    )
    return replace(base, **overrides)


def household(hid: str = "H-1", **overrides: Any) -> Household:
    """A mother with one child, income 1500, urgency 2, ready now, no constraint."""
    base = Household(
        id=hid, association="A-01", adults=1, children=1, monthly_income=1500.0,
        housing_allowance=100.0, needs_wheelchair_access=False, needs_no_stairs=False,
        urgency=2, requested_on=date(2026, 5, 1), ready_from=date(2026, 11, 1),
    )
    return replace(base, **overrides)


def instance(units: list[Unit] | None = None, households: list[Household] | None = None,
             *, locked: list[tuple[str, str]] = (), forbidden: list[tuple[str, str]] = (),
             **policy: Any) -> Instance:
    """An instance of the given units and households (one of each by default)."""
    return Instance(
        as_of=AS_OF, policy=Policy(**policy),
        units=tuple(units if units is not None else [unit()]),
        households=tuple(households if households is not None else [household()]),
        locked=tuple(PairRef(u, h) for u, h in locked),
        forbidden=tuple(PairRef(u, h) for u, h in forbidden),
    )


def feasible(inst: Instance, rule: str | None = None) -> bool:
    """Whether unit 0 and household 0 form a feasible pair, asserting that the vectorised
    rules, the bucketed candidate generation and the scalar checker all agree.

    With ``rule``, only that rule is evaluated (vectorised vs scalar).
    """
    import numpy as np

    from matching.rules import RULE_FUNCTIONS, Candidates, build_tables
    from matching.validation import pair_failures

    t = build_tables(inst)
    zero = np.zeros(1, dtype=np.int64)
    scalar = pair_failures(inst, inst.units[0], inst.households[0])
    if rule is not None:
        vect = bool(RULE_FUNCTIONS[rule](t, zero, zero)[0])
        assert vect == (rule not in scalar), (rule, vect, scalar)
        return vect
    vect_all = all(bool(f(t, zero, zero)[0]) for f in RULE_FUNCTIONS.values())
    cand = Candidates(t)
    pairs = {(int(u), int(h)) for b in cand.blocks() for u, h in zip(b.u, b.h, strict=True)}
    generated = (0, 0) in pairs
    assert vect_all == (not scalar) == generated, (vect_all, scalar, generated)
    return generated
