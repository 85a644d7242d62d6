"""Fixtures shared by every test: engine, a rolled-back database per test, app, client, login.

The suite runs on SQLite by default, and on PostgreSQL when `TEST_DATABASE_URL` names one.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

import models
from models import User, crypto
from services import audit
from web import config, create_app
from web.db import create_engine

# The platform's "today" is metropolitan France's day (services.clock), and the tests write
# `dt.date.today()` for it: the test process keeps Paris time, so that between 23:00 and
# midnight UTC a date "tomorrow" in a test is still tomorrow for the platform. The platform's
# code never reads the process's zone (ruff's DTZ rules).
os.environ["TZ"] = "Europe/Paris"
time.tzset()

DATA_KEY = Fernet.generate_key().decode()
# Service tests use the models without an app: the data key must be there all the same.
crypto.configure(DATA_KEY)
# And the audit key (the development one, as a test app has it), for the same reason.
audit.configure(config.DEFAULTS["DEVELOPMENT_AUDIT_KEY"])
PASSWORD = "correct horse battery staple"
# Second-factor secret given by `AuthActions` to test users whose role requires one.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_last_totp_step: dict[str, int] = {}


def totp_code(secret: str = TOTP_SECRET, key: str | None = None) -> str:
    """A valid code for `secret`, never the same one twice for the same `key` (the server refuses replays)."""
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    while True:
        now = dt.datetime.now(dt.UTC)
        current = totp.timecode(now)
        # The previous step's code is accepted only until the current step ends: taken in its
        # last seconds, it could expire before a slow page submits it (a flaky login in CI).
        remaining = totp.interval - now.timestamp() % totp.interval
        lowest = current - 1 if remaining > totp.interval / 2 else current
        step = max(lowest, _last_totp_step.get(key or secret, lowest - 1) + 1)
        if step <= current + 1:
            _last_totp_step[key or secret] = step
            return totp.generate_otp(step)
        time.sleep(1)


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database the suite runs on: TEST_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on a freshly created schema."""
    engine = create_engine(database_url)
    if _is_sqlite(database_url):
        # pysqlite's own transaction handling breaks SAVEPOINT: let SQLAlchemy drive it.
        @sa.event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    yield engine
    models.Base.metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture
def db(connection: sa.Connection) -> Iterator[so.Session]:
    """The test's own session; what views commit is only a savepoint of the outer transaction."""
    session = so.Session(bind=connection, join_transaction_mode="create_savepoint",
                         expire_on_commit=False)
    yield session
    session.close()


def make_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    """The settings of a test app."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "PASSERELLE_DATA_KEY": DATA_KEY,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "JOBS_IMMEDIATE": True,
        "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Per-test overrides of the app's settings (override this fixture, or mutate it)."""
    return {}


@pytest.fixture
def app(database_url: str, connection: sa.Connection, app_config: dict[str, Any],
        tmp_path: Path) -> Iterator[Flask]:
    """An app whose requests use the test's connection (so everything is rolled back)."""
    app = create_app(make_config(database_url, **app_config))
    app.instance_path = str(tmp_path)
    app.extensions["db"].sessionmaker = so.sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield app
    app.extensions["db"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


class AuthActions:
    """Log a test client in and out through the real pages (both steps, with a second factor)."""

    def __init__(self, client: FlaskClient, db: so.Session | None = None) -> None:
        self.client = client
        self.db = db

    def login(self, user: User | str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        """Log in; a user whose role requires a second factor is given one first (TOTP_SECRET)."""
        email = user if isinstance(user, str) else user.email
        if self.db is not None:
            enrol_totp(self.db, email)
        response = self.client.post("/connexion", data={"email": email, "password": password})
        if response.status_code == 302 and response.headers["Location"].startswith("/connexion/code"):
            secret = self._secret(email)
            response = self.client.post("/connexion/code", data={"code": totp_code(secret, email)})
        return response

    def _secret(self, email: str) -> str:
        if self.db is None:
            return TOTP_SECRET
        self.db.expire_all()
        user = self.db.scalar(sa.select(User).where(User.email == email.lower()))
        return user.totp_secret if user is not None and user.totp_secret else TOTP_SECRET

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/deconnexion")


def enrol_totp(db: so.Session, email: str, secret: str = TOTP_SECRET) -> None:
    """Give the user a confirmed second factor if her role requires one and she has none."""
    from services.accounts import TOTP_REQUIRED_ROLES, has_totp

    user = db.scalar(sa.select(User).where(User.email == email.lower()))
    if user is not None and user.role in TOTP_REQUIRED_ROLES and not has_totp(user):
        user.totp_secret = secret
        user.totp_confirmed_at = models.utcnow()
        db.commit()


@pytest.fixture
def auth(client: FlaskClient, db: so.Session) -> AuthActions:
    return AuthActions(client, db)


@pytest.fixture
def login_as(client: FlaskClient, db: so.Session) -> Callable[..., User]:
    """Create a user of a role (or take one) and log the test client in as her."""
    from tests import factories

    def _login(role_or_user: str | User, **kwargs: Any) -> User:
        user = (factories.create_user(db, role=role_or_user, **kwargs)
                if isinstance(role_or_user, str) else role_or_user)
        db.commit()
        response = AuthActions(client, db).login(user)
        assert response.status_code == 302, response.data
        return user

    return _login


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


# One browser for the whole run, shared by every test folder: Playwright's sync API cannot
# start a second instance while one is running.
@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian, as a person's browser (no network but 127.0.0.1)."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield browser
        browser.close()
