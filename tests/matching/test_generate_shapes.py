"""The generator's two territory shapes: sparse (unchanged default) and dense (Ile-de-France)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching import check, solve
from matching.generate import DENSE_DEPARTMENTS, generate
from matching.io import instance_to_dict


def test_dense_shape_is_ile_de_france_with_about_a_tenth_of_pairs_feasible() -> None:
    inst = generate(1_000, 300, 4, shape="dense")
    assert {u.department for u in inst.units} <= set(DENSE_DEPARTMENTS)
    areas = [h.search_area for h in inst.households]
    assert all(not a.communes and 1 <= len(a.departments) <= 4 for a in areas)
    result = solve(inst)
    share = result.stats["feasible_pairs"] / (1_000 * 300)
    assert 0.07 <= share <= 0.14
    assert result.stats["optimality"] == "proven"
    assert check(inst, result) == []


def test_sparse_shape_is_the_default_and_far_sparser() -> None:
    assert instance_to_dict(generate(200, 60, 3)) == instance_to_dict(
        generate(200, 60, 3, shape="sparse"))
    sparse = solve(generate(1_000, 300, 4)).stats["feasible_pairs"]
    dense = solve(generate(1_000, 300, 4, shape="dense")).stats["feasible_pairs"]
    assert dense > 3 * sparse


def test_unknown_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        generate(10, 5, 0, shape="round")


def test_cli_generates_the_dense_shape(tmp_path: Path) -> None:
    out = tmp_path / "dense.json"
    proc = subprocess.run([sys.executable, "-m", "matching", "generate", "--households", "40",
                           "--units", "15", "--seed", "2", "--shape", "dense", "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc == instance_to_dict(generate(40, 15, 2, shape="dense"))
