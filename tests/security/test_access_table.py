"""Every route against the access table (`web/access.py`), as every role; cross-organisation 404s."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient

from models import Checkpoint, Proposal, Referral, UnitPhoto
from tests import factories
from tests.conftest import AuthActions
from web import access

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PLAYERS = ("anonymous", "landlord", "landlord_b", "association", "association_b", "coordinator", "committee",
           "admin", "referrer")
# URL arguments that do not name a record: with them a GET of an allowed role must succeed.
NEUTRAL_ARGS = {"filename": "css/app.css", "kind": "csv"}
# Valid bodies, so that an API call by another organisation is refused for the record, not the body.
BODIES = {"proposals.decision": {"decision": "accept"}, "units.UnitById": {"rent": 400}}


def _role(player: str) -> str | None:
    return None if player == "anonymous" else player.removesuffix("_b")


def _endpoints(app: Flask) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()})


def test_every_route_is_in_the_access_table(app):
    missing = access.missing(_endpoints(app))
    assert not missing, (
        "These endpoints have no line in web/access.py ACCESS (add one line each, with the roles "
        "that may call them): " + ", ".join(missing)
    )


def test_the_table_names_no_route_that_does_not_exist(app):
    stale = sorted(set(access.ACCESS) - set(_endpoints(app)))
    assert not stale, "web/access.py ACCESS names endpoints that no longer exist: " + ", ".join(stale)


def _placeholder(converter: str) -> object:
    return 999_999 if converter.endswith("IntegerConverter") else "X-nope"


def _calls(app: Flask) -> list[tuple[str, str, str, bool]]:
    """(endpoint, method, url, names_a_record) for every route and method of the app."""
    calls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            args: dict[str, object] = {}
            record = False
            for name in rule.arguments:
                if name in NEUTRAL_ARGS:
                    args[name] = NEUTRAL_ARGS[name]
                else:
                    args[name] = _placeholder(type(rule._converters[name]).__name__)
                    record = True
            url = url_for(rule.endpoint, **args)
            for method in sorted(set(rule.methods or ()) & set(METHODS)):
                calls.append((rule.endpoint, method, url, record))
    return calls


def _client_for(app: Flask, db, player: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    client = app.test_client()
    if player != "anonymous":
        user = factories.create_user(db, role=_role(player))
        db.commit()
        response = AuthActions(client, db).login(user)
        assert response.status_code == 302, (player, response.status_code)
    return client


@pytest.mark.parametrize("player", PLAYERS)
def test_every_route_answers_as_the_table_says(app, db, player):
    client = _client_for(app, db, player)
    role = _role(player)
    problems = []
    for endpoint, method, url, record in _calls(app):
        if endpoint not in access.ACCESS:
            continue  # reported by test_every_route_is_in_the_access_table
        api = url.startswith("/api/")
        if access.allowed(endpoint, method, role):
            # Only a GET that names no record can be checked from outside without side effects.
            if method != "GET" or record:
                continue
            response = client.get(url)
            response.close()
            if response.status_code in (401, 403, 404):
                problems.append(f"{method} {url} ({endpoint}): allowed by the table, answered {response.status_code}")
            continue
        response = client.open(url, method=method, json={} if api and method != "GET" else None)
        response.close()
        if role is None:
            expected = "401" if api else "302 to /connexion"
            ok = response.status_code == 401 if api else (
                response.status_code == 302 and response.headers["Location"].startswith("/connexion"))
        else:
            expected = "404"
            ok = response.status_code == 404
        if not ok:
            problems.append(f"{method} {url} ({endpoint}): denied by the table, expected {expected}, "
                            f"answered {response.status_code}")
    assert not problems, f"as {player}:\n" + "\n".join(problems)


# --- Another organisation's records answer 404, exactly like missing ones -------------------


@pytest.fixture
def two_sides(db):  # type: ignore[no-untyped-def]
    """Landlord A's unit and association A's household, in a proposal between them; B's users."""
    landlord_a, landlord_b = (factories.create_organisation(db, "landlord") for _ in range(2))
    association_a, association_b = (factories.create_organisation(db, "association") for _ in range(2))
    draft_unit = factories.create_unit(db, landlord=landlord_a, status="draft")
    unit = factories.create_unit(db, landlord=landlord_a)
    household = factories.create_household(db, association=association_a, status="draft",
                                           consent_recorded_on=None)
    proposed = factories.create_household(db, association=association_a)
    proposal = factories.create_proposal(db, unit=unit, household=proposed)
    # Landlord A's referral to association A, and a follow-up checkpoint of A's rehousing.
    referral = Referral(landlord_id=landlord_a.id, association_id=association_a.id, landlord_reference="BAIL-1",
                        department="59", adults=1, consent_on=dt.date(2026, 11, 2))
    checkpoint = Checkpoint(proposal_id=proposal.id, household_id=proposed.id, association_id=association_a.id,
                            months=3, lease_on=dt.date(2026, 11, 2), due_on=dt.date(2027, 2, 2))
    # A photo of the proposed unit: its landlord's, and the association's whose household it is proposed to.
    photo = UnitPhoto(unit_id=unit.id, caption="Séjour", content=b"\xff\xd8\xff\xd9", width=1, height=1)
    db.add_all([referral, checkpoint, photo])
    users = {
        "landlord": factories.create_user(db, role="landlord", organisation=landlord_a),
        "landlord_b": factories.create_user(db, role="landlord", organisation=landlord_b),
        "association": factories.create_user(db, role="association", organisation=association_a),
        "association_b": factories.create_user(db, role="association", organisation=association_b),
    }
    db.commit()
    return {"unit": draft_unit, "household": household, "proposal": proposal, "referral": referral,
            "checkpoint": checkpoint, "photo": photo, "users": users}


