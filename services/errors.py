"""Errors that services raise and the web layer turns into answers."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A request the platform refuses, with a message for the user."""

    status = 400

    def __init__(self, message: Any, *, field: str | None = None, **details: Any) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.details = details


class ValidationError(ServiceError):
    """Input that breaks a rule: names the field (and record) at fault."""

    status = 422

    def __init__(self, errors: dict[str, Any] | Any, *, field: str | None = None) -> None:
        if not isinstance(errors, dict):
            errors = {field or "_schema": [errors]}
        first = next(iter(errors.values()), "")
        super().__init__(first[0] if isinstance(first, list) and first else first, field=field)
        self.errors = errors


class NotFound(ServiceError):
    """No such record, or one outside the caller's reach (the answer is the same)."""

    status = 404


class Conflict(ServiceError):
    """The record changed under the request: already decided, already promised."""

    status = 409


class Forbidden(ServiceError):
    """The caller may not do this."""

    status = 403


class Unavailable(ServiceError):
    """A service the platform needs (the job queue) does not answer: try again later."""

    status = 503
