"""Region-size run: 100,000 households and 20,000 units in PostgreSQL, one match through the real worker.

    .venv/bin/python benchmarks/region.py                                  # full size, then drop the database
    .venv/bin/python benchmarks/region.py --households 5000 --units 1000   # a quick check
    .venv/bin/python benchmarks/region.py --keep                           # keep the loaded database ...
    .venv/bin/python benchmarks/region.py --keep                           # ... and re-run only the match

It creates a fresh PostgreSQL database (`--admin-url`), applies the migrations, and loads
synthetic data (`matching.generate.generate`, real communes of 13 departments) through the
platform's import paths, spread over realistic organisations (three landlords and two
associations per department, of unequal sizes):

- units: the landlords' spreadsheet import (`services.units.import_units`, CSV files of at
  most `services.imports.MAX_ROWS` rows), then published one by one (`publish_unit`);
- households: `services.households.import_households` (the same validation as the form and
  the API, all rows or none), activated at once with their consent date.

Then a coordinator starts a match for every department (`services.runs.start_run`), the job
is queued on Redis (`REDIS_URL=redis://127.0.0.1:6379/<--redis-db>`) and run by a real
`passerelle worker` subprocess. It prints the time of each phase (load; then, from the run's
`stats.job_timings`: build instance, solve, validate, store), the phase changes seen, the
wall time from queueing to success, and the worker's peak memory (VmHWM). Targets: the run
under 3 minutes and the worker under 4 GiB.

`--keep` keeps the database (and its data key, in a file of the temporary folder, readable
by its owner only); the next `--keep` of the same size reuses it and runs only the match.
Everything it started is stopped at the end, and the Redis database it used is emptied.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
KEPT = Path(tempfile.gettempdir()) / "passerelle-region-kept.json"
# Organisations per department, and the share of its units (households) each one holds.
LANDLORD_SHARES = (0.55, 0.30, 0.15)
ASSOCIATION_SHARES = (0.65, 0.35)
HOUSEHOLD_BATCH = 5000  # rows per import_households call (one commit each)
TARGET_SECONDS = 180
TARGET_BYTES = 4 * 1024**3


def _say(text: str) -> None:
    print(text, flush=True)


def _spread(items: list[dict[str, Any]], key: Any, shares: tuple[float, ...], seed: int) -> dict[tuple[str, int], list]:
    """Items grouped by department (``key(item)``), then over that department's organisations by share."""
    import numpy as np

    # Not the generator's own stream (`default_rng(seed)`): its first draw chose the communes,
    # and the same uniforms would put each department's items with one organisation.
    rng = np.random.default_rng((seed, 0x5E1D))
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    picks = rng.choice(len(shares), size=len(items), p=shares)
    for item, pick in zip(items, picks, strict=True):
        groups[(key(item), int(pick))].append(item)
    return groups


def _household_department(raw: dict[str, Any]) -> str:
    from matching import geo

    area = raw.get("search_area") or {}
    if area.get("departments"):
        return str(area["departments"][0])
    if area.get("communes"):
        return str(geo.department_of(area["communes"][0]))
    return ""


def _enterable(row: dict[str, Any]) -> bool:
    """Make a generated household one an association could enter: a place she searches in
    cannot also be excluded (the platform refuses it). False when no search place is left."""
    from matching import geo

    zones = row.get("exclusion_zones") or []
    communes = {z["commune"] for z in zones if "commune" in z}
    departments = {z["department"] for z in zones if "department" in z}
    area = row.get("search_area") or {}
    kept = {"communes": [c for c in area.get("communes", [])
                         if c not in communes and geo.department_of(c) not in departments],
            "departments": [d for d in area.get("departments", []) if d not in departments]}
    if (area.get("communes") or area.get("departments")) and not (kept["communes"] or kept["departments"]):
        return False
    row["search_area"] = kept
    return True


