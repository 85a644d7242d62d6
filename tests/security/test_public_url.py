"""Issue 13 (2, 11): e-mail links never come from the request's host; the demo refuses production."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from models import OutboxEmail
from tests import factories
from web import create_app
from web.cli import main
from web.config import ConfigurationError

EVIL = "evil.example"


@pytest.fixture
def app_config():  # type: ignore[no-untyped-def]
    # Behind one proxy, whose X-Forwarded-Host is believed: the worst case for a Host-built link.
    return {"PROXIES": 1, "SERVER_NAME": None}


def _decide_with_forged_host(client, db, path: str, body: dict, user) -> None:  # type: ignore[no-untyped-def]
    token = factories.create_token(db, user)
    db.commit()
    r = client.post("/api/v1" + path, json=body, headers={
        "Authorization": f"Bearer {token}", "Host": EVIL, "X-Forwarded-Host": EVIL})
    assert r.status_code == 200, r.json


def test_email_links_use_the_configured_address_never_the_request_host(client, db, app):
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    proposal = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord),
                                         household=factories.create_household(db, association=association))
    factories.create_user(db, "association", organisation=association)
    factories.create_user(db, "landlord", organisation=landlord)
    referent = factories.create_user(db, "association", organisation=association)
    _decide_with_forged_host(client, db, f"/proposals/{proposal.public_id}/decision",
                             {"decision": "accept"}, referent)
    db.expire_all()
    mails = list(db.scalars(sa.select(OutboxEmail)))
    assert mails, "the landlord should have been e-mailed"
    assert all(EVIL not in m.body for m in mails)
    # Outside production the links start with the fixed development address.
    assert all(app.config["DEVELOPMENT_PUBLIC_URL"] + "/" in m.body for m in mails)


def test_a_configured_public_url_is_what_links_use(client, db, app):
    app.config["PUBLIC_URL"] = "https://passerelle.example.org"
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    proposal = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord),
                                         household=factories.create_household(db, association=association))
    factories.create_user(db, "landlord", organisation=landlord)
    referent = factories.create_user(db, "association", organisation=association)
    _decide_with_forged_host(client, db, f"/proposals/{proposal.public_id}/decision",
                             {"decision": "accept"}, referent)
    db.expire_all()
    bodies = [m.body for m in db.scalars(sa.select(OutboxEmail))]
    assert bodies and all("https://passerelle.example.org/" in b and EVIL not in b for b in bodies)


def _production_env(monkeypatch, tmp_path, **extra: str) -> None:  # type: ignore[no-untyped-def]
    env = {"PASSERELLE_ENV": "production", "SECRET_KEY": "s" * 40,
           "PASSERELLE_DATA_KEY": "x9lTZ0gx7FQj0PYpTpPQtBfVwbBz3JIfIwFxqzB2CwQ=",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite'}",
           "PASSERELLE_INSTANCE_PATH": str(tmp_path),
           "PASSERELLE_AUDIT_KEY": "a" * 64,
           "PASSERELLE_PUBLIC_URL": "https://passerelle.example.org", **extra}
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_production_refuses_to_start_without_a_public_url(monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    monkeypatch.delenv("PASSERELLE_PUBLIC_URL")
    with pytest.raises(ConfigurationError, match="PASSERELLE_PUBLIC_URL"):
        create_app()


def test_the_demo_refuses_production_mode(monkeypatch, tmp_path):
    _production_env(monkeypatch, tmp_path)
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code != 0
    assert "refuses PASSERELLE_ENV=production" in result.output
    # Nothing was created: not even the tables.
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'prod.sqlite'}")
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


# The four actions that e-mailed relative links ("/bailleur/propositions", no site): each
# now writes the configured address, like every other e-mail.

def _absolute(db, app) -> list[str]:  # type: ignore[no-untyped-def]
    db.expire_all()
    bodies = [m.body for m in db.scalars(sa.select(OutboxEmail))]
    assert bodies, "someone should have been e-mailed"
    assert all(app.config["DEVELOPMENT_PUBLIC_URL"] + "/" in b for b in bodies), bodies
    return bodies


def _pending_proposal(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    factories.create_user(db, "landlord", organisation=landlord)
    referent = factories.create_user(db, "association", organisation=association)
    proposal = factories.create_proposal(db, unit=factories.create_unit(db, landlord=landlord),
                                         household=factories.create_household(db, association=association))
    token = factories.create_token(db, referent)
    db.commit()
    return proposal, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("action", ["withdraw", "erase"])
def test_withdrawing_or_erasing_a_household_emails_absolute_links(client, db, app, action):
    proposal, headers = _pending_proposal(db)
    path = f"/api/v1/households/{proposal.household.public_id}"
    r = (client.post(path + "/withdraw", headers=headers) if action == "withdraw"
         else client.delete(path, headers=headers))
    assert r.status_code in (200, 204), r.json
    _absolute(db, app)


def _reviewed_run(client, db):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "coordinator", departments=["59"])
    coordinator = factories.create_user(db, "coordinator", organisation=org)
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    factories.create_user(db, "landlord", organisation=landlord)
    factories.create_user(db, "association", organisation=association)
    factories.create_unit(db, landlord=landlord)
    factories.create_household(db, association=association)
    headers = {"Authorization": f"Bearer {factories.create_token(db, coordinator)}"}
    db.commit()
    run = client.post("/api/v1/match-runs", json={"departments": ["59"]}, headers=headers).json
    assert client.get(f"/api/v1/match-runs/{run['id']}", headers=headers).json["status"] == "succeeded"
    return coordinator, run["id"], headers


def test_releasing_a_run_through_the_api_emails_absolute_links(client, db, app):
    _, run_id, headers = _reviewed_run(client, db)
    assert client.post(f"/api/v1/match-runs/{run_id}/release", headers=headers).status_code == 200
    _absolute(db, app)


def test_releasing_a_run_from_its_page_emails_absolute_links(client, db, app, login_as):
    coordinator, run_id, _ = _reviewed_run(client, db)
    login_as(coordinator)
    assert client.post(f"/coordination/rapprochements/{run_id}/diffuser").status_code == 303
    _absolute(db, app)
