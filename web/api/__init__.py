"""The JSON API under /api/v1 (flask-smorest): one blueprint per noun, the same services."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask_smorest import Api

from web.errors import ErrorSchema
from web.extensions import csrf

api = Api()
api.ERROR_SCHEMA = ErrorSchema  # our JSON errors also carry the request id

docs_bp = Blueprint("api_docs", __name__)


@docs_bp.route("/api/v1/docs")
def docs():  # type: ignore[no-untyped-def]
    """Interactive documentation, served from vendored files (no CDN, no inline script)."""
    return render_template("api/docs.html")


def init_app(app: Flask) -> None:
    """Register the API and its blueprints."""
    from web.api import auth, followup, households, me, offers, proposals, runs, stats, units
    from web.api.openapi import OperationConventions

    app.config.setdefault("API_SPEC_OPTIONS", {})
    app.config["API_SPEC_OPTIONS"].update(
        {
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                }
            },
            "security": [{"bearer": []}, {"session": []}],
            "info": {
                "description": "Passerelle: social landlords' units, associations' households, "
                "matching runs and proposals. Authenticate with `Authorization: Bearer TOKEN` "
                "(from `passerelle create-token`) or the browser session plus an `X-CSRFToken` "
                "header. Errors are JSON with the request id; 404 also answers a record that exists but is "
                "not yours or not for your role (the API never tells these apart)."
            },
        }
    )
    api.init_app(app, spec_kwargs={"extra_plugins": [OperationConventions()]})
    for blp in (me.blp, units.blp, runs.blp, households.blp, proposals.blp, stats.blp, offers.blp,
                followup.blp):
        register(blp)
    app.register_blueprint(docs_bp)
    auth.init_app(app)


def register(blp: Blueprint) -> None:
    """Add one API blueprint: authenticated by `web.api.auth`, CSRF checked there too."""
    csrf.exempt(blp)
    api.register_blueprint(blp, url_prefix="/api/v1")
