"""Issue 13, finding 8: NUL bytes, absurd nesting and oversized ids are refused at the edge, never a 500;
SQL parameters never reach an error message or the log."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
from flask import url_for

from models import crypto
from tests import factories
from tests.conftest import DATA_KEY
from tests.security.test_access_table import METHODS, _client_for

PLAYERS = ("anonymous", "landlord", "association", "coordinator", "committee", "admin")
NUL_FORM = {"reference": "REF\x00-1", "text": "a\x00b", "email": "x\x00@example.org", "quarter": "2026-Q4\x00"}


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def _nul_calls(app):
    """(endpoint, method, url) for every route and method, with a NUL byte in each text argument."""
    calls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            args = {}
            for name in rule.arguments:
                converter = rule._converters[name]
                if type(converter).__name__.endswith("IntegerConverter"):
                    args[name] = 1
                elif hasattr(converter, "items"):  # <any(csv, xlsx):kind>: the NUL goes in the query
                    args[name] = sorted(converter.items)[0]
                else:
                    args[name] = "X\x00nope"
            url = url_for(rule.endpoint, **args)
            for method in sorted(set(rule.methods or ()) & set(METHODS)):
                calls.append((rule.endpoint, method, url))
    return calls


@pytest.mark.parametrize("player", PLAYERS)
def test_every_route_refuses_a_nul_byte_with_400(app, db, player):
    client = _client_for(app, db, player)
    wrong = []
    for endpoint, method, url in _nul_calls(app):
        answers = [client.open(url + ("&" if "?" in url else "?") + "q=a%00b", method=method)]
        if method != "GET":
            answers.append(client.open(url.replace("%00", ""), method=method, data=NUL_FORM))
            answers.append(client.open(url.replace("%00", ""), method=method,
                                       json={"reference": "R\x00", "items": [{"text": "\x00"}]}))
        for n, response in enumerate(answers):
            if response.status_code != 400:
                wrong.append((endpoint, method, n, response.status_code))
    assert wrong == []


def test_a_nul_in_a_household_reference_is_refused(client, db, login_as):
    login_as("association")
    response = client.post("/api/v1/households", data=json.dumps({"reference": "H\x00-1", "adults": 1}),
                           content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == 400


def test_json_nested_1000_deep_is_refused_without_a_crash(client, db, login_as):
    login_as("association")
    deep = '{"reference": ' + "[" * 1000 + "]" * 1000 + "}"
    response = client.post("/api/v1/households", data=deep, content_type="application/json")
    assert response.status_code == 400
    # 32 levels are still parsed (and refused by the schema for what they are, not as malformed).
    ok = '{"reference": ' + "[" * 31 + "]" * 31 + "}"
    assert client.post("/api/v1/households", data=ok, content_type="application/json").status_code == 422


def test_an_oversized_id_answers_404(client, db, login_as):
    committee = factories.create_organisation(db, "committee", departments=["59"])
    login_as("committee", organisation=committee)
    huge = "9" * 30
    assert client.post(f"/comite/actions/{huge}/statut", data={"status": "done"}).status_code == 404
    assert client.post(f"/comite/actions/{2**31}/statut", data={"status": "done"}).status_code == 404


def test_database_errors_never_carry_the_parameters(app, caplog):
    engine = app.extensions["db"].engine
    secret = "income-1380-secret"
    with pytest.raises(sa_exc.DBAPIError) as raised, engine.connect() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
    assert secret not in str(raised.value)
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() >= logging.WARNING
