"""Health and readiness probes for a process manager or a load balancer, open to anyone.

- `/healthz`: the process answers (touches nothing else): restart it if this fails.
- `/readyz`: the database answers `SELECT 1` and the job queue is reachable (Redis `PING`
  when `REDIS_URL` is set, the SQLite queue file writable otherwise): send it traffic
  only if this succeeds. A failure answers 503 and names the failed check, never the
  error's details (they go to the log).

Both answer over plain HTTP even in production: probes talk to the process directly.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify

from web.extensions import talisman

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# How long a probe waits for Redis before calling it down.
REDIS_TIMEOUT_S = 2.0


@bp.route("/healthz")
@talisman(force_https=False)
def healthz():  # type: ignore[no-untyped-def]
    """Liveness: the process serves requests."""
    return _no_store(jsonify(status="ok"))


@bp.route("/readyz")
@talisman(force_https=False)
def readyz():  # type: ignore[no-untyped-def]
    """Readiness: the database and the job queue are reachable."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks = {"database": _check(check_database, app), "queue": _check(check_queue, app)}
    failed = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "unavailable" if failed else "ok", "checks": checks, "failed": failed}
    return _no_store(jsonify(body)), 503 if failed else 200


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


def _check(probe: Any, app: Flask) -> str:
    try:
        probe(app)
    except Exception:
        # The details (host names, paths) are for the operator's log, not for anonymous callers.
        log.exception("readiness check %s failed", probe.__name__)
        return "failed"
    return "ok"


def check_database(app: Flask) -> None:
    """The database answers a trivial query on a connection of the app's pool."""
    with app.extensions["db"].engine.connect() as conn:
        conn.execute(sa.text("SELECT 1")).scalar_one()


def check_queue(app: Flask) -> None:
    """Redis answers PING (REDIS_URL set), or the SQLite queue file can be written."""
    url = app.config.get("REDIS_URL")
    if url:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                      socket_timeout=REDIS_TIMEOUT_S)
        try:
            if not client.ping():
                raise RuntimeError("Redis did not answer PING")
        finally:
            client.close()
        return
    path = queue_file(app)
    if path.exists():
        with path.open("ab"):  # opening for append changes nothing, and proves we may write
            pass
    elif not (path.parent.is_dir() and os.access(path.parent, os.W_OK)):
        raise PermissionError(f"job queue file cannot be created: {path}")


def queue_file(app: Flask) -> Path:
    """Where the job queue lives when there is no Redis (a SQLite file)."""
    configured = app.config.get("JOBS_SQLITE_PATH")
    return Path(configured) if configured else Path(app.instance_path) / "jobs.sqlite"
