"""Settings: embedded defaults, then `instance/config.py`, then the environment, then tests.

Every setting is listed with its default in the README ("Settings").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from models import crypto
from services import audit

DEFAULTS: dict[str, Any] = {
    "PASSERELLE_ENV": "development",
    "DATABASE_URL": None,  # derived from the instance folder
    "REDIS_URL": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own lifetime bounds it
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "LANGUAGES": ["fr", "en"],
    "PAGE_SIZE": 25,
    "PROPOSAL_REPLY_DAYS": 10,
    # Worklists: the days a landlord's commission and a lease signature may take before the step
    # is flagged as stalled (and reminded by the periodic job); one place for every threshold.
    "STEP_DELAY_DAYS": {"commission": 30, "lease": 30},
    # A reminder goes this many days before a step's due date (and once it is past).
    "REMINDER_DAYS_BEFORE": 3,
    "WORKLIST_PAGE_SIZE": 10,  # units per page of the landlord's worklist
    "TOKEN_LIFETIME_DAYS": 90,  # an API token stops working this long after it was made
    "IDLE_TIMEOUT_MINUTES": 30,
    "ABSOLUTE_TIMEOUT_HOURS": 12,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_HEADERS_ENABLED": True,
    "API_TITLE": "Passerelle API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    # No OPENAPI_SWAGGER_UI_PATH: flask-smorest's own page has an inline script, which the CSP
    # blocks; /api/v1/docs is served by web.api.docs from vendored files instead.
    "PURGE_AFTER_MONTHS": 12,
    # A rehoused household's file is kept while a follow-up checkpoint is due, at most this
    # many months late, and while a convention covering her rehousing lasts (services.privacy).
    "FOLLOWUP_GRACE_MONTHS": 3,
    "QUARTER_FREEZE_AFTER_DAYS": 15,  # a quarter is closed (its figures frozen) this many days after its end
    "JOBS_IMMEDIATE": False,  # run background jobs synchronously (tests)
    # The site's address, e.g. https://passerelle.example.org: every link in an e-mail starts with
    # it. Required in production; links are never built from the request's Host or
    # X-Forwarded-Host (a client chooses those). Outside production it defaults to
    # DEVELOPMENT_PUBLIC_URL, a fixed address, never the request's.
    "PUBLIC_URL": None,
    "DEVELOPMENT_PUBLIC_URL": "http://127.0.0.1:5000",
    "MAIL_SERVER": None,  # without it, `passerelle send-outbox` writes e-mails to the log
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,  # STARTTLS, the server's certificate checked
    "MAIL_USE_SSL": False,  # implicit TLS (SMTPS, usually port 465) instead of STARTTLS
    "MAIL_CA_FILE": None,  # a PEM file of authorities to trust instead of the system's
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "Passerelle <ne-pas-repondre@passerelle.invalid>",
    "LOWEST_QUARTILE_INCOME": None,  # monthly income; None: the first quartile of the quarter's households
    "QPV_LOWEST_QUARTILE_TARGET": 0.25,  # Égalité et Citoyenneté law: share outside QPV to the poorest
    "JOBS_SQLITE_PATH": None,  # queue file without REDIS_URL (default: instance/jobs.sqlite)
    "JOBS_EMBEDDED_WORKERS": 1,  # consumer threads `serve`/`demo` run without REDIS_URL
    "RUN_TIME_LIMIT_SECONDS": None,  # solver time limit (None: until optimality is proven)
    "RUN_HEARTBEAT_SECONDS": 15,  # how often a running match run says it is alive
    "RUN_DEAD_AFTER_SECONDS": None,  # a running run this long without heartbeat is failed at the next start
    # (None: 4 x RUN_HEARTBEAT_SECONDS)
    "RUN_STALE_SECONDS": 600,  # a queued/running run silent this long has lost its job
    # Reverse proxies in front of the app (PASSERELLE_PROXIES): their X-Forwarded-For, -Proto and
    # -Host headers are trusted for that many hops. 0: none is trusted, a client could forge them.
    "PROXIES": 0,
    # The key that seals the audit trail (HMAC-SHA256), kept apart from the database: whoever can
    # write the database but has not this key cannot rewrite or delete rows unseen. Required in
    # production; comma-separated keys rotate it (the first seals, all verify). Outside
    # production it defaults to DEVELOPMENT_AUDIT_KEY, a fixed key that protects nothing.
    # (environment: PASSERELLE_AUDIT_KEY.)
    "AUDIT_KEY": None,
    "DEVELOPMENT_AUDIT_KEY": "development-audit-key-not-secret",
}

# These come from the environment under their own names (the contract's), not PASSERELLE_*.
ENV_NAMES = ("DATABASE_URL", "SECRET_KEY", "PASSERELLE_DATA_KEY", "REDIS_URL", "PASSERELLE_ENV")
PRODUCTION_REQUIRED = ("SECRET_KEY", "PASSERELLE_DATA_KEY", "AUDIT_KEY", "DATABASE_URL", "PUBLIC_URL")
# The environment variable that sets each required setting (for the error message).
_ENV_NAME = {"PUBLIC_URL": "PASSERELLE_PUBLIC_URL", "AUDIT_KEY": "PASSERELLE_AUDIT_KEY"}


class ConfigurationError(RuntimeError):
    """The app cannot start with these settings."""


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill `app.config` from the three layers and the test overrides."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name in ENV_NAMES:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.from_prefixed_env("PASSERELLE")
    if os.environ.get("PASSERELLE_AUDIT_KEY"):
        # As written: from_prefixed_env would read a key of digits as a number.
        app.config["AUDIT_KEY"] = os.environ["PASSERELLE_AUDIT_KEY"]
    if overrides:
        app.config.update(overrides)

    production = app.config["PASSERELLE_ENV"] == "production"
    if production:
        missing = [name for name in PRODUCTION_REQUIRED if not app.config.get(name)]
        if missing:
            raise ConfigurationError(
                "PASSERELLE_ENV=production needs these settings in the environment: "
                + ", ".join(_ENV_NAME.get(name, name) for name in missing)
            )
        if DEFAULTS["DEVELOPMENT_AUDIT_KEY"] in str(app.config["AUDIT_KEY"]).split(","):
            raise ConfigurationError("PASSERELLE_AUDIT_KEY must be a secret of your own in production, "
                                     "not the published development key")
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    else:
        _embedded_defaults(app)

    proxies = app.config["PROXIES"]
    if isinstance(proxies, bool) or not isinstance(proxies, int) or proxies < 0:
        raise ConfigurationError(f"PASSERELLE_PROXIES must be a whole number of proxies (0 or more), not {proxies!r}")

    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]  # for Flask-Migrate
    crypto.configure(app.config["PASSERELLE_DATA_KEY"])
    audit.configure(str(app.config["AUDIT_KEY"]))


def public_url() -> str:
    """The site's address for links in e-mails: the setting, never the request's host."""
    from flask import current_app

    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + "/"


def _embedded_defaults(app: Flask) -> None:
    """Outside production, anything missing lives in the instance folder, made once."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'passerelle.sqlite'}"
    if not app.config.get("PUBLIC_URL"):
        app.config["PUBLIC_URL"] = app.config["DEVELOPMENT_PUBLIC_URL"]
    if not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = app.config["DEVELOPMENT_AUDIT_KEY"]
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key", _token)
    if not app.config.get("PASSERELLE_DATA_KEY"):
        app.config["PASSERELLE_DATA_KEY"] = _instance_secret(
            instance / "data_key", crypto.generate_key
        )


def _token() -> str:
    import secrets

    return secrets.token_urlsafe(48)


def _instance_secret(path: Path, make: Any) -> str:
    if not path.exists():
        # Created readable by the owner only: it guards every household's safety fields.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()
