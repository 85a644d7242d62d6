"""Benchmark of the matching solver against a dense scipy baseline.

For each size it generates an instance (not timed), then runs in separate processes
(so that peak memory is per run):

- the solver end to end: read the JSON instance, solve, write the result JSON;
- a straightforward baseline where it fits in memory: dense numpy feasibility over all
  households x units (the same vectorised rule functions), the same scores, then
  ``scipy.optimize.linear_sum_assignment``.

It prints feasible pairs, time per phase, total wall time, peak memory, and both
objectives with the time ratio. Usage::

    python benchmarks/solver.py --sizes small,medium,large
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZES = {"small": (1_000, 300), "medium": (10_000, 3_000), "large": (100_000, 20_000)}
#: The baseline needs a few dense float64 matrices of households x units.
BASELINE_MAX_BYTES = 8 * 1024**3


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process (wall time suffers when the machine is shared)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_solve(instance_path: str, result_path: str) -> dict[str, Any]:
    """End to end: read, solve, write; timings and peak memory."""
    from matching import read_instance, result_to_dict, solve
    from matching.io import write_json

    t0 = time.perf_counter()
    instance = read_instance(instance_path)
    t1 = time.perf_counter()
    c1 = _cpu_s()
    result = solve(instance)
    t2 = time.perf_counter()
    solve_cpu = _cpu_s() - c1
    write_json(result_path, result_to_dict(result))
    t3 = time.perf_counter()
    stats = dict(result.stats)
    return {
        "read_s": t1 - t0, "solve_s": t2 - t1, "write_s": t3 - t2, "total_s": t3 - t0,
        "cpu_s": _cpu_s(), "solve_cpu_s": solve_cpu, "peak_mb": _peak_mb(), "stats": stats,
    }


def child_baseline(instance_path: str) -> dict[str, Any]:
    """Dense feasibility + scipy.optimize.linear_sum_assignment, same scores."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from matching import read_instance
    from matching.rules import RULE_FUNCTIONS, build_tables
    from matching.scoring import ScoreModel

    r0 = time.perf_counter()
    c0 = _cpu_s()
    instance = read_instance(instance_path)
    t0 = time.perf_counter()
    t = build_tables(instance)
    model = ScoreModel(instance, t)
    uid = {u.id: i for i, u in enumerate(instance.units)}
    hid = {h.id: i for i, h in enumerate(instance.households)}
    locked = [(uid[p.unit], hid[p.household]) for p in instance.locked]
    weights = np.zeros((t.n_h, t.n_u), dtype=np.float64)
    units = np.arange(t.n_u, dtype=np.int64)
    rows = max(1, 2_000_000 // max(1, t.n_u))
    feasible = 0
    for start in range(0, t.n_h, rows):
        hs = np.arange(start, min(t.n_h, start + rows), dtype=np.int64)
        h = np.repeat(hs, t.n_u)
        u = np.tile(units, len(hs))
        ok = np.ones(len(h), dtype=np.bool_)
        for rule in RULE_FUNCTIONS.values():
            ok &= rule(t, u, h)
        feasible += int(ok.sum())
        w = np.zeros(len(h), dtype=np.float64)
        w[ok] = model.h_part[h[ok]] + model.pair_part(u[ok], h[ok])
        weights[start:start + len(hs)] = w.reshape(len(hs), t.n_u)
    t1 = time.perf_counter()
    objective = 0.0
    matched_urgency: list[int] = []
    for lu, lh in locked:
        objective += float(weights[lh, lu])
        matched_urgency.append(int(t.h_urgency[lh]))
        weights[lh, :] = 0.0
        weights[:, lu] = 0.0
    r, c = linear_sum_assignment(weights, maximize=True)
    t2 = time.perf_counter()
    pos = weights[r, c] > 0
    objective += float(weights[r, c][pos].sum())
    matched_urgency += t.h_urgency[r[pos]].tolist()
    return {
        "read_s": t0 - r0, "feasibility_s": t1 - t0, "assignment_s": t2 - t1, "total_s": t2 - t0,
        "cpu_s": _cpu_s() - c0, "peak_mb": _peak_mb(), "feasible_pairs": feasible, "objective": objective / 100,
        "matched": len(matched_urgency),
        "matched_by_urgency": {str(k): matched_urgency.count(k) for k in (3, 2, 1, 0)},
    }


def _run_child(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _instance(size: str, seed: int, workdir: Path, shape: str = "sparse") -> Path:
    households, units = SIZES[size]
    path = workdir / f"instance-{shape}-{size}-{seed}.json"
    if not path.exists():
        from matching.generate import generate
        from matching.io import instance_to_dict, write_json

        t0 = time.perf_counter()
        write_json(path, instance_to_dict(generate(households, units, seed, shape=shape)))
        print(f"[{shape} {size}] generated {households} households x {units} units in "
              f"{time.perf_counter() - t0:.1f} s -> {path}", flush=True)
    return path


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium",
                        help="comma-separated among small, medium, large")
    parser.add_argument("--shapes", default="sparse,dense",
                        help="comma-separated among sparse, dense (matching.generate)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=None, help="where instances are kept")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        out = child_solve(*rest) if kind == "solve" else child_baseline(*rest)
        print(json.dumps(out))
        return 0
    workdir = Path(args.workdir or os.path.join(tempfile.gettempdir(), "passerelle-bench"))
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for shape in shapes:
        if shape not in ("sparse", "dense"):
            parser.error(f"unknown shape {shape!r}")
    for size in sizes:
        if size not in SIZES:
            parser.error(f"unknown size {size!r}")
    summary: list[str] = []
    for size, shape in [(z, sh) for z in sizes for sh in shapes]:
        households, units = SIZES[size]
        path = _instance(size, args.seed, workdir, shape)
        res = _run_child("solve", str(path), str(workdir / f"result-{shape}-{size}.json"))
        st = res["stats"]
        print(f"\n== {shape} {size}: {households:,} households x {units:,} units ==")
        print(f"feasible pairs      {st['feasible_pairs']:,}")
        print(f"reduced set         {st['candidate_pairs']:,} pairs, "
              f"{st['pricing_rounds']} flow/pricing rounds, added {st['pricing_added']}")
        phases = ", ".join(f"{k} {v:.2f}" for k, v in st["timings"].items())
        print(f"solver phases (s)   {phases}")
        print(f"end to end (s)      read {res['read_s']:.2f} + solve {res['solve_s']:.2f} + "
              f"write {res['write_s']:.2f} = {res['total_s']:.2f} (process CPU "
              f"{res['cpu_s']:.2f}, load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores)")
        print(f"peak memory         {res['peak_mb']:,.0f} MiB")
        print(f"optimality          {st['optimality']} (objective {st['objective']:,.2f}, "
              f"dual bound {st['upper_bound']:,.2f})")
        print(f"matched             {st['matched']:,} by urgency {st['matched_by_urgency']}")
        if "qpv" in st:
            q = st["qpv"]
            print(f"QPV share           {q['share']:.3f} (target {q['target']})")
        line = (f"| {shape} | {households:,} x {units:,} | {st['feasible_pairs']:,} | "
                f"{res['total_s']:.1f} s wall, {res['cpu_s']:.1f} s CPU, "
                f"{res['peak_mb']:,.0f} MiB, {st['optimality']} |")
        need = households * units * 8 * 2
        if args.no_baseline or need > BASELINE_MAX_BYTES:
            if not args.no_baseline:
                print(f"baseline            skipped: dense matrices need ~{need / 1024**3:.0f} "
                      "GiB")
            summary.append(line + " skipped | |")
            continue
        base = _run_child("baseline", str(path))
        solver_time = st["timings"]["total"]
        base_total = base["read_s"] + base["total_s"]
        print(f"baseline (s)        read {base['read_s']:.2f} + feasibility "
              f"{base['feasibility_s']:.2f} + assignment "
              f"{base['assignment_s']:.2f} = {base_total:.2f} (process CPU "
              f"{base['cpu_s']:.2f}), peak "
              f"{base['peak_mb']:,.0f} MiB")
        print(f"baseline objective  {base['objective']:,.2f}, matched by urgency "
              f"{base['matched_by_urgency']}")
        same = base["matched_by_urgency"]["3"] == st["matched_by_urgency"]["3"]
        print(f"solver vs baseline  objective diff {st['objective'] - base['objective']:+.2f}, "
              f"urgency-3 matched equal: {same}, speed-up x{base['total_s'] / solver_time:.1f} "
              f"wall (solve {solver_time:.2f} s vs {base['total_s']:.2f} s), end to end "
              f"x{base_total / res['total_s']:.1f} ({res['total_s']:.2f} s vs "
              f"{base_total:.2f} s), "
              f"x{base['cpu_s'] / max(res['cpu_s'], 1e-9):.1f} CPU end to end "
              f"({res['cpu_s']:.2f} s vs {base['cpu_s']:.2f} s)")
        summary.append(line + f" {base_total:.1f} s wall, {base['cpu_s']:.1f} s CPU, "
                       f"{base['peak_mb']:,.0f} MiB | x{base_total / res['total_s']:.1f} |")
    print("\n| shape | households x units | feasible pairs | solver end to end | "
          "baseline end to end | speed-up |")
    print("|---|---|---:|---|---|---:|")
    for line in summary:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
