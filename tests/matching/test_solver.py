"""The solver on generated instances: checker-clean, deterministic, proven optimal."""

from __future__ import annotations

import json

import pytest

from matching import check, result_to_dict, solve
from matching.generate import generate
from matching.io import instance_from_dict, instance_to_dict


def _strip(doc: dict) -> str:
    doc = dict(doc)
    doc["stats"] = {k: v for k, v in doc["stats"].items() if k != "timings"}
    return json.dumps(doc, sort_keys=True)


@pytest.mark.parametrize(("households", "units", "seed"),
                         [(60, 20, 0), (200, 60, 1), (30, 40, 2), (400, 120, 3), (5, 0, 4),
                          (0, 5, 5)])
def test_generated_instances_pass_the_checker(households: int, units: int, seed: int) -> None:
    inst = generate(households, units, seed)
    result = solve(inst)
    assert check(inst, result) == []
    assert result.stats["optimality"] == "proven"
    if result.stats["upper_bound"] is not None:
        assert result.stats["upper_bound"] == pytest.approx(result.stats["objective"])


def test_same_input_same_output() -> None:
    inst = generate(150, 50, 7)
    a = result_to_dict(solve(inst))
    b = result_to_dict(solve(instance_from_dict(instance_to_dict(inst))))
    assert _strip(a) == _strip(b)


def test_generator_is_deterministic() -> None:
    assert instance_to_dict(generate(50, 20, 3)) == instance_to_dict(generate(50, 20, 3))
    assert instance_to_dict(generate(50, 20, 3)) != instance_to_dict(generate(50, 20, 4))


def test_progress_is_reported() -> None:
    seen: list[tuple[str, float]] = []
    solve(generate(40, 15, 1), progress=lambda phase, f: seen.append((phase, f)))
    phases = [p for p, _ in seen]
    assert "candidates" in phases and "flow" in phases and "explain" in phases
    assert all(0.0 <= f <= 1.0 for _, f in seen)


def test_chunked_threaded_passes_give_the_single_threaded_result(monkeypatch) -> None:
    """Many small chunks on two threads, with the reduced set and pricing rounds forced:
    the same result as one thread, checker-clean and proven optimal."""
    import matching.solver as solver

    inst = generate(1500, 400, 11)
    monkeypatch.setattr(solver, "POOL_ALL_GENERATED", 0)
    monkeypatch.setattr(solver, "POOL_ALL_LIMIT", 0)
    monkeypatch.setattr(solver, "TOP_PER_HOUSEHOLD", 2)
    monkeypatch.setattr(solver, "CHUNK_PAIRS", 3_000)
    results = []
    for threads in (1, 2):
        monkeypatch.setattr(solver, "THREADS", threads)
        results.append(solve(inst))
    one, two = results
    assert _strip(result_to_dict(one)) == _strip(result_to_dict(two))
    assert one.stats["pricing_rounds"] > 1  # the pricing rounds did run
    assert check(inst, two) == []
    assert two.stats["optimality"] == "proven"
    assert two.stats["upper_bound"] == pytest.approx(two.stats["objective"])
