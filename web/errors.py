"""Error pages and JSON errors: no traceback ever, a request id always."""

from __future__ import annotations

import logging

import sqlalchemy.exc as sa_exc
from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError

from services.errors import ServiceError

log = logging.getLogger(__name__)


class ErrorSchema(Schema):
    """The JSON error body every API answer uses (documented in the OpenAPI document)."""

    code = fields.Integer(metadata={"description": "HTTP status code"})
    status = fields.String(metadata={"description": "HTTP status name"})
    message = fields.String(metadata={"description": "What went wrong"})
    errors = fields.Dict(metadata={"description": "Messages per field (`_schema`: the whole request)"})
    request_id = fields.String(allow_none=True,
                               metadata={"description": "Id of the request, to quote when asking for help"})


# The heading of an error page, in the reader's language: werkzeug's names are English only.
# (The JSON body keeps the HTTP status name: it is part of the API's contract.)
PAGE_TITLES = {
    400: _l("Requête invalide"),
    401: _l("Connexion requise"),
    403: _l("Accès refusé"),
    404: _l("Page introuvable"),
    405: _l("Méthode non autorisée"),
    409: _l("Conflit"),
    413: _l("Requête trop volumineuse"),
    422: _l("Données invalides"),
    429: _l("Trop de requêtes"),
    500: _l("Erreur interne"),
    503: _l("Service indisponible"),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _answer(code: int, status: str, errors: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    if _wants_json():
        body: dict[str, object] = {"code": code, "status": status}
        if errors:
            body["errors"] = errors
        body["request_id"] = g.get("request_id")
        return jsonify(body), code
    title = PAGE_TITLES.get(code, status)
    return render_template("error.html", code=code, status=title, errors=errors), code


def init_app(app: Flask) -> None:
    """Register handlers for HTTP errors, service errors and crashes."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        errors = None
        data = getattr(exc, "data", None)
        if isinstance(data, dict) and "messages" in data:
            errors = data["messages"]
        return _answer(exc.code or 500, exc.name, errors)

    @app.errorhandler(ServiceError)
    def _service(exc: ServiceError):  # type: ignore[no-untyped-def]
        errors = getattr(exc, "errors", None) or {exc.field or "_schema": [str(exc.message)]}
        errors = {k: [str(m) for m in v] if isinstance(v, list) else str(v) for k, v in errors.items()}
        status = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                  422: "Unprocessable Entity", 503: "Service Unavailable"}.get(exc.status, "Error")
        return _answer(exc.status, status, errors)

    @app.errorhandler(sa_exc.DataError)
    def _data(exc: sa_exc.DataError):  # type: ignore[no-untyped-def]
        # A value the database cannot hold (too large a number, a byte text may not contain):
        # the request was malformed, whatever route let it through.
        log.warning("value refused by the database (request %s): %s", g.get("request_id"), type(exc.orig).__name__)
        return _answer(400, "Bad Request")

    @app.errorhandler(Exception)
    def _crash(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error (request %s)", g.get("request_id"))
        return _answer(500, InternalServerError().name, {"_schema": [_("Erreur interne.")]})
