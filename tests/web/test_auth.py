"""Login, logout, password change, session invalidation, bearer tokens."""

from __future__ import annotations

import re

import pytest

from services import accounts
from services.errors import ValidationError
from tests import factories
from tests.conftest import PASSWORD

HOMES = {"landlord": "/bailleur/", "association": "/association/", "coordinator": "/coordination/",
         "committee": "/comite/", "admin": "/admin/"}


@pytest.mark.parametrize("role", sorted(HOMES))
def test_each_role_lands_on_its_home(client, auth, db, role):
    user = factories.create_user(db, role=role)
    db.commit()
    response = auth.login(user)
    assert response.status_code == 302
    assert response.headers["Location"] == HOMES[role]
    assert client.get(HOMES[role]).status_code == 200


def test_other_audiences_pages_do_not_exist_for_a_role(client, login_as):
    login_as("landlord")
    assert client.get("/association/").status_code == 404
    assert client.get("/admin/").status_code == 404


def test_anonymous_is_sent_to_login(client):
    response = client.get("/bailleur/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")


def test_unknown_email_and_wrong_password_get_the_same_answer(client, auth, db):
    user = factories.create_user(db)
    db.commit()
    wrong_password = auth.login(user, "not the right password at all")
    unknown = auth.login("nobody@example.org", PASSWORD)
    assert wrong_password.status_code == unknown.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in wrong_password.get_data(as_text=True)
    # Apart from the e-mail typed back and the (time-stamped) CSRF token, the pages are equal.
    def page(r, email):  # type: ignore[no-untyped-def]
        text = r.get_data(as_text=True).replace(email, "EMAIL")
        return re.sub(r'(csrf-token" content|name="csrf_token" type="hidden" value)="[^"]*"', "", text)

    assert page(wrong_password, user.email) == page(unknown, "nobody@example.org")


def test_disabled_account_cannot_log_in(client, auth, db):
    user = factories.create_user(db)
    accounts.set_active(db, user, False, actor=None)
    db.commit()
    assert auth.login(user).status_code == 200
    assert client.get("/bailleur/").status_code == 302


def test_next_only_to_local_paths(client, db):
    user = factories.create_user(db)
    db.commit()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = client.post(f"/connexion?next={target}", data={"email": user.email, "password": PASSWORD})
        assert r.headers["Location"] == "/bailleur/"
        client.post("/deconnexion")
    r = client.post("/connexion?next=/compte/mot-de-passe",
                    data={"email": user.email, "password": PASSWORD})
    assert r.headers["Location"] == "/compte/mot-de-passe"


def test_logout_kills_every_earlier_session_cookie(app, client, auth, db):
    user = factories.create_user(db)
    db.commit()
    auth.login(user)
    other = app.test_client()
    other.post("/connexion", data={"email": user.email, "password": PASSWORD})
    captured = client.get_cookie("session").value
    assert client.get("/bailleur/").status_code == 200
    auth.logout()
    # The cookie captured before logout, replayed, is refused; so is the other browser's.
    replay = app.test_client()
    replay.set_cookie("session", captured, domain="localhost")
    assert replay.get("/bailleur/").status_code == 302
    assert other.get("/bailleur/").status_code == 302


def test_password_change_ends_other_sessions(app, client, auth, db):
    user = factories.create_user(db)
    db.commit()
    auth.login(user)
    other = app.test_client()
    other.post("/connexion", data={"email": user.email, "password": PASSWORD})
    new = "another long passphrase 2026"
    r = client.post("/compte/mot-de-passe",
                    data={"current_password": PASSWORD, "password": new, "confirm": new})
    assert r.status_code == 302
    assert client.get("/bailleur/").status_code == 200  # this browser stays in
    assert other.get("/bailleur/").status_code == 302
    client.post("/deconnexion")
    assert auth.login(user, new).status_code == 302


def test_password_change_refuses_wrong_current_password(client, login_as):
    login_as("landlord")
    new = "another long passphrase 2026"
    r = client.post("/compte/mot-de-passe",
                    data={"current_password": "wrong wrong wrong", "password": new, "confirm": new})
    assert r.status_code == 200
    assert "Le mot de passe actuel est incorrect." in r.get_data(as_text=True)


@pytest.mark.parametrize("password", ["short", "x" * 129])
def test_password_policy(password):
    with pytest.raises(ValidationError) as exc:
        accounts.hash_password(password)
    assert exc.value.field == "password"


def test_password_is_argon2id(db):
    user = factories.create_user(db)
    assert user.password_hash.startswith("$argon2id$")


def test_bearer_token(client, db):
    user = factories.create_user(db, role="association")
    token = factories.create_token(db, user)
    db.commit()
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.json["email"] == user.email and r.json["role"] == "association"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    # A disabled account's tokens stop working at once.
    accounts.set_active(db, user, False, actor=None)
    db.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_api_errors_are_json(client):
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.json["code"] == 401 and "status" in r.json
