"""Who is calling the API: a bearer token, or the browser session with its CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf

from models import User
from services import accounts
from web.db import get_session

F = TypeVar("F", bound=Callable[..., Any])
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def init_app(app: Flask) -> None:
    """Resolve the API caller before every API request."""

    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith("/api/v1/") or request.path.startswith(
            ("/api/v1/openapi.json", "/api/v1/docs")
        ):
            return
        g.api_user = _caller()


def _caller() -> User | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return accounts.user_for_token(get_session(), token.strip())
    if current_user.is_authenticated:
        if request.method in UNSAFE and current_app.config.get("WTF_CSRF_ENABLED", True):
            # A session-authenticated call could be forged by another site: check CSRF.
            try:
                validate_csrf(request.headers.get("X-CSRFToken", ""))
            except CSRFError:
                abort(400, "CSRF token missing or invalid")
            except Exception:  # noqa: BLE001 - wtforms raises ValidationError
                abort(400, "CSRF token missing or invalid")
        user: User = current_user._get_current_object()  # type: ignore[attr-defined]
        return user
    return None


def api_user() -> User:
    """The authenticated caller (only inside views protected by `requires`)."""
    user: User = g.api_user
    return user


def requires(*roles: str) -> Callable[[F], F]:
    """Allow only these roles; anyone else gets 401 (not logged in) or 404 (other role)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = g.get("api_user")
            if user is None:
                abort(401)
            if user.role not in roles:
                # What another role may do does not exist for this caller.
                abort(404)
            return view(*args, **kwargs)

        wrapper.roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