def _record_for(endpoint: str, rule: str, sides: dict) -> tuple[str, str] | None:  # type: ignore[type-arg]
    """(argument name, public id) of the record this route names, if it belongs to one side."""
    if "unit_id" in rule:
        return "unit_id", sides["unit"].public_id
    if "proposal_id" in rule and "run_id" not in rule:
        return "proposal_id", sides["proposal"].public_id
    if "referral_id" in rule:
        return "referral_id", sides["referral"].public_id
    if "photo_id" in rule:
        return "photo_id", sides["photo"].public_id
    if "checkpoint_id" in rule:
        return "checkpoint_id", sides["checkpoint"].public_id
    if "public_id" in rule:
        if "orientations" in rule:
            return "public_id", sides["referral"].public_id
        if "suivi" in rule:
            return "public_id", sides["checkpoint"].public_id
        if "propositions" in rule or endpoint.startswith("proposals."):
            return "public_id", sides["proposal"].public_id
        return "public_id", sides["household"].public_id
    return None


@pytest.mark.parametrize("side", ["landlord", "association"])
def test_other_organisations_records_answer_404(app, db, two_sides, side):
    owner = app.test_client()
    AuthActions(owner, db).login(two_sides["users"][side])
    other = app.test_client()
    AuthActions(other, db).login(two_sides["users"][side + "_b"])
    checked, problems = [], []
    with app.test_request_context():
        routes = [(r.endpoint, r.rule, sorted(set(r.methods or ()) & set(METHODS))) for r in app.url_map.iter_rules()]
    for endpoint, rule, methods in routes:
        found = _record_for(endpoint, rule, two_sides)
        if found is None or not access.allowed(endpoint, "GET" if "GET" in methods else methods[0], side):
            continue
        name, public_id = found
        if len([a for a in rule.split("<") if ">" in a]) != 1:
            continue
        with app.test_request_context():
            url = url_for(endpoint, **{name: public_id})
        for method in methods:
            if not access.allowed(endpoint, method, side):
                continue
            api = url.startswith("/api/")
            body = BODIES.get(endpoint, {}) if api and method != "GET" else None
            r = other.open(url, method=method, json=body)
            with app.test_request_context():
                missing_url = url_for(endpoint, **{name: "X-nope"})
            # The answer must be exactly the one for a record that does not exist: 404, or
            # the same refusal of the body when the API checks it first.
            expected = 404 if method == "GET" else other.open(missing_url, method=method, json=body).status_code
            checked.append(f"{method} {url}")
            if r.status_code != expected or r.status_code in (200, 201, 202, 204):
                problems.append(f"{method} {url} ({endpoint}) as the other {side}: {r.status_code}, "
                                f"expected {expected} as for a missing record")
            if method == "GET":
                mine = owner.get(url)
                if mine.status_code == 404:
                    problems.append(f"GET {url} ({endpoint}) as the owner: 404")
    assert checked, "no route names a record of this side"
    assert not problems, "\n".join(problems)
    # Nothing the other organisation tried changed anything.
    db.expire_all()
    assert two_sides["unit"].status == "draft" and two_sides["household"].status == "draft"
    assert db.get(Proposal, two_sides["proposal"].id).status == "pending"
