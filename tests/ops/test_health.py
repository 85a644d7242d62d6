"""`/healthz` answers without the database; `/readyz` checks the database and the job queue."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa


def test_healthz_answers_anonymous_without_touching_the_database(app, client):
    statements: list[str] = []
    engine = app.extensions["db"].engine
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert statements == []


def test_readyz_ok_when_database_and_queue_file_are_reachable(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "queue": "ok"}, "failed": []}


@pytest.fixture
def broken_database(app, tmp_path):
    """The app's engine points at a database that cannot be opened."""
    from web.db import create_engine

    good = app.extensions["db"].engine
    app.extensions["db"].engine = create_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    yield
    app.extensions["db"].engine.dispose()
    app.extensions["db"].engine = good


def test_readyz_503_names_the_database_without_details(client, broken_database, tmp_path):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["failed"] == ["database"]
    assert response.json["checks"] == {"database": "failed", "queue": "ok"}
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_readyz_503_when_queue_file_cannot_be_created(app, client, tmp_path):
    not_a_folder = tmp_path / "plain-file"
    not_a_folder.write_text("")
    app.config["JOBS_SQLITE_PATH"] = str(not_a_folder / "jobs.sqlite")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["queue"]
    assert response.json["checks"]["database"] == "ok"


def test_readyz_opens_an_existing_queue_file_without_changing_it(app, client, tmp_path):
    queue = tmp_path / "jobs.sqlite"
    queue.write_bytes(b"queued")
    app.config["JOBS_SQLITE_PATH"] = str(queue)
    assert client.get("/readyz").status_code == 200
    assert queue.read_bytes() == b"queued"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readyz_503_when_redis_does_not_answer(app, client):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"  # nobody listens there
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["failed"] == ["queue"]
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_probes_skip_the_https_redirect_in_production(client, app):
    # Probes talk to the process over plain HTTP; pages still go to HTTPS.
    from web.extensions import talisman

    talisman.force_https = True
    try:
        assert client.get("/healthz").status_code == 200
        assert client.get("/connexion").status_code == 302
    finally:
        talisman.force_https = False
