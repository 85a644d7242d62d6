"""The access table enforced at run time (`web.access.enforce`), behind the blueprints' own guards.

`test_access_table.py` proves that the guards and the table agree on every route. These tests
prove the second lock: a route the table does not name is refused to everyone, and a role the
table does not allow is refused even where no guard stands (a route outside every blueprint,
or a blueprint whose guard has been lost).
"""

from __future__ import annotations

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from tests import factories
from tests.conftest import AuthActions, enrol_totp
from tests.querycount import count_queries
from web import access

ROLES = ("landlord", "association", "coordinator", "committee", "admin")


def _whoami() -> str:
    return f"reached {request.endpoint}"


def _logged_in(app: Flask, db, role: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    user = factories.create_user(db, role=role)
    db.commit()
    assert AuthActions(client, db).login(user).status_code == 302
    return client


def _token(db, role: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    user = factories.create_user(db, role=role)
    db.commit()
    enrol_totp(db, user.email)  # roles that need a second factor can use the API only with one
    token = factories.create_token(db, user)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def unguarded(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Routes added outside every blueprint (no guard at all), some with a line in the table."""
    app.add_url_rule("/essai/sans-ligne", "test_unlisted", _whoami)
    app.add_url_rule("/api/v1/essai-sans-ligne", "test_api_unlisted", _whoami)
    app.add_url_rule("/essai/bailleurs", "test_landlords_only", _whoami)
    app.add_url_rule("/api/v1/essai-coordination", "test_api_coordinators", _whoami, methods=["GET", "POST"])
    monkeypatch.setitem(access.ACCESS, "test_landlords_only", access.LANDLORD)
    monkeypatch.setitem(access.ACCESS, "test_api_coordinators",
                        {"GET": access.COORDINATOR | access.COMMITTEE, "POST": access.COORDINATOR})
    return app


def test_a_route_without_a_line_in_the_table_is_refused_to_everyone(unguarded, db):
    anonymous = unguarded.test_client()
    assert anonymous.get("/essai/sans-ligne").status_code == 404
    assert anonymous.get("/api/v1/essai-sans-ligne").status_code == 404
    for role in ROLES:
        client = _logged_in(unguarded, db, role)
        r = client.get("/essai/sans-ligne")
        assert r.status_code == 404 and b"reached" not in r.data, role
        assert client.get("/api/v1/essai-sans-ligne").status_code == 404, role
        assert unguarded.test_client().get("/api/v1/essai-sans-ligne", headers=_token(db, role)).status_code == 404


def test_a_page_refuses_the_roles_its_line_does_not_name_without_any_guard(unguarded, db):
    anonymous = unguarded.test_client().get("/essai/bailleurs")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/connexion")
    assert "next=" in anonymous.headers["Location"]
    for role in ROLES:
        r = _logged_in(unguarded, db, role).get("/essai/bailleurs")
        if role == "landlord":
            assert r.status_code == 200 and r.get_data(as_text=True) == "reached test_landlords_only"
        else:
            assert r.status_code == 404 and b"reached" not in r.data, role


def test_the_api_refuses_by_method_and_role_with_bearer_tokens(unguarded, db):
    client = unguarded.test_client()
    url = "/api/v1/essai-coordination"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    coordinator, committee, landlord = (_token(db, role) for role in ("coordinator", "committee", "landlord"))
    assert client.get(url, headers=coordinator).get_data(as_text=True) == "reached test_api_coordinators"
    assert client.post(url, headers=coordinator).status_code == 200
    assert client.get(url, headers=committee).status_code == 200
    assert client.post(url, headers=committee).status_code == 404  # GET only for the committee
    assert client.get(url, headers=landlord).status_code == 404
    assert client.post(url, headers=landlord).status_code == 404


def test_the_api_keeps_working_with_bearer_tokens(app, db):
    """The real API, called with a token (no session cookie), passes the run-time check."""
    client = app.test_client()
    assert client.get("/api/v1/me", headers=_token(db, "committee")).status_code == 200
    stats = client.get("/api/v1/stats?quarter=2026-Q4&departments=59", headers=_token(db, "committee"))
    assert stats.status_code == 200
    assert client.get("/api/v1/units", headers=_token(db, "landlord")).status_code == 200
    assert client.get("/api/v1/units", headers=_token(db, "association")).status_code == 404
    assert client.get("/api/v1/units").status_code == 401


def _without_guard(app: Flask, blueprint: str) -> None:
    """Drop the blueprint's `guard(...)` hook, as if someone had forgotten it."""
    hooks = app.before_request_funcs[blueprint]
    kept = [f for f in hooks if f.__qualname__ != "guard.<locals>._check"]
    assert len(kept) == len(hooks) - 1, "the blueprint's guard was not found"
    app.before_request_funcs[blueprint] = kept


def test_an_audience_without_its_guard_is_still_closed_to_other_roles(app, db):
    _without_guard(app, "landlords")
    anonymous = app.test_client().get("/bailleur/logements")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/connexion")
    for role in ROLES:
        r = _logged_in(app, db, role).get("/bailleur/logements")
        assert r.status_code == (200 if role == "landlord" else 404), role


def test_the_check_is_the_last_request_hook(app):
    """It relies on the caller resolved by the hooks before it (session user, API token)."""
    assert app.before_request_funcs[None][-1] is access.enforce


def test_the_check_costs_no_query(app, db, connection):
    page, api = _logged_in(app, db, "landlord"), _token(db, "landlord")

    def counts() -> list[int]:
        result = []
        for call in (lambda: page.get("/bailleur/logements"), lambda: page.get("/association/"),
                     lambda: app.test_client().get("/api/v1/units", headers=api),
                     lambda: app.test_client().get("/api/v1/households", headers=api)):
            with count_queries(connection) as queries:
                call().close()
            result.append(queries.count)
        return result

    # A token's first use writes its last_used_at (once per 5 minutes): not the check's cost.
    counts()
    with_check = counts()
    app.before_request_funcs[None].remove(access.enforce)
    without_check = counts()
    assert with_check == without_check


@pytest.mark.parametrize(("method", "role", "expected"), [
    ("HEAD", "landlord", True), ("HEAD", "association", False),
    ("OPTIONS", "landlord", True), ("OPTIONS", "coordinator", True), ("OPTIONS", "committee", False),
])
def test_head_and_options_follow_the_get_and_any_method(method, role, expected):
    assert access.allowed("units.Units", method, role) is expected
