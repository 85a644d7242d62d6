"""CSRF on every form and every session-authenticated API write, route by route, as each role."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from tests import factories
from tests.conftest import PASSWORD, enrol_totp, totp_code
from web import access

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"WTF_CSRF_ENABLED": True}


def _token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def _login(client, db, role: str) -> None:  # type: ignore[no-untyped-def]
    user = factories.create_user(db, role=role)
    db.commit()
    enrol_totp(db, user.email)
    r = client.post("/connexion", data={"email": user.email, "password": PASSWORD,
                                        "csrf_token": _token(client.get("/connexion").get_data(as_text=True))})
    if r.headers.get("Location", "").startswith("/connexion/code"):
        r = client.post("/connexion/code", data={
            "code": totp_code(key=user.email),
            "csrf_token": _token(client.get("/connexion/code").get_data(as_text=True))})
    assert r.status_code == 302 and not r.headers["Location"].startswith("/connexion"), r.headers


@pytest.mark.parametrize("role", access.ROLES)
def test_every_unsafe_call_without_a_token_is_refused(app, client, db, role):
    _login(client, db, role)
    calls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            args = {name: 999_999 if type(rule._converters[name]).__name__.endswith("IntegerConverter") else "X-nope"
                    for name in rule.arguments}
            for method in sorted(set(rule.methods or ()) & set(UNSAFE)):
                if rule.endpoint in access.ACCESS and access.allowed(rule.endpoint, method, role):
                    calls.append((method, url_for(rule.endpoint, **args)))
    assert calls, f"{role} may change nothing?"
    problems = []
    for method, url in calls:
        api = url.startswith("/api/")
        r = client.open(url, method=method, json={} if api else None, data=None if api else {"x": "1"})
        if r.status_code != 400:
            problems.append(f"{method} {url}: {r.status_code} without a CSRF token")
    assert not problems, "\n".join(problems)
    # The session still works: nothing above logged her out.
    assert client.get("/api/v1/me").status_code == 200
