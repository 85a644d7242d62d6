"""Issue 13 (5, 9): the account lock counts every failure, addresses share one spelling, API
tokens die with the password, the account and the second factor, and expire."""

from __future__ import annotations

import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.orm.attributes import set_committed_value

from models import ApiToken, User, utcnow
from services import accounts
from services.errors import Conflict, Forbidden
from tests import factories
from tests.conftest import PASSWORD
from tests.helpers import app_on_scratch_database

WRONG = "wrong password xyz 123"


def _fullwidth(text: str, positions: set[int]) -> str:
    """The address with the letters at these positions in their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if i in positions and c.isalnum() else c for i, c in enumerate(text))


# --- (5) the lock, with real concurrent commits --------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="concurrent commits need PostgreSQL (TEST_DATABASE_URL)")
def test_ten_wrong_passwords_at_once_lock_the_account(database_url, tmp_path):
    with app_on_scratch_database(database_url, tmp_path) as app:
        engine = app.extensions["db"].engine
        with so.Session(engine) as db:
            email = factories.create_user(db).email
            db.commit()
        attempts = 10
        barrier = threading.Barrier(attempts)

        def attempt(_: int) -> bool:
            with app.app_context(), so.Session(engine) as db:
                barrier.wait()
                user = accounts.authenticate(db, email, WRONG)
                db.commit()
                return user is not None

        with ThreadPoolExecutor(attempts) as pool:
            assert not any(pool.map(attempt, range(attempts)))
        with app.app_context(), so.Session(engine) as db:
            user = db.scalar(sa.select(User).where(User.email == email))
            # Every failure counted until the lock, none lost to a concurrent one.
            assert user.failed_logins >= accounts.MAX_FAILURES
            assert accounts.is_locked(user)
            # ... so the right password now opens nothing.
            assert accounts.authenticate(db, email, PASSWORD) is None


def test_failures_are_counted_by_the_database_not_a_stale_copy(db):
    """Two attempts working on copies read before either counted: both count (no lost update)."""
    user = factories.create_user(db)
    db.commit()
    for _ in range(accounts.MAX_FAILURES):
        # Each failure is counted as "one more than the database says", whatever the object says.
        set_committed_value(user, "failed_logins", 0)
        set_committed_value(user, "last_failed_login_at", None)
        accounts.register_failure(db, user)
    db.commit()
    db.expire_all()
    assert user.failed_logins == accounts.MAX_FAILURES and accounts.is_locked(user)


def test_the_right_password_checks_the_lock_as_committed(db):
    user = factories.create_user(db)
    db.commit()
    # Another attempt locked the account after this one read the row.
    db.execute(sa.update(User).where(User.id == user.id)
               .values(locked_until=utcnow() + dt.timedelta(minutes=10), failed_logins=5))
    db.commit()
    set_committed_value(user, "locked_until", None)  # the copy read before the lock
    assert accounts.authenticate(db, user.email, PASSWORD) is None


# --- (5) one spelling per address -----------------------------------------------------------


@pytest.fixture
def limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")


def test_full_width_spellings_share_one_rate_limit_bucket(limited, app, db):
    user = factories.create_user(db)
    db.commit()
    codes = []
    for i in range(6):
        c = app.test_client()
        spelling = _fullwidth(user.email, {i, i + 1})
        r = c.post("/connexion", data={"email": spelling, "password": WRONG},
                   environ_base={"REMOTE_ADDR": f"10.0.1.{i + 1}"})
        codes.append(r.status_code)
    assert codes[:5] == [200] * 5
    assert codes[5] == 429


def test_a_full_width_address_is_the_same_account(db):
    user = factories.create_user(db)
    db.commit()
    spelling = _fullwidth(user.email.upper(), set(range(4)))
    assert accounts.normalise_email(spelling) == user.email
    assert accounts.authenticate(db, spelling, PASSWORD) is user
    with pytest.raises(Conflict):
        accounts.create_user(db, email=spelling, role=user.role, password="another long passphrase 93",
                             organisation=user.organisation)


# --- (9) API tokens ------------------------------------------------------------------------


def _me(client, token):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_password_change_revokes_every_token(client, db):
    user = factories.create_user(db, "association")
    token = factories.create_token(db, user)
    db.commit()
    assert _me(client, token) == 200
    accounts.change_password(db, user, PASSWORD, "a brand new passphrase 2027")
    db.commit()
    assert _me(client, token) == 401


def test_re_enabling_an_account_brings_no_token_back(client, db):
    admin = factories.create_user(db, "admin")
    user = factories.create_user(db, "landlord")
    token = factories.create_token(db, user)
    db.commit()
    accounts.set_active(db, user, False, actor=admin)
    db.commit()
    assert _me(client, token) == 401
    accounts.set_active(db, user, True, actor=admin)
    db.commit()
    assert _me(client, token) == 401
    assert db.scalar(sa.select(ApiToken.revoked_at).where(ApiToken.user_id == user.id)) is not None


@pytest.mark.parametrize("role", sorted(accounts.TOTP_REQUIRED_ROLES))
def test_no_token_without_the_second_factor_a_role_requires(db, role):
    user = factories.create_user(db, role)
    with pytest.raises(Forbidden):
        accounts.create_token(db, user)


def test_a_reset_second_factor_stops_the_coordinator_s_token(client, db):
    admin = factories.create_user(db, "admin")
    coordinator = factories.create_user(db, "coordinator")
    token = factories.create_token(db, coordinator)  # enrols her second factor first
    db.commit()
    assert _me(client, token) == 200
    accounts.reset_totp(db, coordinator, actor=admin)
    db.commit()
    assert _me(client, token) == 401


def test_a_token_of_a_role_that_now_requires_a_second_factor_stops(client, db):
    org = factories.create_organisation(db, "coordinator")
    user = factories.create_user(db, "admin", organisation=org)
    token = factories.create_token(db, user)
    # A second factor removed behind the code's back (a database edit): the token is refused.
    user.totp_confirmed_at = None
    db.commit()
    assert _me(client, token) == 401


def test_tokens_expire(client, db):
    user = factories.create_user(db, "association")
    token = factories.create_token(db, user, lifetime_days=90)
    db.commit()
    row = db.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.expires_at is not None
    assert dt.timedelta(days=89) < row.expires_at - utcnow() <= dt.timedelta(days=90)
    assert _me(client, token) == 200
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.commit()
    assert _me(client, token) == 401


def test_a_user_revokes_her_own_token_only(db):
    user, other = factories.create_user(db, "association"), factories.create_user(db, "association")
    factories.create_token(db, user)
    factories.create_token(db, other)
    mine = accounts.list_tokens(db, user)
    assert len(mine) == 1
    theirs = accounts.list_tokens(db, other)[0]
    with pytest.raises(Exception, match="introuvable"):
        accounts.revoke_token(db, user, theirs.id)
    assert accounts.revoke_token(db, user, mine[0].id).revoked_at is not None
