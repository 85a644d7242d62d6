"""A household's rights: access (a full export) and erasure; sensitive columns encrypted at rest."""

from __future__ import annotations

import json

import sqlalchemy as sa

from models import AuditEvent, Decision, Household
from tests import factories

ZONES = [{"lat": 48.123456, "lon": 2.654321, "radius_km": 7.5}, {"commune": "48012"}, {"department": "80"}]
POINTS = [{"lat": 50.6201, "lon": 3.0512, "label": "CANARY-SCHOOL"}]


def _household(db, association):  # type: ignore[no-untyped-def]
    return factories.create_household(db, association=association, reference="CANARY-REF-RIGHTS",
                                      notes="CANARY-NOTE-RIGHTS", exclusion_zones=ZONES,
                                      preferred_points=POINTS)


def test_referent_exports_everything_about_her_household(client, login_as, db):
    association = factories.create_organisation(db, "association")
    referent = login_as("association", organisation=association)
    household = _household(db, association)
    proposal = factories.create_proposal(db, household=household, status="household_declined")
    db.add(Decision(proposal=proposal, step="household", outcome="decline", reason="unsafe_area"))
    db.commit()
    assert client.get(f"/association/menages/{household.public_id}").status_code == 200  # a sensitive read
    r = client.get(f"/association/menages/{household.public_id}/export")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == f'attachment; filename="menage-{household.public_id}.json"'
    assert r.headers["Cache-Control"] == "no-store"
    doc = json.loads(r.get_data(as_text=True))
    h = doc["household"]
    assert doc["format"] == "passerelle.household-export/1"
    assert h["reference"] == "CANARY-REF-RIGHTS" and h["notes"] == "CANARY-NOTE-RIGHTS"
    assert h["exclusion_zones"] == ZONES and h["preferred_points"] == POINTS
    assert h["monthly_income"] == "1380.00" and h["public_id"] == household.public_id
    [p] = doc["proposals"]
    assert p["id"] == proposal.public_id and p["unit"]["id"] == proposal.unit.public_id
    assert p["decisions"] == [{"step": "household", "outcome": "decline", "reason": "unsafe_area",
                               "decided_at": p["decisions"][0]["decided_at"]}]
    assert {"action": "household.read_sensitive", "by_role": "association", "outcome": "success",
            "at": doc["timeline"][-1]["at"]} == doc["timeline"][-1]
    # The export is audited, without personal data.
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "household.export")).one()
    assert (event.actor_id, event.object_id) == (referent.id, household.public_id)


def test_nobody_else_can_export(client, login_as, db):
    household = _household(db, factories.create_organisation(db, "association"))
    db.commit()
    path = f"/association/menages/{household.public_id}/export"
    assert client.get(path).status_code == 302  # anonymous: to the login page
    login_as("association")  # another association
    assert client.get(path).status_code == 404
    assert client.get("/association/menages/H-doesnotexist/export").status_code == 404
    client.post("/deconnexion")
    for role in ("landlord", "coordinator", "committee", "admin"):
        other = client.application.test_client()
        from tests.conftest import AuthActions

        AuthActions(other, db).login(factories.create_user(db, role=role))
        assert other.get(path).status_code == 404, role
    assert not db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "household.export")).all()


def test_erasure_leaves_nothing_readable(client, login_as, db, connection):
    association = factories.create_organisation(db, "association")
    login_as("association", organisation=association)
    household = _household(db, association)
    household.status = "withdrawn"
    db.commit()
    public_id = household.public_id
    r = client.post(f"/association/menages/{public_id}/effacer")
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
    db.expire_all()
    assert db.scalar(sa.select(Household).where(Household.public_id == public_id)) is None
    assert client.get(f"/association/menages/{public_id}/export").status_code == 404
    dump = " ".join(str(v) for t in ("households", "proposals", "decisions", "audit_events")
                    for row in connection.execute(sa.text(f"SELECT * FROM {t}")) for v in row)  # noqa: S608
    assert "CANARY" not in dump
    assert db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "household.erase",
                                                  AuditEvent.object_id == public_id)).one()


def test_sensitive_columns_are_ciphertext_in_the_database(db, connection):
    household = _household(db, factories.create_organisation(db, "association"))
    db.flush()
    row = connection.execute(
        sa.text("SELECT exclusion_zones, preferred_points, notes FROM households WHERE id = :id"),
        {"id": household.id},
    ).one()
    for raw in row:
        assert raw.startswith("gAAAA")  # Fernet tokens
        for secret in ("48.123456", "2.654321", "48012", "CANARY", "50.6201"):
            assert secret not in raw
    # And the application reads them back in clear.
    db.expire_all()
    assert db.get(Household, household.id).exclusion_zones == ZONES


def test_household_page_links_to_the_export(client, login_as, db):
    association = factories.create_organisation(db, "association")
    login_as("association", organisation=association)
    household = _household(db, association)
    db.commit()
    html = client.get(f"/association/menages/{household.public_id}").get_data(as_text=True)
    assert f'href="/association/menages/{household.public_id}/export"' in html
