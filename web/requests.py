"""What happens around every request: its id, session lifetimes, caching of personal pages."""

from __future__ import annotations

import re
import secrets
import time

from flask import Flask, Response, g, request, session
from flask_login import current_user, logout_user

from services import audit

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def init_app(app: Flask) -> None:
    """Register the request hooks."""
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    # A proxy's id is kept (if it looks like one) so logs of both can be joined.
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    audit.request_id_var.set(g.request_id)
    _enforce_session_lifetime()


def _enforce_session_lifetime() -> None:
    """End a browser session idle for too long, or open for too long in all."""
    from flask import current_app

    if not current_user.is_authenticated or "_user_id" not in session:
        return
    now = time.time()
    idle = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    absolute = current_app.config["ABSOLUTE_TIMEOUT_HOURS"] * 3600
    started = session.setdefault("started_at", now)
    last = session.get("seen_at", now)
    if now - last > idle or now - started > absolute:
        logout_user()
        session.clear()
        return
    session["seen_at"] = now


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if current_user and current_user.is_authenticated or request.path.startswith("/api/"):
        # Pages and answers about people must not linger in a shared computer's cache.
        response.headers["Cache-Control"] = "no-store"
    return response
