"""What happens around every request: its id, session lifetimes, the second factor, caching."""

from __future__ import annotations

import re
import secrets
import time

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from services import audit

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Until a user whose role requires a second factor has enrolled, only these are open to her.
ENROLMENT_ENDPOINTS = frozenset({"auth.totp_setup", "auth.logout", "static", "main.about"})


def clock() -> float:
    """The current time in seconds (a function, so that tests can move time forward)."""
    return time.time()


def init_app(app: Flask) -> None:
    """Register the request hooks."""
    app.before_request(_start)
    app.after_request(_finish)


def _start():  # type: ignore[no-untyped-def]
    # A proxy's id is kept (if it looks like one) so logs of both can be joined.
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    audit.request_id_var.set(g.request_id)
    _enforce_session_lifetime()
    return _require_second_factor()


def _enforce_session_lifetime() -> None:
    """End a browser session idle for too long, or open for too long in all."""
    if "_user_id" not in session or not current_user.is_authenticated:
        return
    now = clock()
    idle = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    absolute = current_app.config["ABSOLUTE_TIMEOUT_HOURS"] * 3600
    started = session.setdefault("started_at", now)
    last = session.get("seen_at", now)
    if now - last > idle or now - started > absolute:
        logout_user()
        session.clear()
        return
    session["seen_at"] = now


def _require_second_factor():  # type: ignore[no-untyped-def]
    """Send a user who must have a second factor, and has none yet, to set it up first."""
    from services.accounts import needs_totp_enrolment

    if not current_user.is_authenticated or not needs_totp_enrolment(current_user):
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if request.path.startswith("/api/"):
        abort(403)
    return redirect(url_for("auth.totp_setup"))


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if current_user and current_user.is_authenticated or request.path.startswith("/api/"):
        # Pages and answers about people must not linger in a shared computer's cache.
        response.headers["Cache-Control"] = "no-store"
    return response
