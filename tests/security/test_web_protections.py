"""Browser-side protections on real responses: cookies, CSRF, headers, caching, error pages."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.conftest import DATA_KEY, PASSWORD, make_config
from web import access


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# --- Cookies -----------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, db):
    user = factories.create_user(db)
    db.commit()
    r = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http on 127.0.0.1


@pytest.fixture
def production_app(database_url, connection, tmp_path):
    import sqlalchemy.orm as so

    from web import create_app

    config = make_config(database_url, PASSERELLE_ENV="production", SECRET_KEY="prod-secret-key",
                         PASSERELLE_DATA_KEY=DATA_KEY, PUBLIC_URL="https://passerelle.example.org",
                         AUDIT_KEY="k" * 64)
    app = create_app(config)
    app.instance_path = str(tmp_path)
    app.extensions["db"].sessionmaker = so.sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield app
    app.extensions["db"].dispose()


def test_production_cookies_are_secure_and_https_is_forced(production_app, db):
    user = factories.create_user(db)
    db.commit()
    client = production_app.test_client()
    # Plain http is sent to https.
    r = client.get("/connexion")
    assert r.status_code in (301, 302) and r.headers["Location"].startswith("https://")
    r = client.post("/connexion", base_url="https://localhost",
                    data={"email": user.email, "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "max-age=" in r.headers["Strict-Transport-Security"]


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_forms_need_the_csrf_token(csrf_on, client, db):
    user = factories.create_user(db)
    db.commit()
    forged = client.post("/connexion", data={"email": user.email, "password": PASSWORD})
    assert forged.status_code == 400
    assert client.get("/bailleur/").status_code == 302  # not logged in
    token = _csrf(client.get("/connexion").get_data(as_text=True))
    r = client.post("/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/bailleur/"
    # Logged in, a forged password change or logout is refused too.
    r = client.post("/compte/mot-de-passe", data={
        "current_password": PASSWORD, "password": "a brand new passphrase", "confirm": "a brand new passphrase"})
    assert r.status_code == 400
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/bailleur/").status_code == 200


def test_session_api_calls_need_the_csrf_header_bearer_calls_do_not(csrf_on, client, db):
    user = factories.create_user(db, role="association")
    token = factories.create_token(db, user)
    db.commit()
    login_token = _csrf(client.get("/connexion").get_data(as_text=True))
    client.post("/connexion", data={"email": user.email, "password": PASSWORD, "csrf_token": login_token})
    page_token = _csrf(client.get("/association/").get_data(as_text=True))
    # Reading with the session needs no token; writing does.
    assert client.get("/api/v1/households").status_code == 200
    forged = client.post("/api/v1/households", json={})
    assert forged.status_code == 400 and forged.json["code"] == 400
    with_header = client.post("/api/v1/households", json={}, headers={"X-CSRFToken": page_token})
    assert with_header.status_code == 422  # past CSRF: the empty body is refused field by field
    # A bearer token is not sent by browsers on their own: no CSRF token needed.
    bearer = factories.create_user(db, role="association")
    bearer_token = factories.create_token(db, bearer)
    db.commit()
    fresh = client.application.test_client()
    r = fresh.post("/api/v1/households", json={}, headers={"Authorization": f"Bearer {bearer_token}"})
    assert r.status_code == 422
    assert token  # the first user's token exists but was not used: the session was


# --- Headers -----------------------------------------------------------------------------


def _policy(header: str) -> dict[str, str]:
    return {part.split()[0]: part.partition(" ")[2] for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.parametrize("path", ["/connexion", "/", "/mentions", "/api/v1/openapi.json", "/nowhere"])
def test_security_headers_on_anonymous_responses(client, path):
    r = client.get(path)
    csp = _policy(r.headers["Content-Security-Policy"])
    assert csp["script-src"] == "'self'"
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in r.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert re.fullmatch(r"[0-9a-f]{16}", r.headers["X-Request-ID"])


@pytest.mark.parametrize("role", ["landlord", "association", "coordinator", "committee", "admin"])
def test_pages_with_personal_data_are_not_cached(client, login_as, role):
    login_as(role)
    home = {"landlord": "/bailleur/", "association": "/association/", "coordinator": "/coordination/",
            "committee": "/comite/", "admin": "/admin/"}[role]
    for path in (home, "/compte/mot-de-passe", "/api/v1/me"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["Cache-Control"] == "no-store", path


def test_api_answers_are_not_cached_even_with_a_token(client, db):
    user = factories.create_user(db, role="landlord")
    token = factories.create_token(db, user)
    db.commit()
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


def test_no_inline_script_in_pages(client, login_as):
    login_as("association")
    for path in ("/association/", "/compte/mot-de-passe", "/compte/double-authentification", "/api/v1/docs"):
        html = client.get(path).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, (path, tag)
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), path
        assert not re.search(r"\son[a-z]+=", html), path  # no inline event handler either


def test_api_docs_page_is_ours_and_csp_clean(client):
    r = client.get("/api/v1/docs")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/static/js/api-docs.js" in html
    assert _policy(r.headers["Content-Security-Policy"])["script-src"] == "'self'"


# --- Error pages -------------------------------------------------------------------------


@pytest.fixture
def crashing_app(app, monkeypatch):
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail /srv/passerelle/app.py line 42")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    # Open to all, or the run-time access check would answer 404 before the crash.
    monkeypatch.setitem(access.ACCESS, "boom", access.OPEN)
    monkeypatch.setitem(access.ACCESS, "api_boom", access.OPEN)
    return app


def test_a_crash_shows_a_page_with_the_request_id_and_no_traceback(crashing_app):
    r = crashing_app.test_client().get("/boom", headers={"X-Request-ID": "support-ticket-1234"})
    html = r.get_data(as_text=True)
    assert r.status_code == 500
    assert "Traceback" not in html and "secret internal detail" not in html and "app.py" not in html
    assert "support-ticket-1234" in html
    assert r.headers["X-Request-ID"] == "support-ticket-1234"


def test_a_crash_in_the_api_is_json_with_the_request_id(crashing_app):
    r = crashing_app.test_client().get("/api/v1/boom")
    assert r.status_code == 500
    body = r.json
    assert body["code"] == 500 and body["request_id"] == r.headers["X-Request-ID"]
    assert "secret internal detail" not in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_a_request_id_that_does_not_look_like_one_is_replaced(client):
    r = client.get("/connexion", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert re.fullmatch(r"[0-9a-f]{16}", r.headers["X-Request-ID"])


def test_an_absurd_page_number_is_not_a_crash(client, login_as):
    login_as("landlord")
    assert client.get("/bailleur/logements?page=170990102077260169216").status_code == 200
    r = client.get("/api/v1/units?page=170990102077260169216")
    assert r.status_code == 422 and "page" in r.json["errors"]["query"]
