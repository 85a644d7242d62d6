"""Reading instances: every bad input is refused with the record and field named."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matching import InstanceError, instance_from_dict, instance_to_dict, read_instance
from matching.generate import generate
from tests.matching.util import household, instance, unit


def base() -> dict[str, Any]:
    return instance_to_dict(instance([unit("U-1"), unit("U-2")],
                                     [household("H-1"), household("H-2")]))


def mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(base())
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


BAD: list[tuple[tuple[Any, ...], Any, str]] = [
    (("format",), "passerelle.instance/2", r'instance: field "format": unknown format version'),
    (("format",), KeyError, r'field "format"'),
    (("as_of",), "22/11/2026", r'instance: field "as_of": must be a date'),
    (("as_of",), "2026-02-30", r'field "as_of": is not a valid date'),
    (("units", 1, "rent"), -1, r'units\[1\] \(id "U-2"\): field "rent": must be a number >= 0'),
    (("units", 0, "charges"), "50", r'units\[0\] \(id "U-1"\): field "charges"'),
    (("units", 0, "rooms"), 0, r'units\[0\] \(id "U-1"\): field "rooms": must be an integer >= 1'),
    (("units", 0, "rooms"), 2.5, r'field "rooms": must be an integer'),
    (("units", 0, "lat"), 91.0, r'units\[0\] \(id "U-1"\): field "lat"'),
    (("units", 0, "lon"), KeyError, r'field "lon": lat and lon go together'),
    (("units", 0, "commune"), "5935", r'field "commune": must be a 5-character INSEE code'),
    (("units", 0, "elevator"), 1, r'field "elevator": must be true or false'),
    (("units", 0, "available_from"), KeyError, r'field "available_from": is required'),
    (("units", 1, "id"), "U-1", r'units\[1\] \(id "U-1"\): field "id": duplicate id'),
    (("households", 1, "id"), "H-1", r'households\[1\] \(id "H-1"\): field "id": duplicate'),
    (("households", 1, "adults"), -1,
     r'households\[1\] \(id "H-2"\): field "adults": must be an integer >= 0'),
    (("households", 0, "children"), 0, None),
    (("households", 0, "monthly_income"), -5.0, r'field "monthly_income": must be a number >= 0'),
    (("households", 0, "housing_allowance"), float("nan"), r'field "housing_allowance"'),
    (("households", 0, "urgency"), 4, r'field "urgency": must be an integer in 0..3'),
    (("households", 0, "urgency"), -1, r'field "urgency"'),
    (("households", 0, "ready_from"), "soon", r'field "ready_from": must be a date'),
    (("households", 0, "exclusion_zones"), [{"lat": 50.0, "lon": 3.0, "radius_km": 0}],
     r'field "exclusion_zones\[0\].radius_km": must be a number > 0'),
    (("households", 0, "exclusion_zones"), [{"lat": 50.0, "lon": 3.0}],
     r'field "exclusion_zones\[0\].radius_km": is required'),
    (("households", 0, "exclusion_zones"), [{"lat": -95.0, "lon": 3.0, "radius_km": 1}],
     r'field "exclusion_zones\[0\].lat"'),
    (("households", 0, "exclusion_zones"), [{"department": "59", "commune": "59350"}],
     r'field "exclusion_zones\[0\]": must be exactly one'),
    (("households", 0, "search_area"), {"departments": ["5"]},
     r'field "search_area.departments\[0\]": must be a department code'),
    (("households", 0, "preferred_points"), [{"lat": 50.0}],
     r'field "preferred_points\[0\].lon": is required'),
    (("policy", "max_effort_rate"), 0, r'policy: field "max_effort_rate"'),
    (("policy", "candidates_per_unit"), 0, r'policy: field "candidates_per_unit"'),
    (("policy", "occupancy"), {"1": [1, 2]}, r'policy: field "occupancy.2"'),
    (("policy", "income_ceilings"), {"PLAI": [1, 2, 3]}, r'policy: field "income_ceilings.PLAI"'),
    (("policy", "qpv_lowest_quartile_share"), 1.5, r'policy: field "qpv_lowest_quartile_share"'),
    (("locked",), [{"unit": "U-9", "household": "H-1"}],
     r'locked\[0\]: field "unit": unknown unit id "U-9"'),
    (("forbidden",), [{"unit": "U-1", "household": "H-9"}],
     r'forbidden\[0\]: field "household": unknown household id "H-9"'),
    (("locked",), [{"unit": "U-1", "household": "H-1"}, {"unit": "U-1", "household": "H-2"}],
     r'locked\[1\].*unit already locked'),
    (("units",), {"U-1": {}}, r'instance: field "units": must be an array'),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD)
def test_bad_input_names_record_and_field(path: tuple[Any, ...], value: Any,
                                          message: str | None) -> None:
    doc = mutate(path, value)
    if message is None:  # adults 1 + children 0 is fine; make persons = 0
        doc["households"][0]["adults"] = 0
        message = r'households\[0\] \(id "H-1"\): field "adults": .*persons = 0'
    with pytest.raises(InstanceError, match=message):
        instance_from_dict(doc)


def test_round_trip() -> None:
    inst = generate(40, 15, 2)
    assert instance_from_dict(json.loads(json.dumps(instance_to_dict(inst)))) == inst


def test_absent_policy_keys_take_defaults() -> None:
    doc = base()
    doc["policy"] = {}
    inst = instance_from_dict(doc)
    assert inst.policy.max_effort_rate == 0.30
    assert inst.policy.candidates_per_unit == 3
    assert inst.policy.horizon_days == 90


def test_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": ')
    with pytest.raises(InstanceError, match="malformed JSON"):
        read_instance(path)
    path.write_text('{"x": NaN}')
    with pytest.raises(InstanceError, match="NaN"):
        read_instance(path)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "matching", *args], capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize(("path", "value", "message"), [BAD[0], BAD[4], BAD[33]])
def test_cli_bad_input_exit_2_and_nothing_written(tmp_path: Path, path: tuple[Any, ...],
                                                  value: Any, message: str | None) -> None:
    src = tmp_path / "instance.json"
    src.write_text(json.dumps(mutate(path, value), allow_nan=True))
    out = tmp_path / "result.json"
    proc = _cli("solve", str(src), "-o", str(out))
    assert proc.returncode == 2
    assert "error:" in proc.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]


def test_cli_round_trip(tmp_path: Path) -> None:
    inst, res = tmp_path / "i.json", tmp_path / "r.json"
    assert _cli("generate", "--households", "60", "--units", "20", "--seed", "3",
                "-o", str(inst)).returncode == 0
    assert _cli("solve", str(inst), "-o", str(res)).returncode == 0
    proc = _cli("check", str(inst), str(res))
    assert proc.returncode == 0, proc.stdout
    doc = json.loads(res.read_text())
    doc["proposals"][0]["score"] += 1000
    res.write_text(json.dumps(doc))
    proc = _cli("check", str(inst), str(res))
    assert proc.returncode == 1
    assert "components" in proc.stdout
    pairs = _cli("pairs", str(inst))
    assert pairs.returncode == 0
    lines = [json.loads(line) for line in pairs.stdout.splitlines()]
    assert all({"unit", "household", "score", "components"} <= set(x) for x in lines)
    assert len(lines) == json.loads((tmp_path / "r.json").read_text())["stats"]["feasible_pairs"]


def test_cli_missing_file(tmp_path: Path) -> None:
    proc = _cli("solve", str(tmp_path / "nope.json"), "-o", str(tmp_path / "out.json"))
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr
    assert not (tmp_path / "out.json").exists()
