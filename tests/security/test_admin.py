"""Admin pages: the audit trail search, and account management (each change audited)."""

from __future__ import annotations

import sqlalchemy as sa

from models import AuditEvent, User
from services import accounts, audit
from tests import factories
from tests.conftest import PASSWORD, TOTP_SECRET


def _text(r) -> str:  # type: ignore[no-untyped-def]
    return r.get_data(as_text=True)


def _last(db, action: str) -> AuditEvent:  # type: ignore[no-untyped-def]
    return db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())).first()


def test_audit_search_page(client, login_as, db):
    admin = login_as("admin")
    referent = factories.create_user(db, role="association")
    for i in range(3):
        audit.record(db, "household.read_sensitive", actor=referent, object_type="household", object_id=f"H-page{i}")
    audit.record(db, "unit.publish", actor=admin, object_type="unit", object_id="U-page")
    db.commit()
    r = client.get("/admin/journal", query_string={"action": "household.", "actor": referent.email})
    html = _text(r)
    assert r.status_code == 200
    assert all(f"H-page{i}" in html for i in range(3)) and "U-page" not in html
    assert "3 événements" in html
    r = client.get("/admin/journal", query_string={"object_id": "U-page"})
    assert "U-page" in _text(r) and "H-page0" not in _text(r)
    # Dates: nothing before today's events in a range of last year.
    r = client.get("/admin/journal", query_string={"since": "2020-01-01", "until": "2020-12-31"})
    assert "0 événement" in _text(r)
    # A bad date is shown as an error, not a crash.
    r = client.get("/admin/journal", query_string={"since": "not a date"})
    assert r.status_code == 200 and "field-error" in _text(r)


def test_audit_search_is_paged(client, login_as, db):
    login_as("admin")
    for i in range(55):
        audit.record(db, "test.paging", object_type="thing", object_id=f"T-{i:03d}")
    db.commit()
    first = _text(client.get("/admin/journal", query_string={"action": "test.paging"}))
    second = _text(client.get("/admin/journal", query_string={"action": "test.paging", "page": 2}))
    assert "T-054" in first and "T-004" not in first
    assert "T-004" in second and "T-054" not in second
    assert "Page 2 sur 2" in second and 'rel="prev"' in second and "action=test.paging" in second


def test_disable_enable_and_role_change_are_audited_and_end_sessions(app, client, login_as, db):
    admin = login_as("admin")
    target = factories.create_user(db, role="landlord")
    db.commit()
    other = app.test_client()
    assert other.post("/connexion", data={"email": target.email, "password": PASSWORD}).status_code == 302
    assert other.get("/bailleur/").status_code == 200
    r = client.post(f"/admin/comptes/{target.id}/activation", data={"active": "0"})
    assert r.status_code == 302
    assert other.get("/bailleur/").status_code == 302  # her session died at once
    event = _last(db, "user.disable")
    assert (event.actor_id, event.object_id) == (admin.id, str(target.id))
    assert "Désactivé" in _text(client.get(f"/admin/comptes/{target.id}"))
    client.post(f"/admin/comptes/{target.id}/activation", data={"active": "1"})
    assert _last(db, "user.enable").object_id == str(target.id)
    # Role change: only a role that fits her organisation.
    r = client.post(f"/admin/comptes/{target.id}/role", data={"role": "association"}, follow_redirects=True)
    assert "demande une organisation de type association" in _text(r)
    db.expire_all()
    assert db.get(User, target.id).role == "landlord"
    r = client.post(f"/admin/comptes/{target.id}/role", data={"role": "admin"})
    db.expire_all()
    assert db.get(User, target.id).role == "admin"
    assert _last(db, "user.role_change").object_id == str(target.id)


def test_admin_cannot_lock_herself_out(client, login_as, db):
    admin = login_as("admin")
    r = client.post(f"/admin/comptes/{admin.id}/activation", data={"active": "0"}, follow_redirects=True)
    assert "propre compte" in _text(r)
    r = client.post(f"/admin/comptes/{admin.id}/role", data={"role": "coordinator"}, follow_redirects=True)
    assert "propre rôle" in _text(r)
    db.expire_all()
    assert db.get(User, admin.id).active and db.get(User, admin.id).role == "admin"


def test_reset_second_factor_and_unlock(client, login_as, db):
    login_as("admin")
    target = factories.create_user(db, role="coordinator")
    target.totp_secret, target.totp_confirmed_at = TOTP_SECRET, accounts.utcnow()
    for _ in range(accounts.MAX_FAILURES):
        accounts.register_failure(db, target)
    db.commit()
    page = _text(client.get(f"/admin/comptes/{target.id}"))
    assert "Verrouillé" in page and "Réinitialiser" in page
    client.post(f"/admin/comptes/{target.id}/deverrouillage")
    client.post(f"/admin/comptes/{target.id}/double-authentification")
    db.expire_all()
    target = db.get(User, target.id)
    assert not accounts.is_locked(target) and not accounts.has_totp(target) and target.totp_secret is None
    assert _last(db, "user.unlock").object_id == str(target.id)
    assert _last(db, "user.totp_reset").object_id == str(target.id)


def test_user_list_filters(client, login_as, db):
    login_as("admin")
    a = factories.create_user(db, role="association", email="referente.filtre@example.org")
    factories.create_user(db, role="landlord", email="bailleur.filtre@example.org")
    db.commit()
    html = _text(client.get("/admin/comptes", query_string={"q": "filtre", "role": "association"}))
    assert a.email in html and "bailleur.filtre" not in html
    assert client.get("/admin/comptes/999999").status_code == 404


def test_admin_pages_are_admin_only(client, login_as, db):
    login_as("coordinator")
    target = factories.create_user(db)
    db.commit()
    for path in ("/admin/journal", "/admin/comptes", f"/admin/comptes/{target.id}"):
        assert client.get(path).status_code == 404
    assert client.post(f"/admin/comptes/{target.id}/activation", data={"active": "0"}).status_code == 404
    db.expire_all()
    assert db.get(User, target.id).active
