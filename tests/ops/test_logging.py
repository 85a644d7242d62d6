"""Logs are JSON lines naming the request; access lines give route templates, not URLs."""

from __future__ import annotations

import json
import logging


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _access(capsys) -> list[dict]:
    return [e for e in _lines(capsys.readouterr().err) if e["logger"] == "passerelle.access"]


def test_access_line_has_request_id_and_route_template(client, capsys):
    capsys.readouterr()
    response = client.get("/static/css/app.css?ref=H-secret-42", headers={"X-Request-ID": "req-abcdef12"})
    response.close()
    assert response.status_code == 200
    [entry] = _access(capsys)
    assert entry["request_id"] == "req-abcdef12" == response.headers["X-Request-ID"]
    assert entry["method"] == "GET"
    assert entry["path"] == "/static/<path:filename>"
    assert entry["status"] == 200
    assert entry["level"] == "INFO"
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert entry["time"].endswith("+00:00")
    assert "H-secret-42" not in json.dumps(entry) and "app.css" not in json.dumps(entry)


def test_unknown_urls_are_not_written_down(client, capsys):
    capsys.readouterr()
    response = client.get("/nulle-part/H-Zx81-perso?zone=lille")
    assert response.status_code == 404
    [entry] = _access(capsys)
    assert entry["path"] == "<unmatched>" and entry["status"] == 404
    assert "H-Zx81" not in json.dumps(entry) and "lille" not in json.dumps(entry)
    assert entry["request_id"] == response.headers["X-Request-ID"]


def test_app_messages_in_a_request_carry_its_id(app, capsys):
    with app.test_request_context("/"):
        from flask import g

        g.request_id = "inside-request-1"
        logging.getLogger("web.something").warning("quota %s", 3)
    [entry] = [e for e in _lines(capsys.readouterr().err) if e["logger"] == "web.something"]
    assert entry == {**entry, "level": "WARNING", "message": "quota 3", "request_id": "inside-request-1"}


def test_exceptions_are_one_json_line_with_the_traceback(app, client, capsys):
    client.get("/healthz")  # a request before: its id must not stick to later lines
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("passerelle.job").exception("job failed")
    err = capsys.readouterr().err
    [entry] = [e for e in _lines(err) if e["logger"] == "passerelle.job"]
    assert "ValueError: boom" in entry["exception"]
    assert entry["request_id"] is None
    assert all(line.startswith("{") for line in err.splitlines() if "passerelle.job" in line)
