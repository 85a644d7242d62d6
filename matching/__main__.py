"""Command line: ``python -m matching solve | pairs | check | generate``.

Bad input (unreadable file, malformed JSON, a record that breaks the contract) exits
with status 2 and a message naming the record and field on stderr; nothing is written.
Outputs go to a temporary file renamed on success.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from matching.domain import COMPONENTS, Instance, InstanceError
from matching.io import dumps, read_instance, read_result, result_to_dict
from matching.io import instance_to_dict as _instance_to_dict


def _emit(text_chunks: Iterator[str], output: str | None) -> None:
    """Write chunks to ``output`` atomically, or to stdout."""
    if output is None:
        for chunk in text_chunks:
            sys.stdout.write(chunk)
        sys.stdout.flush()
        return
    target = Path(output)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for chunk in text_chunks:
                f.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pairs(instance: Instance) -> Iterator[str]:
    """Every feasible pair with its score and components, one JSON object per line."""
    from matching.rules import Candidates, build_tables
    from matching.scoring import ScoreModel

    t = build_tables(instance)
    cand = Candidates(t)
    model = ScoreModel(instance, t)
    for block in cand.blocks(count=False):
        if len(block.u) == 0:
            continue
        comps = model.components(block.u, block.h)
        lists = {name: comps[name].tolist() for name in COMPONENTS}
        lines = []
        for i, (ui, hi) in enumerate(zip(block.u.tolist(), block.h.tolist(), strict=True)):
            cents = {name: lists[name][i] for name in COMPONENTS}
            lines.append(json.dumps({
                "unit": instance.units[ui].id, "household": instance.households[hi].id,
                "score": sum(cents.values()) / 100,
                "components": {k: v / 100 for k, v in cents.items()},
            }, ensure_ascii=False, separators=(",", ":")) + "\n")
        yield "".join(lines)


def _print_violations(violations: Sequence[object], out: TextIO) -> None:
    for v in violations:
        print(v, file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m matching",
                                     description="Passerelle matching solver.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_solve = sub.add_parser("solve", help="propose units to households")
    p_solve.add_argument("instance")
    p_solve.add_argument("-o", "--output", help="result file (default: stdout)")
    p_solve.add_argument("--time-limit", type=float, default=None,
                         help="seconds after which optimality is no longer pursued")
    p_pairs = sub.add_parser("pairs", help="every feasible pair with its score, JSON lines")
    p_pairs.add_argument("instance")
    p_pairs.add_argument("-o", "--output", help="output file (default: stdout)")
    p_check = sub.add_parser("check", help="re-validate a result; exit 1 on violations")
    p_check.add_argument("instance")
    p_check.add_argument("result")
    p_gen = sub.add_parser("generate", help="a realistic synthetic instance")
    p_gen.add_argument("--households", type=int, required=True)
    p_gen.add_argument("--units", type=int, required=True)
    p_gen.add_argument("--seed", type=int, default=0)
    p_gen.add_argument("--departments", default=None,
                       help="comma-separated department codes (default: Hauts-de-France "
                            "and Ile-de-France)")
    p_gen.add_argument("--shape", choices=("sparse", "dense"), default="sparse",
                       help="sparse: a wide region, searches of a few departments or "
                            "communes (default); dense: Ile-de-France shaped, about 10%% "
                            "of pairs feasible")
    p_gen.add_argument("-o", "--output", help="instance file (default: stdout)")
    args = parser.parse_args(argv)
    try:
        if args.command == "solve":
            from matching.solver import solve

            instance = read_instance(args.instance)
            result = solve(instance, time_limit_s=args.time_limit)
            _emit(iter([dumps(result_to_dict(result))]), args.output)
        elif args.command == "pairs":
            _emit(_pairs(read_instance(args.instance)), args.output)
        elif args.command == "check":
            from matching.validation import check

            instance = read_instance(args.instance)
            violations = check(instance, read_result(args.result))
            if violations:
                _print_violations(violations, sys.stdout)
                print(f"{len(violations)} violation(s)", file=sys.stderr)
                return 1
            print("ok: every rule and invariant holds")
        else:
            from matching.generate import DEFAULT_DEPARTMENTS, generate

            if args.households < 0 or args.units < 0:
                raise InstanceError("--households and --units must be >= 0")
            depts = (tuple(d.strip() for d in args.departments.split(",") if d.strip())
                     if args.departments else DEFAULT_DEPARTMENTS)
            try:
                instance = generate(args.households, args.units, args.seed, departments=depts,
                                    shape=args.shape)
            except ValueError as exc:
                raise InstanceError(str(exc)) from exc
            _emit(iter([dumps(_instance_to_dict(instance))]), args.output)
    except InstanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
