"""What happens around every request: malformed input refused, its id, session lifetimes, the
second factor, caching."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from werkzeug.routing import IntegerConverter

from services import audit

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# Until a user whose role requires a second factor has enrolled, only these are open to her.
ENROLMENT_ENDPOINTS = frozenset({"auth.totp_setup", "auth.logout", "static", "main.about"})


def clock() -> float:
    """The current time in seconds (a function, so that tests can move time forward)."""
    return time.time()


# JSON deeper than this is refused before it is parsed (our documents nest 4 levels at most).
MAX_JSON_DEPTH = 32
# The largest id a database integer column holds: a bigger one names no record (404), and
# PostgreSQL would refuse to compare it (a 500).
MAX_ID = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` in every route, limited to what an id column can hold (larger: no match, 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Register the request hooks, and bound the ids of every route."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    # First of all hooks: nothing (session loading, access check, views) reads malformed input.
    app.before_request_funcs.setdefault(None, []).insert(0, _reject_malformed)
    app.before_request(_start)
    app.after_request(_finish)


def _reject_malformed() -> None:
    """400 for a NUL byte anywhere in the path, the query, a form or a JSON body, or absurd nesting.

    A NUL byte is never meaningful in this application's input; PostgreSQL refuses it in text
    (a 500 deep in a view), and C libraries cut strings at it. Checked once here rather than
    in each of the forms and schemas.
    """
    if "\x00" in request.path or b"\x00" in unquote_to_bytes(request.query_string):
        abort(400)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        if b"\x00" in unquote_to_bytes(request.get_data(cache=True).replace(b"+", b" ")):
            abort(400)
    elif request.mimetype == "multipart/form-data":  # files' contents are the importer's business
        fields = [*request.form.items(multi=True)]
        names = [f.filename or "" for f in request.files.values()]
        # A part werkzeug could not decode comes back as None: nothing to scan in it.
        if any("\x00" in (k or "") or "\x00" in (v or "") for k, v in fields) or any("\x00" in n for n in names):
            abort(400)
    elif request.is_json:
        _check_json(request.get_data(cache=True))


def _check_json(body: bytes) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH (scanned without recursion), then any NUL in it."""
    import json

    if not body:
        return
    if b"\x00" in body:
        abort(400)
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_JSON_DEPTH:
                abort(400)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    try:
        document = json.loads(body)
    except ValueError:
        return  # the schema answers its own 400/422 for what is not JSON
    stack = [document]
    while stack:  # a NUL written as \u0000 inside any key or string
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                abort(400)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


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
