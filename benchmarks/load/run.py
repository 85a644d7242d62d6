"""Load test: gunicorn (4 workers) + PostgreSQL + Redis + `passerelle worker`, all on 127.0.0.1.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/load/run.py --duration 300          # the full test (5 minutes)
    .venv/bin/python benchmarks/load/run.py --duration 30           # a quick check

It creates a scratch PostgreSQL database, starts its own Redis, seeds units (spreadsheet
import) and households (the service), one account and API token per simulated person,
runs and releases a first match so that there are proposals to decide, then lets
50 people browse and decide (locust, headless) while, in the middle, a coordinator runs
a new match. It prints requests per second, p50/p95/p99 latency and errors, overall,
without the run and during it, and checks the targets:
no errors, p95 < 300 ms, p95 during the run <= 2 x p95 without it.
Traffic goes to 127.0.0.1 only, and everything it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DEPARTMENTS = ["59", "62", "80"]
PASSWORD = "load-test password 2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[Any], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} stopped (exit {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"nothing listens on {port}")


class Api:
    """A coordinator's API client (bearer token) for the harness itself."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            headers = {"Authorization": f"Bearer {self.token}", "X-Forwarded-Proto": "https",
                       "Content-Type": "application/json"}
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else None
        finally:
            conn.close()

    def run_match(self, departments: list[str], release: bool) -> tuple[str, float, float, dict[str, Any]]:
        """Start a run, wait for it (and release it); returns (id, start, end, stats)."""
        started = time.time()
        status, run = self.call("POST", "/api/v1/match-runs", {"departments": departments})
        if status != 202:
            raise SystemExit(f"starting a run: {status} {run}")
        while run["status"] in ("queued", "running"):
            time.sleep(0.5)
            _, run = self.call("GET", f"/api/v1/match-runs/{run['id']}")
        finished = time.time()
        if run["status"] != "succeeded":
            raise SystemExit(f"the run ended {run['status']}: {run.get('error')}")
        if release:
            status, body = self.call("POST", f"/api/v1/match-runs/{run['id']}/release")
            if status != 200:
                raise SystemExit(f"release: {status} {body}")
        return run["id"], started, finished, run.get("stats") or {}


