"""Password reset by e-mail (issue 21): a link that expires, serves once, says nothing of who has
an account, is rate-limited, ends every session and token, and never skips the second factor."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from itsdangerous.timed import TimestampSigner

from models import ApiToken, AuditEvent, OutboxEmail
from services import accounts, password_reset
from tests import factories
from tests.conftest import PASSWORD

NEW = "une phrase de passe toute neuve"
SAME_ANSWER = "Si un compte actif existe pour cette adresse"


def _link(db, email: str) -> str:  # type: ignore[no-untyped-def]
    mail = db.scalar(sa.select(OutboxEmail).where(OutboxEmail.recipient == email).order_by(OutboxEmail.id.desc()))
    assert mail is not None
    found = re.search(r"https?://\S+(/mot-de-passe-oublie/\S+)", mail.body)
    assert found, mail.body
    return found[1]


def test_a_forgotten_password_is_replaced_through_the_e_mailed_link_once(client, db, auth):
    user = factories.create_user(db, "association")
    factories.create_token(db, user)
    db.commit()
    login_page = client.get("/connexion").get_data(as_text=True)
    assert 'href="/mot-de-passe-oublie"' in login_page
    r = client.post("/mot-de-passe-oublie", data={"email": user.email.upper()}, follow_redirects=True)
    assert SAME_ANSWER in r.get_data(as_text=True)
    mail = db.scalar(sa.select(OutboxEmail).where(OutboxEmail.recipient == user.email))
    assert mail.subject == "Réinitialiser votre mot de passe Passerelle" and "valable 1 heure" in mail.body
    link = _link(db, user.email)
    assert client.get(link).status_code == 200
    # The password policy holds here as everywhere.
    weak = client.post(link, data={"password": "azertyuiop123", "confirm": "azertyuiop123"})
    assert weak.status_code == 200 and "trop courant" in weak.get_data(as_text=True)
    r = client.post(link, data={"password": NEW, "confirm": NEW})
    assert r.status_code == 302 and r.headers["Location"].endswith("/connexion")
    # Once only; the old password and every API token are gone.
    assert client.get(link).status_code == 410
    assert client.post(link, data={"password": NEW + "!", "confirm": NEW + "!"}).status_code == 410
    db.expire_all()
    assert accounts.authenticate(db, user.email, PASSWORD) is None
    assert accounts.authenticate(db, user.email, NEW) is not None
    assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))) == 0
    actions = set(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))))
    assert {"user.password_reset_request", "user.password_reset"} <= actions


def test_an_unknown_or_disabled_address_gets_the_same_answer_and_no_e_mail(client, db):
    disabled = factories.create_user(db, "landlord")
    accounts.set_active(db, disabled, False, actor=None)
    db.commit()
    for email in ("personne@nowhere.example", disabled.email, "not an address"):
        r = client.post("/mot-de-passe-oublie", data={"email": email}, follow_redirects=True)
        assert r.status_code == 200
        if "@" in email:
            assert SAME_ANSWER in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == 0


def test_the_link_expires_and_a_forged_one_is_refused(client, db, app, monkeypatch):
    user = factories.create_user(db, "coordinator")
    db.commit()
    secret = app.config["SECRET_KEY"]
    now = 1_800_000_000

    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now)
    token = password_reset.make_token(user, secret)
    now += 59 * 60
    assert password_reset.user_for_token(db, token, secret) is not None
    now += 2 * 60  # past the hour
    assert password_reset.user_for_token(db, token, secret) is None
    assert password_reset.user_for_token(db, token + "x", secret) is None
    assert password_reset.user_for_token(db, password_reset.make_token(user, "another-key"), secret) is None
    # A reset link is not an invitation, nor the other way round.
    assert password_reset.user_for_token(db, password_reset.make_token(user, secret, "invitation"), secret) is None
    assert client.get("/mot-de-passe-oublie/forged").status_code == 410


def test_the_second_factor_is_still_asked_after_a_reset(client, db, auth):
    user = factories.create_user(db, "coordinator")  # a role that requires a code
    db.commit()
    auth.login(user)
    auth.logout()
    client.post("/mot-de-passe-oublie", data={"email": user.email})
    client.post(_link(db, user.email), data={"password": NEW, "confirm": NEW})
    r = client.post("/connexion", data={"email": user.email, "password": NEW})
    assert r.status_code == 302 and r.headers["Location"].endswith("/connexion/code")


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}])
def test_asking_is_rate_limited_per_address(client, db, app_config):
    user = factories.create_user(db, "association")
    db.commit()
    codes = [client.post("/mot-de-passe-oublie", data={"email": user.email}).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == 3


def test_an_admin_invites_a_referent_who_chooses_her_own_password(client, db, login_as, auth):
    association = factories.create_organisation(db, "association", name="SF Roubaix")
    login_as("admin")
    page = client.get("/admin/comptes/inviter").get_data(as_text=True)
    assert "SF Roubaix (association)" in page
    # The role must fit the organisation: the error names the field, nothing is created.
    r = client.post("/admin/comptes/inviter", data={"email": "referente@sf-roubaix.example", "role": "landlord",
                                                    "organisation": str(association.id)})
    assert r.status_code == 200 and "organisation de type" in r.get_data(as_text=True)
    r = client.post("/admin/comptes/inviter", data={"email": "referente@sf-roubaix.example", "role": "association",
                                                    "organisation": str(association.id)})
    assert r.status_code == 302
    auth.logout()
    mail = db.scalar(sa.select(OutboxEmail).where(OutboxEmail.recipient == "referente@sf-roubaix.example"))
    assert mail.subject == "Votre compte Passerelle" and "valable 7 jours" in mail.body
    link = re.search(r"https?://\S+(/invitation/\S+)", mail.body)[1]
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    assert client.get(link).status_code == 410  # once
    r = client.post("/connexion", data={"email": "referente@sf-roubaix.example", "password": NEW})
    assert r.status_code == 302 and r.headers["Location"].endswith("/association/")
