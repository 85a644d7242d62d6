"""Passerelle matching: safe, optimal, explained proposals of units to households.

A pure library (stdlib, numpy, OR-Tools): an :class:`Instance` in, a :class:`Result`
out. The contract is ``shared/contract/matching-instance.md``; design notes are in
``matching/README.md``.

>>> from matching import read_instance, solve, check
>>> result = solve(read_instance("instance.json"))      # doctest: +SKIP
>>> check(read_instance("instance.json"), result)       # doctest: +SKIP
[]
"""

from typing import TYPE_CHECKING, Any

from matching.domain import (
    COMPONENTS,
    RULES,
    CommuneZone,
    DepartmentZone,
    Household,
    Instance,
    InstanceError,
    PairRef,
    PointZone,
    Policy,
    PreferredPoint,
    Proposal,
    Result,
    ScoreWeights,
    SearchArea,
    Unit,
    Unmatched,
    Violation,
)
from matching.incremental import Changes, apply_changes, resolve
from matching.io import (
    instance_from_dict,
    instance_to_dict,
    read_instance,
    read_result,
    result_from_dict,
    result_to_dict,
    write_json,
)
from matching.validation import check

if TYPE_CHECKING:
    from matching.solver import solve


def __getattr__(name: str) -> Any:
    # The solver pulls in OR-Tools and scipy (~2 s, 100 MB): imported at the first solve,
    # not by every web worker and CLI call that only reads the domain types.
    if name == "solve":
        from matching.solver import solve

        return solve
    raise AttributeError(f"module 'matching' has no attribute {name!r}")


__all__ = [
    "COMPONENTS",
    "Changes",
    "RULES",
    "CommuneZone",
    "DepartmentZone",
    "Household",
    "Instance",
    "InstanceError",
    "PairRef",
    "PointZone",
    "Policy",
    "PreferredPoint",
    "Proposal",
    "Result",
    "ScoreWeights",
    "SearchArea",
    "Unit",
    "Unmatched",
    "Violation",
    "apply_changes",
    "check",
    "instance_from_dict",
    "instance_to_dict",
    "read_instance",
    "read_result",
    "result_from_dict",
    "result_to_dict",
    "resolve",
    "solve",
    "write_json",
]
