"""Fixtures shared by every test: engine, a rolled-back database per test, app, client, login.

The suite runs on SQLite by default, and on PostgreSQL when `TEST_DATABASE_URL` names one.
"""

from __future__ import annotations

import os
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
from models import User
from web import create_app
from web.db import create_engine

DATA_KEY = Fernet.generate_key().decode()
PASSWORD = "correct horse battery staple"


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
    """Log a test client in and out through the real pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: User | str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        email = user if isinstance(user, str) else user.email
        return self.client.post("/connexion", data={"email": email, "password": password})

    def logout(self):  # type: ignore[no-untyped-def]
        return self.client.post("/deconnexion")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def login_as(client: FlaskClient, db: so.Session) -> Callable[..., User]:
    """Create a user of a role (or take one) and log the test client in as her."""
    from tests import factories

    def _login(role_or_user: str | User, **kwargs: Any) -> User:
        user = (factories.create_user(db, role=role_or_user, **kwargs)
                if isinstance(role_or_user, str) else role_or_user)
        db.commit()
        response = AuthActions(client).login(user)
        assert response.status_code == 302, response.data
        return user

    return _login
