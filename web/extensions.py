"""The Flask extensions, created unbound and initialised by the factory."""

from __future__ import annotations

from flask import Flask, g, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

from web.db import get_session

babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
migrate = Migrate()
talisman = Talisman()

# No inline script anywhere: the CSP forbids it, so an injected <script> cannot run.
CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def select_locale() -> str:
    """French first; English when the user or the request asks for it."""
    from flask import current_app, has_request_context

    if not has_request_context():
        # Commands and jobs speak the platform's first language.
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang") or session.get("lang")
    if asked in languages:
        return str(asked)
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    return str(request.accept_languages.best_match(languages) or "fr")


def migrations_directory() -> str:
    """The Alembic folder (env.py, alembic.ini, versions/), wherever Passerelle is installed."""
    from importlib.resources import files
    from pathlib import Path

    try:
        return str(files("migrations"))
    except ModuleNotFoundError:
        # An editable install made before `migrations` became a package maps only the other
        # top-level packages: the folder still sits next to web/ in that checkout.
        return str(Path(__file__).resolve().parents[1] / "migrations")


def init_app(app: Flask) -> None:
    """Bind every extension to the app."""
    from services import accounts
    from web import formatting

    babel.init_app(app, locale_selector=select_locale)
    # Numbers, amounts and stored messages in the reader's language (Jinja filters).
    formatting.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(cookie_id: str):  # type: ignore[no-untyped-def]
        return accounts.load_session_user(get_session(), cookie_id)

    # Migrations read the models' metadata themselves (migrations/env.py). The folder is found
    # as the installed `migrations` package, so a wheel works as well as a checkout.
    migrate.init_app(app, db=None, directory=migrations_directory())
    production = app.config["PASSERELLE_ENV"] == "production"
    talisman.init_app(
        app,
        force_https=production,
        strict_transport_security=production,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="same-origin",
    )

    @app.before_request
    def _remember_language() -> None:
        if request.args.get("lang") in app.config["LANGUAGES"]:
            session["lang"] = request.args["lang"]
        g.setdefault("lang", select_locale())
