"""The account page's API tokens: listed with their state, made with a chosen lifetime, revoked
after a confirmation (one's own only), each step in the audit trail. CSRF on these forms is
checked with every other form by tests/security/test_csrf_everywhere.py."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from models import ApiToken, AuditEvent, utcnow
from services import accounts
from tests import factories


def _new_token(html: str) -> str:
    match = re.search(r'<code id="new-token">(pst_[^<]+)</code>', html)
    assert match, "the new token is not shown"
    return match.group(1)


def _audit(db, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_a_token_made_on_the_page_works_once_shown_and_expires_as_chosen(client, db, login_as):
    user = login_as("association")
    page = client.get("/compte/jetons-api")
    assert page.status_code == 200
    assert "Vous n'avez aucun jeton." in page.get_data(as_text=True)

    response = client.post("/compte/jetons-api", data={"lifetime": "30"})
    assert response.status_code == 200
    token = _new_token(response.get_data(as_text=True))
    assert "il ne sera plus jamais affiché" in response.get_data(as_text=True)
    # The token opens the API as its owner.
    api = client.application.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    row = db.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert row is not None and row.expires_at is not None
    assert abs(row.expires_at - (utcnow() + dt.timedelta(days=30))) < dt.timedelta(minutes=5)
    assert [e.actor_id for e in _audit(db, "token.create")] == [user.id]

    # Listed afterwards by its prefix only, never again in full.
    listing = client.get("/compte/jetons-api").get_data(as_text=True)
    assert token[:12] + "…" in listing and token not in listing
    assert "actif" in listing


def test_a_lifetime_not_offered_is_refused(client, db, login_as):
    user = login_as("landlord")
    response = client.post("/compte/jetons-api", data={"lifetime": "100000"})
    assert response.status_code == 200
    assert 'id="new-token"' not in response.get_data(as_text=True)
    assert accounts.list_tokens(db, user) == []


def test_revoking_asks_first_then_the_token_stops_working(client, db, login_as):
    user = login_as("landlord")
    token = factories.create_token(db, user)
    db.commit()
    row = accounts.list_tokens(db, user)[0]
    bearer = {"Authorization": f"Bearer {token}"}
    api = client.application.test_client()

    confirm = client.get(f"/compte/jetons-api/{row.id}/revoquer")
    assert confirm.status_code == 200
    assert f"Révoquer le jeton {row.prefix}… ?" in confirm.get_data(as_text=True)
    # Looking at the confirmation page revokes nothing.
    assert api.get("/api/v1/me", headers=bearer).status_code == 200

    done = client.post(f"/compte/jetons-api/{row.id}/revoquer", follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert f"Jeton {row.prefix}… révoqué" in text
    assert "révoqué le" in text
    assert f"/compte/jetons-api/{row.id}/revoquer" not in text  # no second "Revoke" link
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    assert [e.actor_id for e in _audit(db, "token.revoke")] == [user.id]


def test_expired_and_revoked_tokens_are_listed_as_such(client, db, login_as):
    user = login_as("association")
    factories.create_token(db, user)
    factories.create_token(db, user)
    factories.create_token(db, user)
    expired, revoked, live = accounts.list_tokens(db, user)
    expired.expires_at = utcnow() - dt.timedelta(days=1)
    revoked.revoked_at = utcnow()
    db.commit()
    text = client.get("/compte/jetons-api").get_data(as_text=True)
    assert text.count("expiré") == 1 and text.count("révoqué le") == 1 and text.count(">actif<") == 0
    assert text.count("actif") == 1
    assert f"/compte/jetons-api/{live.id}/revoquer" in text
    assert f"/compte/jetons-api/{expired.id}/revoquer" not in text
    assert f"/compte/jetons-api/{revoked.id}/revoquer" not in text


def test_another_users_token_does_not_exist_for_her(client, db, login_as):
    other = factories.create_user(db, "association")
    factories.create_token(db, other)
    theirs = accounts.list_tokens(db, other)[0]
    login_as("association")
    assert client.get(f"/compte/jetons-api/{theirs.id}/revoquer").status_code == 404
    assert client.post(f"/compte/jetons-api/{theirs.id}/revoquer").status_code == 404
    db.expire_all()
    assert db.get(ApiToken, theirs.id).revoked_at is None


def test_the_account_pages_link_to_each_other(client, login_as):
    login_as("landlord")
    text = client.get("/compte/mot-de-passe").get_data(as_text=True)
    assert 'href="/compte/jetons-api"' in text and 'href="/compte/double-authentification"' in text
