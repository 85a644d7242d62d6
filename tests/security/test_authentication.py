"""Authentication: password policy, account lock, rate limits, second factor, session lifetimes."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
import sqlalchemy as sa

from models import AuditEvent, User
from services import accounts
from services.errors import ValidationError
from tests import factories
from tests.conftest import PASSWORD, TOTP_SECRET, totp_code

BAD = "Adresse e-mail ou mot de passe incorrect."


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _actions(db, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- Password policy ---------------------------------------------------------------------


@pytest.mark.parametrize("password", [
    "motdepasse123456", "azertyuiop1234", "Password1234!", "iloveyou12345678", "aaaaaaaaaaaaaaaa",
    "qwertyuiop123", "1234567890123",
])
def test_common_passwords_are_refused(password):
    with pytest.raises(ValidationError) as exc:
        accounts.hash_password(password)
    assert exc.value.field == "password"
    assert "trop courant" in str(exc.value.message)


def test_bundled_list_is_real_and_small():
    from services.accounts import _COMMON_PASSWORDS_FILE, _common_passwords

    assert len(_common_passwords()) > 10_000
    assert _COMMON_PASSWORDS_FILE.stat().st_size < 1_000_000
    assert "motdepasse123456" in _common_passwords()


@pytest.mark.parametrize("password", ["correct horse battery staple", "Le chat dort sur 3 coussins",
                                      ("sept vaches grises " * 7)[:128]])
def test_reasonable_passwords_pass(password):
    assert accounts.hash_password(password).startswith("$argon2id$")


def test_password_change_page_refuses_a_common_password(client, login_as):
    login_as("landlord")
    r = client.post("/compte/mot-de-passe", data={
        "current_password": PASSWORD, "password": "motdepasse123456", "confirm": "motdepasse123456"})
    assert r.status_code == 200
    assert "Ce mot de passe est trop courant" in _text(r)


# --- Account lock ------------------------------------------------------------------------


def test_five_failures_lock_the_account_with_the_same_answer(client, auth, db):
    user = factories.create_user(db)
    db.commit()
    for _ in range(accounts.MAX_FAILURES):
        r = auth.login(user, "wrong password, wrong again")
        assert BAD in _text(r)
    db.expire_all()
    assert user.locked_until is not None
    lock_minutes = (user.locked_until - accounts.utcnow()).total_seconds() / 60
    assert 14 < lock_minutes <= 15
    # Even the right password is refused now, with exactly the same message.
    r = auth.login(user)
    assert r.status_code == 200 and BAD in _text(r)
    assert client.get("/bailleur/").status_code == 302
    # Audited: the lock, and the refused login, without any personal data.
    locks = _actions(db, "user.lock")
    assert [(e.object_type, e.object_id) for e in locks] == [("user", str(user.id))]
    assert _actions(db, "login")[-1].outcome == "denied"


def test_lock_expires_and_failures_outside_the_window_do_not_add_up(db):
    user = factories.create_user(db)
    t0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    for i in range(accounts.MAX_FAILURES - 1):
        assert accounts.authenticate(db, user.email, "nope nope nope", now=t0 + dt.timedelta(minutes=i)) is None
    # The 5th failure comes after the window: the count starts again, no lock.
    later = t0 + dt.timedelta(minutes=40)
    assert accounts.authenticate(db, user.email, "nope nope nope", now=later) is None
    assert user.locked_until is None and user.failed_logins == 1
    for i in range(accounts.MAX_FAILURES - 1):
        accounts.authenticate(db, user.email, "nope nope nope", now=later + dt.timedelta(seconds=i))
    assert user.locked_until is not None
    assert accounts.authenticate(db, user.email, PASSWORD, now=later + dt.timedelta(minutes=5)) is None
    # After 15 minutes the right password works again and the counter is cleared.
    assert accounts.authenticate(db, user.email, PASSWORD, now=later + dt.timedelta(minutes=16)) is user
    assert user.failed_logins == 0 and user.locked_until is None


# --- Rate limits -------------------------------------------------------------------------


@pytest.fixture
def limited(app_config):
    app_config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")


def test_login_is_rate_limited_per_account(limited, app, db):
    user = factories.create_user(db)
    db.commit()
    codes = []
    # Five tries from five different addresses on the same account: the sixth is refused.
    for i in range(6):
        c = app.test_client()
        r = c.post("/connexion", data={"email": user.email.upper(), "password": "wrong password xyz"},
                   environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"})
        codes.append(r.status_code)
    assert codes[:5] == [200] * 5
    assert codes[5] == 429


def test_login_is_rate_limited_per_ip(limited, app, db):
    codes = []
    c = app.test_client()
    for i in range(11):
        r = c.post("/connexion", data={"email": f"someone{i}@example.org", "password": "wrong password xyz"},
                   environ_base={"REMOTE_ADDR": "10.9.9.9"})
        codes.append(r.status_code)
    assert codes[:10] == [200] * 10
    assert codes[10] == 429
    # Another address is not affected.
    other = app.test_client().post("/connexion", data={"email": "x@example.org", "password": "y" * 12},
                                   environ_base={"REMOTE_ADDR": "10.9.9.10"})
    assert other.status_code == 200


@pytest.fixture
def redis_url(tmp_path):  # type: ignore[no-untyped-def]
    """A private redis-server on a free port, stopped after the test."""
    import shutil
    import socket
    import subprocess
    import time

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",  # noqa: S603
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def redis_limited(app_config, redis_url):  # type: ignore[no-untyped-def]
    app_config.update(RATELIMIT_ENABLED=True, REDIS_URL=redis_url, RATELIMIT_STORAGE_URI="memory://")


def test_rate_limits_are_kept_in_redis_when_configured(redis_limited, redis_url, app, db):
    """With REDIS_URL, counters live in Redis: every worker process shares them."""
    import redis

    assert app.config["RATELIMIT_STORAGE_URI"] == redis_url
    user = factories.create_user(db)
    db.commit()
    codes = [app.test_client().post("/connexion", data={"email": user.email, "password": "wrong password xyz"},
                                    environ_base={"REMOTE_ADDR": f"10.1.0.{i}"}).status_code for i in range(6)]
    assert codes == [200] * 5 + [429]
    store = redis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() for k in store.keys("*")]
    finally:
        store.close()
    assert any("login-account:" + user.email in k for k in keys), keys


def test_code_guessing_on_the_enrolment_page_is_rate_limited(limited, client, login_as):
    login_as("landlord")
    codes = [client.post("/compte/double-authentification", data={"code": "000000"}).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


# --- Second factor -----------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(accounts.TOTP_REQUIRED_ROLES))
def test_required_roles_must_enrol_before_anything_else(client, db, role):
    user = factories.create_user(db, role=role)
    db.commit()
    r = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"] == "/compte/double-authentification"
    home = {"coordinator": "/coordination/", "committee": "/comite/", "admin": "/admin/"}[role]
    for path in (home, "/compte/mot-de-passe", "/accueil"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"] == "/compte/double-authentification", path
    assert client.get("/api/v1/me").status_code == 403
    # The enrolment page shows the secret as text and as a server-made QR code (SVG, no script).
    page = client.get("/compte/double-authentification")
    html = _text(page)
    db.expire_all()
    secret = user.totp_secret
    assert secret and " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in html
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+"', html)
    # A wrong code is refused; the right one enrols and opens the home page.
    r = client.post("/compte/double-authentification", data={"code": "000000"})
    assert "Code incorrect" in _text(r)
    r = client.post("/compte/double-authentification", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302 and r.headers["Location"] == home
    assert client.get(home).status_code == 200
    db.expire_all()
    assert user.totp_confirmed_at is not None
    assert [e.outcome for e in _actions(db, "user.totp_enrol")] == ["failure", "success"]


def test_login_asks_for_the_code_after_the_password(client, db):
    user = factories.create_user(db, role="coordinator")
    user.totp_secret, user.totp_confirmed_at = TOTP_SECRET, accounts.utcnow()
    db.commit()
    r = client.post("/connexion?next=/coordination/", data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"] == "/connexion/code"
    # Not logged in yet.
    assert client.get("/coordination/").status_code == 302
    r = client.post("/connexion/code", data={"code": "123456"})
    assert r.status_code == 200 and "Code incorrect." in _text(r)
    code = totp_code(TOTP_SECRET, user.email)
    r = client.post("/connexion/code", data={"code": code})
    assert r.headers["Location"] == "/coordination/"
    assert client.get("/coordination/").status_code == 200
    # The same code cannot be replayed for another login.
    other = client.application.test_client()
    other.post("/connexion", data={"email": user.email, "password": PASSWORD})
    r = other.post("/connexion/code", data={"code": code})
    assert r.status_code == 200 and "Code incorrect." in _text(r)


def test_code_step_without_the_password_step_is_refused(client):
    r = client.post("/connexion/code", data={"code": "123456"})
    assert r.status_code == 302 and r.headers["Location"] == "/connexion"


def test_code_step_expires(client, db, monkeypatch):
    import web.requests

    user = factories.create_user(db, role="admin")
    user.totp_secret, user.totp_confirmed_at = TOTP_SECRET, accounts.utcnow()
    db.commit()
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    now = web.requests.clock()
    monkeypatch.setattr(web.requests, "clock", lambda: now + 6 * 60)
    r = client.post("/connexion/code", data={"code": totp_code(TOTP_SECRET, user.email)})
    assert r.headers["Location"] == "/connexion"
    assert client.get("/admin/").status_code == 302


def test_wrong_codes_lock_the_account(client, db):
    user = factories.create_user(db, role="committee")
    user.totp_secret, user.totp_confirmed_at = TOTP_SECRET, accounts.utcnow()
    db.commit()
    client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    for _ in range(accounts.MAX_FAILURES):
        r = client.post("/connexion/code", data={"code": "000000"})
    assert r.status_code == 302 and r.headers["Location"] == "/connexion"
    db.expire_all()
    assert accounts.is_locked(user)
    r = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 200 and BAD in _text(r)


def test_totp_secret_is_ciphertext_in_the_database(db, connection):
    user = factories.create_user(db, role="admin")
    accounts.start_totp_enrolment(db, user)
    db.flush()
    raw = connection.execute(sa.text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user.id}).scalar()
    assert raw and user.totp_secret not in raw and raw.startswith("gAAAA")  # a Fernet token


def test_optional_second_factor_for_a_landlord(client, login_as, db):
    user = login_as("landlord")
    page = client.get("/compte/double-authentification")
    assert page.status_code == 200
    db.expire_all()
    secret = user.totp_secret
    code = totp_code(secret, user.email)
    assert client.post("/compte/double-authentification", data={"code": code}).status_code == 302
    client.post("/deconnexion")
    r = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"] == "/connexion/code"
    r = client.post("/connexion/code", data={"code": totp_code(secret, user.email)})
    assert r.headers["Location"] == "/bailleur/"
    # She may turn it off again with a current code.
    r = client.post("/compte/double-authentification", data={"code": totp_code(secret, user.email)})
    assert r.status_code == 302
    db.expire_all()
    assert not accounts.has_totp(user) and user.totp_secret is None


def test_required_second_factor_cannot_be_turned_off(client, login_as, db):
    user = login_as("coordinator")
    r = client.post("/compte/double-authentification", data={"code": totp_code(TOTP_SECRET, user.email)})
    assert r.status_code == 200
    db.expire_all()
    assert accounts.has_totp(user)


# --- Sessions ----------------------------------------------------------------------------


def test_idle_timeout(client, login_as, monkeypatch):
    import web.requests

    login_as("association")
    now = web.requests.clock()
    monkeypatch.setattr(web.requests, "clock", lambda: now + 29 * 60)
    assert client.get("/association/").status_code == 200
    # Activity moved the idle deadline: 29 more minutes are fine, 31 are not.
    monkeypatch.setattr(web.requests, "clock", lambda: now + 58 * 60)
    assert client.get("/association/").status_code == 200
    monkeypatch.setattr(web.requests, "clock", lambda: now + 89 * 60 + 1)
    r = client.get("/association/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/connexion")


def test_absolute_timeout(client, login_as, monkeypatch):
    import web.requests

    login_as("landlord")
    start = web.requests.clock()
    t = start
    # Active every 20 minutes: still logged in at 11h40, out after 12 hours.
    while t < start + 11 * 3600 + 40 * 60:
        t += 20 * 60
        monkeypatch.setattr(web.requests, "clock", lambda t=t: t)
        assert client.get("/bailleur/").status_code == 200
    monkeypatch.setattr(web.requests, "clock", lambda: start + 12 * 3600 + 1)
    assert client.get("/bailleur/").status_code == 302


def test_disabling_an_account_kills_its_captured_cookie(app, client, login_as, db):
    user = login_as("landlord")
    captured = client.get_cookie("session").value
    assert client.get("/bailleur/").status_code == 200
    accounts.set_active(db, db.get(User, user.id), False, actor=None)
    db.commit()
    replay = app.test_client()
    replay.set_cookie("session", captured, domain="localhost")
    assert replay.get("/bailleur/").status_code == 302
    assert client.get("/bailleur/").status_code == 302
    # Enabling the account again does not revive the old cookie.
    accounts.set_active(db, db.get(User, user.id), True, actor=None)
    db.commit()
    assert replay.get("/bailleur/").status_code == 302


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/evil.example",
    "javascript:alert(1)", "/\r\nLocation: https://evil.example", "evil.example", "/\t/evil.example",
])
def test_next_never_leaves_the_site(client, db, target):
    user = factories.create_user(db)
    db.commit()
    r = client.post("/connexion", query_string={"next": target}, data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"] == "/bailleur/"


def test_next_is_kept_through_the_code_step(client, db):
    user = factories.create_user(db, role="committee")
    user.totp_secret, user.totp_confirmed_at = TOTP_SECRET, accounts.utcnow()
    db.commit()
    client.post("/connexion", query_string={"next": "/compte/mot-de-passe"},
                data={"email": user.email, "password": PASSWORD})
    r = client.post("/connexion/code", data={"code": totp_code(TOTP_SECRET, user.email)})
    assert r.headers["Location"] == "/compte/mot-de-passe"