def seed(url: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    """Units, households, people; returns the accounts file's content."""
    import pyotp

    os.environ.update(env)
    from benchmarks import seed as seeding
    from services import accounts
    from web import create_app

    app = create_app()
    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        out = seeding.seed(session, households_n=args.households, units_n=args.units, departments=DEPARTMENTS,
                           progress=lambda text: print("  seed:", text, flush=True))
        print(f"  seeded {out.units} units and {out.households} households in {out.seconds:.0f} s", flush=True)
        coordination = accounts.create_organisation(session, kind="coordinator", name="Coordination bench",
                                                    departments=DEPARTMENTS)
        people: dict[str, list[dict[str, Any]]] = {"landlord": [], "association": [], "coordinator": []}
        wanted = {"landlord": args.users * 2 // 5, "association": args.users * 2 // 5}
        wanted["coordinator"] = max(1, args.users - sum(wanted.values())) + 1  # one more for the harness
        address = 2
        for role, count in wanted.items():
            orgs = {"landlord": out.landlords, "association": out.associations,
                    "coordinator": [coordination]}[role]
            for n in range(count):
                totp = pyotp.random_base32() if role == "coordinator" else None
                user = seeding.create_account(session, email=f"{role}{n + 1}@load.bench", role=role,
                                              organisation=orgs[n % len(orgs)], password=PASSWORD,
                                              totp_secret=totp)
                people[role].append({"email": user.email, "password": PASSWORD, "totp": totp,
                                     "token": accounts.create_token(session, user),
                                     "source": f"127.0.0.{address}"})
                address += 1
        session.commit()
        session.close()
    app.extensions["db"].dispose()
    return people


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def figures(rows: list[tuple[float, str, float, bool]], seconds: float) -> dict[str, Any]:
    times = [r[2] for r in rows]
    return {"requests": len(rows), "rps": len(rows) / seconds if seconds > 0 else float("nan"),
            "p50": percentile(times, 50), "p95": percentile(times, 95), "p99": percentile(times, 99),
            "errors": sum(1 for r in rows if not r[3])}


def report(records: Path, window: tuple[float, float], began: float, ended: float) -> bool:
    rows = []
    with records.open() as f:
        for t, name, ms, ok in csv.reader(f):
            rows.append((float(t), name, float(ms), ok == "1"))
    # Logins (argon2 by design) are a one-off of each session: not part of browsing.
    browsing = [r for r in rows if "/connexion" not in r[1]]
    during = [r for r in browsing if window[0] <= r[0] <= window[1]]
    outside = [r for r in browsing if not window[0] <= r[0] <= window[1]]
    total = figures(rows, ended - began)
    lines = [
        ("all requests", total),
        ("browsing and deciding", figures(browsing, ended - began)),
        ("  without a match run", figures(outside, (ended - began) - (window[1] - window[0]))),
        ("  during the match run", figures(during, window[1] - window[0])),
    ]
    print(f"\n{'':28}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for label, f in lines:
        print(f"{label:28}{f['requests']:>9}{f['rps']:>8.1f}{f['p50']:>9.0f}{f['p95']:>9.0f}{f['p99']:>9.0f}"
              f"{f['errors']:>8}")
    by_name: dict[str, list[float]] = {}
    for r in browsing:
        by_name.setdefault(r[1], []).append(r[2])
    print("\nslowest endpoints (p95):")
    for name, values in sorted(by_name.items(), key=lambda kv: -percentile(kv[1], 95))[:8]:
        print(f"  {percentile(values, 95):>6.0f} ms  p50 {percentile(values, 50):>5.0f}  n={len(values):<6} {name}")
    p95_without, p95_during = lines[2][1]["p95"], lines[3][1]["p95"]
    checks = [
        ("no errors", total["errors"] == 0),
        ("p95 under 300 ms", lines[1][1]["p95"] < 300),
        ("p95 during the run <= 2 x p95 without it", p95_during <= 2 * p95_without),
    ]
    print()
    for label, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    return all(ok for _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=300, help="seconds of load (default 300)")
    parser.add_argument("--users", type=int, default=50, help="simultaneous people (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="people started per second")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--units", type=int, default=600)
    parser.add_argument("--households", type=int, default=2400)
    parser.add_argument("--run-at", type=float, default=0.4, help="when the match run starts (fraction)")
    parser.add_argument("--admin-url", default=os.environ.get(
        "PASSERELLE_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true",
                        help="keep the database (its name is printed) and its settings (FILES/env.json)")
    args = parser.parse_args()

    import sqlalchemy as sa
    from cryptography.fernet import Fernet

    work = Path(tempfile.mkdtemp(prefix="passerelle-load-"))
    admin_url = sa.make_url(args.admin_url)
    name = f"passerelle_load_{secrets.token_hex(4)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    processes: list[subprocess.Popen[Any]] = []
    try:
        redis_port = free_port()
        processes.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(redis_port, processes[-1])
        env = {"PASSERELLE_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secrets.token_urlsafe(48),
               "PASSERELLE_DATA_KEY": Fernet.generate_key().decode(),
               "PASSERELLE_PUBLIC_URL": "https://passerelle.invalid", "PASSERELLE_AUDIT_KEY": secrets.token_hex(32),
               "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "PASSERELLE_INSTANCE_PATH": str(work),
               "PASSERELLE_LOG_LEVEL": "WARNING",
               # As behind one TLS proxy: its X-Forwarded-Proto (sent by the clients here) is
               # believed; with 0 proxies the app drops it and redirects every page to HTTPS.
               "PASSERELLE_PROXIES": "1"}
        full_env = {**os.environ, **env}
        if args.keep:  # what it takes to open the kept database again (e.g. to profile a page)
            (work / "env.json").write_text(json.dumps(env))
        print(f"database {name}, Redis on {redis_port}, files in {work}", flush=True)
        subprocess.run([str(BIN / "passerelle"), "db", "upgrade"], env=full_env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        people = seed(url, env, args)

        port = free_port()
        log = (work / "gunicorn.log").open("wb")
        processes.append(subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT),
             "--no-control-socket", "--timeout", "120", "web:create_app()"],
            env=full_env, stdout=log, stderr=log))
        processes.append(subprocess.Popen([str(BIN / "passerelle"), "worker"], env=full_env, stdout=log,
                                          stderr=log))
        wait_port(port, processes[1])
        harness = people["coordinator"].pop()
        api = Api(port, harness["token"])
        while True:  # the workers boot
            try:
                if api.call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        # Released proposals in one department to decide on; the run under load takes the others.
        run_id, start, end, stats = api.run_match(DEPARTMENTS[:1], release=True)
        print(f"first run {run_id}: {stats.get('proposals')} proposals in {end - start:.1f} s, released",
              flush=True)

        accounts_file, records = work / "accounts.json", work / "requests.csv"
        accounts_file.write_text(json.dumps({**people, "runs": [{"id": run_id}]}))
        records.write_text("")
        locust = subprocess.Popen(
            [str(BIN / "locust"), "-f", str(ROOT / "benchmarks/load/locustfile.py"), "--headless",
             "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.duration}s",
             "--host", f"http://127.0.0.1:{port}", "--only-summary", "--stop-timeout", "10",
             "--loglevel", "WARNING"],
            env={**os.environ, "PASSERELLE_LOAD_ACCOUNTS": str(accounts_file),
                 "PASSERELLE_LOAD_RECORDS": str(records)},
            stdout=(work / "locust.out").open("wb"), stderr=subprocess.STDOUT)
        processes.append(locust)
        began = time.time()
        time.sleep(max(0.0, args.duration * args.run_at))
        run_id, start, end, stats = api.run_match(DEPARTMENTS[1:], release=False)
        print(f"match run under load {run_id}: {stats.get('households')} households x {stats.get('units')} "
              f"units, {stats.get('proposals')} proposals, {end - start:.1f} s", flush=True)
        locust.wait(args.duration + 120)
        ended = time.time()
        print(f"locust summary: {work / 'locust.out'}")
        return 0 if report(records, (start, end), began, ended) else 1
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
