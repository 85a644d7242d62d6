"""The Passerelle web application: pages per audience and the JSON API."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, database, extensions, requests, pages, API, errors, commands."""
    # The instance folder holds the embedded defaults (SQLite file, generated keys).
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("PASSERELLE_INSTANCE_PATH") or None)

    from web import access, badges, db, errors, extensions, proxies, requests, static_files
    from web import config as settings
    from web import logging as logs

    settings.load(app, config)
    # Fail at start, not at the first password change, when the package lost its data.
    from services.accounts import load_common_passwords

    load_common_passwords()
    proxies.init_app(app)
    logs.init_app(app)
    db.init_app(app)
    extensions.init_app(app)
    requests.init_app(app)
    static_files.init_app(app)
    register_blueprints(app)
    badges.init_app(app)
    # Last of the request hooks: it needs the caller that those before it have resolved.
    app.before_request(access.enforce)
    errors.init_app(app)
    register_commands(app)
    return app


def register_blueprints(app: Flask) -> None:
    """One blueprint per audience, each gated once by its role; then the API."""
    from web.admin import bp as admin_bp
    from web.api import init_app as init_api
    from web.associations import bp as associations_bp
    from web.auth.views import bp as auth_bp
    from web.committee import bp as committee_bp
    from web.coordinators import bp as coordinators_bp
    from web.health import bp as health_bp
    from web.landlords import bp as landlords_bp
    from web.main.views import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(landlords_bp, url_prefix="/bailleur")
    app.register_blueprint(associations_bp, url_prefix="/association")
    app.register_blueprint(coordinators_bp, url_prefix="/coordination")
    app.register_blueprint(committee_bp, url_prefix="/comite")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    init_api(app)


def register_commands(app: Flask) -> None:
    """The `passerelle` commands that need the app."""
    from web.cli import commands

    for command in commands:
        app.cli.add_command(command)
