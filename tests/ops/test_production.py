"""Production mode end to end: `passerelle db upgrade`, then gunicorn serving `web:create_app()`.

Runs only on PostgreSQL (TEST_DATABASE_URL), as production does; with Redis too when a
`redis-server` can be started here (job queue and rate limits on Redis).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.helpers import scratch_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.postgres


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped (exit {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def get(port: int, path: str, headers: dict[str, str] | None = None,
        timeout: float = 20) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture(params=["no-redis", "redis"])
def redis_url(request, tmp_path) -> Iterator[str | None]:
    if request.param == "no-redis":
        yield None
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port, process, 10)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def test_gunicorn_in_production_mode(postgres_url, redis_url, tmp_path):
    with scratch_database(postgres_url, tmp_path) as url:
        env = {
            "PATH": os.environ["PATH"],
            "PASSERELLE_ENV": "production",
            "DATABASE_URL": url,
            "SECRET_KEY": "production-test-" + "x" * 40,
            "PASSERELLE_DATA_KEY": Fernet.generate_key().decode(),
            "PASSERELLE_INSTANCE_PATH": str(tmp_path / "instance"),
            "PASSERELLE_PUBLIC_URL": "https://passerelle.example.org",
            "PASSERELLE_AUDIT_KEY": "k" * 64,
            "PASSERELLE_PROXIES": "1",  # behind nginx, as the README's production mode says
        }
        (tmp_path / "instance").mkdir()
        if redis_url:
            env["REDIS_URL"] = redis_url
        upgrade = subprocess.run([str(BIN / "passerelle"), "db", "upgrade"], env=env, cwd=tmp_path,
                                 capture_output=True, text=True, timeout=120)
        assert upgrade.returncode == 0, upgrade.stderr

        port = free_port()
        log_path = tmp_path / "gunicorn.err"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT),
                 "--no-control-socket", "web:create_app()"],
                env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=log)
            try:
                wait_for(port, server)
                status, _h, body = get(port, "/healthz", timeout=120)  # the workers boot first
                assert (status, json.loads(body)) == (200, {"status": "ok"})

                status, _h, body = get(port, "/readyz")
                assert status == 200, body
                assert json.loads(body)["checks"] == {"database": "ok", "queue": "ok"}

                # Behind the TLS proxy: the page, with its security headers.
                status, headers, body = get(port, "/connexion", {"X-Forwarded-Proto": "https",
                                                                 "X-Request-ID": "prod-test-0001"})
                assert status == 200
                assert "<form" in body.decode()
                assert "default-src 'self'" in headers["content-security-policy"]
                assert "script-src 'self'" in headers["content-security-policy"]
                assert headers["x-frame-options"] == "DENY"
                assert headers["x-content-type-options"] == "nosniff"
                assert headers["referrer-policy"] == "same-origin"
                assert "max-age=" in headers["strict-transport-security"]
                assert headers["x-request-id"] == "prod-test-0001"
                if "set-cookie" in headers:
                    assert "Secure" in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"]

                # Plain HTTP pages are sent to HTTPS.
                status, headers, _b = get(port, "/connexion")
                assert status in (301, 302) and headers["location"].startswith("https://")
                redirect_id = headers["x-request-id"]
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(30)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("logger") == "passerelle.access" and e.get("request_id") == "prod-test-0001"]
    assert len(access) == 1, log_path.read_text()[-3000:]
    assert access[0] | {"duration_ms": 0} == access[0] | {
        "level": "INFO", "method": "GET", "path": "/connexion", "status": 200, "duration_ms": 0}
    assert [e["status"] for e in lines if e.get("request_id") == redirect_id] in ([301], [302])
    assert all(e.get("level") != "ERROR" for e in lines), log_path.read_text()[-3000:]
