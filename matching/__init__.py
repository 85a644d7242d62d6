"""Passerelle matching: safe, optimal, explained proposals of units to households.

A pure library (stdlib, numpy, OR-Tools): an :class:`Instance` in, a :class:`Result`
out. The contract is ``shared/contract/matching-instance.md``; design notes are in
``matching/README.md``.

>>> from matching import read_instance, solve, check
>>> result = solve(read_instance("instance.json"))      # doctest: +SKIP
>>> check(read_instance("instance.json"), result)       # doctest: +SKIP
[]
"""

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
from matching.solver import solve
from matching.validation import check

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
