"""Structured logs: one JSON object per line on standard error, each naming its request.

Access lines carry the method, the route's *template* (`/association/menages/<public_id>`,
never the URL actually asked: no ids, no query strings), the status and the duration.
Nothing personal is ever logged here; a log line says what happened to which route.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import sys
import time
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

ACCESS_LOGGER = "passerelle.access"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # as web.requests accepts them
# Attributes of a LogRecord that are not "extra" fields given by the caller.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JSONFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _request_id() -> str | None:
    if has_request_context() and g.get("request_id"):
        return str(g.request_id)
    # Outside a request (a job, a command), the id the worker or command set, if any.
    from services.audit import request_id_var

    return request_id_var.get()


def configure(level: str = "INFO") -> None:
    """Send every log record to standard error as JSON (once per process)."""
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(JSONFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    # Even with PASSERELLE_LOG_LEVEL=DEBUG, statements and their parameters (incomes, e-mails)
    # stay out of the log: the engines also hide parameters in error messages (web.db).
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    """Log as JSON, and write one access line per request."""
    configure(str(app.config.get("LOG_LEVEL") or "INFO"))
    # Flask's own text handler would print every app message a second time.
    app.logger.removeHandler(default_handler)
    app.before_request(_start_timer)
    app.after_request(_access_line)
    app.teardown_request(_forget_request_id)


def _start_timer() -> None:
    g.log_started = time.perf_counter()
    # Answers given before `web.requests` names the request (an HTTPS redirect, a rate
    # limit) still get an id, in the log and in the X-Request-ID header alike.
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)


def _forget_request_id(_exc: BaseException | None = None) -> None:
    # The thread serves other requests (or jobs) next: their lines must not carry this id.
    from services.audit import request_id_var

    request_id_var.set(None)


def _access_line(response: Response) -> Response:
    started = g.get("log_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s", request.method, rule, response.status_code,
        extra={
            "request_id": g.get("request_id") or response.headers.get("X-Request-ID") or None,
            "method": request.method,
            "path": rule,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": duration_ms,
        },
    )
    return response