def load(app: Any, households_n: int, units_n: int, seed: int) -> dict[str, float]:
    """Organisations, units and households through the import paths; seconds per part."""
    from benchmarks.seed import generated
    from benchmarks.seed import import_units as import_unit_files
    from matching import generate as gen
    from services import accounts, households

    times: dict[str, float] = {}
    t = time.perf_counter()
    instance = generated(households_n, units_n, seed, gen.DEFAULT_DEPARTMENTS)
    times["generate"] = time.perf_counter() - t
    departments = sorted({u["commune"][:3] if u["commune"].startswith("97") else u["commune"][:2]
                          for u in instance["units"]})
    default_department = departments[0]
    today = dt.date.today()
    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        t = time.perf_counter()
        by_landlord = _spread(instance["units"], lambda u: u["commune"][:2], LANDLORD_SHARES, seed)
        n = 0
        for (department, k), share in sorted(by_landlord.items()):
            landlord = accounts.create_organisation(
                session, kind="landlord", name=f"Bailleur {department}-{k + 1}", departments=[department],
                contact_email=f"attributions@bailleur-{department}-{k + 1}.bench")
            session.commit()
            n += import_unit_files(session, landlord, share, f"L{department}{k + 1}")
        times["units"] = time.perf_counter() - t
        _say(f"  units: {n} imported and published in {times['units']:.1f} s")

        t = time.perf_counter()
        by_association = _spread(instance["households"], lambda h: _household_department(h) or default_department,
                                 ASSOCIATION_SHARES, seed + 1)
        n = skipped = 0
        for (department, k), share in sorted(by_association.items()):
            association = accounts.create_organisation(
                session, kind="association", name=f"Association {department}-{k + 1}", departments=[department],
                contact_email=f"accueil@association-{department}-{k + 1}.bench")
            session.commit()
            rows = []
            for i, raw in enumerate(share, 1):
                row = {key: value for key, value in raw.items() if key not in ("id", "association")}
                if not _enterable(row):
                    skipped += 1
                    continue
                row["reference"] = f"A{department}{k + 1}-{i:06d}"
                consent = min(today, dt.date.fromisoformat(raw["requested_on"]) + dt.timedelta(days=3))
                row["consent_recorded_on"] = consent.isoformat()
                rows.append(row)
            for start in range(0, len(rows), HOUSEHOLD_BATCH):
                n += households.import_households(session, association, rows[start:start + HOUSEHOLD_BATCH],
                                                  actor=None, activate=True)
                session.commit()
        times["households"] = time.perf_counter() - t
        _say(f"  households: {n} imported and activated in {times['households']:.1f} s ({skipped} generated "
             "ones left out: every place searched was also excluded)")

        coordination = accounts.create_organisation(session, kind="coordinator", name="Coordination régionale",
                                                    departments=departments)
        accounts.create_user(session, email="coordination@region.bench", role="coordinator",
                             password=secrets.token_urlsafe(24), organisation=coordination)
        session.commit()
        session.close()
    return times


def peak_memory(pid: int) -> int:
    """VmHWM (peak resident memory) of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def match(app: Any, worker: subprocess.Popen[Any], timeout_s: float) -> dict[str, Any]:
    """Start a run for every department of the coordination, queue it, follow it to the end."""
    import sqlalchemy as sa

    from models import MatchRun, User
    from services import runs
    from web.jobs import get_jobs

    with app.app_context():
        sessionmaker = app.extensions["db"].sessionmaker
        with sessionmaker() as session:
            user = session.scalar(sa.select(User).where(User.email == "coordination@region.bench"))
            assert user is not None and user.organisation is not None
            run, _ = runs.start_run(session, actor=user, departments=user.organisation.departments)
            session.commit()
            run_id, attempt, public_id = run.id, run.attempt, run.public_id
        queued = time.perf_counter()
        get_jobs(app).enqueue("run_match", run_id, attempt)
        phases: list[tuple[float, str]] = []
        while True:
            with sessionmaker() as session:
                run = session.get(MatchRun, run_id)
                assert run is not None
                status, phase, stats, error = run.status, run.phase, run.stats, run.error
                claimed, finished = run.started_at, run.finished_at
            now = time.perf_counter() - queued
            if not phases or phases[-1][1] != phase:
                phases.append((now, phase))
                _say(f"  {now:7.1f} s  {phase}")
            if status not in ("queued", "running"):
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker stopped (exit {worker.returncode})")
            if now > timeout_s:
                raise SystemExit(f"the run is still {status} after {timeout_s:.0f} s")
            time.sleep(0.2)
        wall = time.perf_counter() - queued
    if status != "succeeded":
        raise SystemExit(f"the run ended {status}: {error}")
    assert claimed is not None and finished is not None
    return {"run": public_id, "wall_s": wall, "run_s": (finished - claimed).total_seconds(), "phases": phases,
            "stats": stats or {}, "peak_bytes": peak_memory(worker.pid)}


def report(households_n: int, units_n: int, load_times: dict[str, float] | None, result: dict[str, Any]) -> bool:
    stats = result["stats"]
    job = stats.get("job_timings", {})
    solver = stats.get("timings", {})
    _say(f"\nregion run {result['run']}: {stats.get('households')} households x {stats.get('units')} units "
         f"(loaded {households_n} x {units_n}), {stats.get('matched')} matched, {stats.get('proposals')} proposals")
    if load_times:
        _say("load (through the import paths):")
        for name, seconds in load_times.items():
            _say(f"  {name:<22}{seconds:>8.1f} s")
    _say("match run (stats.job_timings; the solver's own phases under solve):")
    for name in ("build_s", "solve_s", "check_s", "store_s"):
        label = {"build_s": "build instance", "solve_s": "solve", "check_s": "validate", "store_s": "store"}[name]
        _say(f"  {label:<22}{job.get(name, float('nan')):>8.1f} s")
        if name == "solve_s":
            for phase, seconds in solver.items():
                if phase != "total":
                    _say(f"    {phase:<20}{seconds:>8.1f} s")
    _say(f"  {'claimed to succeeded':<22}{result['run_s']:>8.1f} s  (the run itself)")
    _say(f"  {'queued to succeeded':<22}{result['wall_s']:>8.1f} s  (seen by the benchmark)")
    _say(f"worker peak memory (VmHWM): {result['peak_bytes'] / 1024**3:.2f} GiB")
    checks = [(f"run under {TARGET_SECONDS // 60} minutes", result["run_s"] < TARGET_SECONDS),
              (f"worker under {TARGET_BYTES // 1024**3} GiB", result["peak_bytes"] < TARGET_BYTES)]
    for label, ok in checks:
        _say(f"  {'PASS' if ok else 'FAIL'}  {label}")
    return all(ok for _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true",
                        help="keep the loaded database; reuse a kept one of the same size (only the match runs)")
    parser.add_argument("--redis-db", type=int, default=13, help="a spare database of the local Redis (default 13)")
    parser.add_argument("--timeout", type=float, default=1800, help="give up on the run after this many seconds")
    parser.add_argument("--admin-url", default=os.environ.get(
        "PASSERELLE_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()

    import redis
    import sqlalchemy as sa
    from cryptography.fernet import Fernet

    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    queue = redis.Redis.from_url(redis_url)
    if queue.dbsize():
        raise SystemExit(f"Redis database {args.redis_db} is not empty: choose a spare one with --redis-db")

    admin = sa.create_engine(sa.make_url(args.admin_url), isolation_level="AUTOCOMMIT")
    kept = json.loads(KEPT.read_text()) if args.keep and KEPT.exists() else None
    if kept and (kept["households"], kept["units"], kept["seed"]) != (args.households, args.units, args.seed):
        _say(f"the kept database {kept['name']} has another size: loading a new one")
        kept = None
    if kept:
        with admin.connect() as conn:
            if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": kept["name"]}):
                kept = None
    name = kept["name"] if kept else f"passerelle_region_{secrets.token_hex(4)}"
    data_key = kept["data_key"] if kept else Fernet.generate_key().decode()
    url = sa.make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    work = Path(tempfile.mkdtemp(prefix="passerelle-region-"))
    env = {"PASSERELLE_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48),
           "PASSERELLE_DATA_KEY": data_key, "PASSERELLE_PUBLIC_URL": "https://passerelle.invalid",
           "PASSERELLE_AUDIT_KEY": secrets.token_hex(32), "REDIS_URL": redis_url, "PASSERELLE_INSTANCE_PATH": str(work),
           "PASSERELLE_LOG_LEVEL": "WARNING"}
    worker: subprocess.Popen[Any] | None = None
    ok, loaded = False, bool(kept)
    try:
        load_times = None
        if kept:
            _say(f"reusing the kept database {name} ({args.households} households x {args.units} units)")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            _say(f"database {name}, Redis database {args.redis_db}")
            subprocess.run([str(BIN / "passerelle"), "db", "upgrade"], env={**os.environ, **env}, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = (work / "worker.log").open("wb")
        worker = subprocess.Popen([str(BIN / "passerelle"), "worker", "--workers", "1"],
                                  env={**os.environ, **env}, stdout=log, stderr=log)
        _say(f"worker {worker.pid} started (log: {work / 'worker.log'})")
        os.environ.update(env)
        from web import create_app

        app = create_app()
        if not kept:
            _say(f"loading {args.households} households and {args.units} units ...")
            load_times = load(app, args.households, args.units, args.seed)
            loaded = True
            if args.keep:
                KEPT.write_text(json.dumps({"name": name, "data_key": data_key, "households": args.households,
                                            "units": args.units, "seed": args.seed}))
                KEPT.chmod(0o600)
        _say("match run for every department:")
        result = match(app, worker, args.timeout)
        app.extensions["db"].dispose()
        ok = report(args.households, args.units, load_times, result)
    finally:
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(60)
            except subprocess.TimeoutExpired:
                worker.kill()
        queue.flushdb()
        if args.keep and loaded:
            _say(f"kept database {name} (run again with --keep to re-run only the match)")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
