"""The households API: the contract's fields, one validation path, reach, consent, erasure, audit."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from models import AuditEvent, Household
from tests import factories
from tests.services.test_households import valid

URL = "/api/v1/households"


class Caller:
    """A test client calling the API with a user's bearer token."""

    def __init__(self, client: Any, token: str | None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __getattr__(self, method: str) -> Any:
        def call(url: str, **kw: Any) -> Any:
            return getattr(self.client, method)(url, headers=self.headers, **kw)
        return call


@pytest.fixture
def association(db):
    return factories.create_organisation(db, "association")


@pytest.fixture
def referent(db, association):
    return factories.create_user(db, "association", organisation=association)


def caller_for(client, db, user):
    token = factories.create_token(db, user)
    db.commit()
    return Caller(client, token)


@pytest.fixture
def api(client, db, referent):
    return caller_for(client, db, referent)


@pytest.fixture
def other_api(client, db):
    return caller_for(client, db, factories.create_user(db, "association"))


def counts(db) -> tuple[int, int]:
    """Households and audit events: a refused request changes neither."""
    db.expire_all()
    return (db.scalar(sa.select(sa.func.count()).select_from(Household)),
            db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))


def test_create_a_household(api, db, association):
    response = api.post(URL, json=valid())
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "draft" and body["association"] == association.code
    assert body["id"].startswith("H-") and body["reference"] == "DOS-2026-017"
    assert body["exclusion_zones"] == valid()["exclusion_zones"]
    assert body["monthly_income"] == 1380.0 and body["requested_on"] == "2026-05-14"
    assert body["consent_recorded_on"] is None and body["notes"] == "Rappeler le mardi."
    household = db.scalar(sa.select(Household).where(Household.public_id == body["id"]))
    assert household.association_id == association.id


@pytest.mark.parametrize("field", ["id", "status", "association"])
def test_the_server_sets_id_status_and_association(api, db, field):
    before = counts(db)
    response = api.post(URL, json=valid(**{field: "H-mine"}))
    assert response.status_code == 422
    assert response.json["errors"] == {field: ["Ce champ est fixé par la plateforme : ne l'envoyez pas."]}
    assert counts(db) == before


@pytest.mark.parametrize(("overrides", "path"), [
    ({"adults": 0}, "adults"),
    ({"adults": "1"}, "adults"),
    ({"monthly_income": -5}, "monthly_income"),
    ({"urgency": 5}, "urgency"),
    ({"ready_from": "2026-02-30"}, "ready_from"),
    ({"search_area": {"communes": ["00000"]}}, "search_area.communes[0]"),
    ({"exclusion_zones": [{"department": "80"}, {"lat": 50.7, "lon": 3.1, "radius_km": 0}]},
     "exclusion_zones[1].radius_km"),
    ({"exclusion_zones": [{"lat": 123, "lon": 3.1, "radius_km": 5}]}, "exclusion_zones[0].lat"),
    ({"exclusion_zones": [{"commune": "59512", "lat": 50.7}]}, "exclusion_zones[0]"),
    ({"exclusion_zones": [{"department": "XX"}]}, "exclusion_zones[0].department"),
    ({"exclusion_zone": []}, "exclusion_zone"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(api, db, overrides, path):
    before = counts(db)
    response = api.post(URL, json=valid(**overrides))
    assert response.status_code == 422
    assert response.json["code"] == 422 and list(response.json["errors"]) == [path]
    assert all(isinstance(m, str) and m for m in response.json["errors"][path])
    assert counts(db) == before


@pytest.mark.parametrize("body", [b"{", b"{'reference': 'x'}", b'{"adults": NaN}', b"\xff\xfe"])
def test_malformed_json_is_a_400_in_json(api, db, body):
    before = counts(db)
    response = api.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json["code"] == 400 and "_schema" in response.json["errors"]
    assert counts(db) == before


def test_json_that_is_not_an_object(api, db):
    response = api.post(URL, json=[valid()])
    assert response.status_code == 422
    assert response.json["errors"] == {"_schema": ["Un objet JSON est attendu."]}


def test_a_25_mb_body_is_refused_with_413_in_json(api, db):
    before = counts(db)
    response = api.post(URL, data=b" " * (25 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert counts(db) == before


def test_duplicate_reference_is_a_conflict(api, db):
    assert api.post(URL, json=valid()).status_code == 201
    response = api.post(URL, json=valid())
    assert response.status_code == 409 and list(response.json["errors"]) == ["reference"]


def test_who_may_call(client, db, api):
    assert Caller(client, None).get(URL).status_code == 401
    assert Caller(client, "not-a-token").post(URL, json=valid()).status_code == 401
    landlord = caller_for(client, db, factories.create_user(db, "landlord"))
    assert landlord.get(URL).status_code == 404
    assert landlord.post(URL, json=valid()).status_code == 404
    coordinator = caller_for(client, db, factories.create_user(db, "coordinator"))
    assert coordinator.post(URL, json=valid()).status_code == 404
    household = factories.create_household(db)
    db.commit()
    # A coordinator reads one household of her territory as her list shows it (zones
    # counted, never read); another territory's coordinator finds none.
    one = coordinator.get(f"{URL}/{household.public_id}")
    assert one.status_code == 200 and "exclusion_zones" not in one.json and "exclusion_zone_count" in one.json
    elsewhere = factories.create_organisation(db, "coordinator", departments=["13"])
    other = caller_for(client, db, factories.create_user(db, "coordinator", organisation=elsewhere))
    assert other.get(f"{URL}/{household.public_id}").status_code == 404
    assert coordinator.patch(f"{URL}/{household.public_id}", json={"urgency": 3}).status_code == 404
    assert coordinator.delete(f"{URL}/{household.public_id}").status_code == 404


def test_list_is_the_associations_own_with_paging_and_status(api, db, association):
    mine = [factories.create_household(db, association=association, urgency=u) for u in (1, 3)]
    draft = factories.create_household(db, association=association, status="draft", consent_recorded_on=None)
    factories.create_household(db)  # another association's
    db.commit()
    body = api.get(f"{URL}?per_page=2").json
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 2, 3, 2)
    assert [h["id"] for h in body["items"]] == [mine[1].public_id, draft.public_id]
    assert [h["id"] for h in api.get(f"{URL}?page=2&per_page=2").json["items"]] == [mine[0].public_id]
    assert [h["id"] for h in api.get(f"{URL}?status=draft").json["items"]] == [draft.public_id]
    assert api.get(f"{URL}?status=lost").status_code == 422
    assert api.get(f"{URL}?per_page=0").status_code == 422


def test_coordinators_read_households_in_matching_without_zones_points_or_notes(client, db):
    a = factories.create_household(db, notes="secret", search_area={"communes": [], "departments": ["80"]})
    b = factories.create_household(db, notes="secret", status="proposed")
    factories.create_household(db, status="draft", consent_recorded_on=None)
    factories.create_household(db, status="withdrawn")
    coordination = factories.create_organisation(db, "coordinator", departments=["59", "62", "80"])
    coordinator = caller_for(client, db, factories.create_user(db, "coordinator", organisation=coordination))
    body = coordinator.get(URL).json
    assert {h["id"] for h in body["items"]} == {a.public_id, b.public_id}
    for h in body["items"]:
        assert not {"notes", "exclusion_zones", "preferred_points"} & set(h)
        assert h["exclusion_zone_count"] == 1 and h["zones_checked"] is True
    assert [h["id"] for h in coordinator.get(f"{URL}?department=80").json["items"]] == [a.public_id]
    assert [h["id"] for h in coordinator.get(f"{URL}?status=proposed").json["items"]] == [b.public_id]
    assert coordinator.get(f"{URL}?status=draft").json["items"] == []
    # She read no sensitive field: nothing to log as such.
    db.expire_all()
    reads = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "household.read_sensitive")).all()
    assert reads == []


def test_read_one_is_audited_without_personal_data(api, db, association):
    household = factories.create_household(db, association=association, notes="Appeler avant 18 h")
    db.commit()
    response = api.get(f"{URL}/{household.public_id}")
    assert response.status_code == 200 and response.json["notes"] == "Appeler avant 18 h"
    db.expire_all()
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "household.read_sensitive"))
    assert event.object_id == household.public_id and event.object_type == "household"


def test_another_associations_household_is_404_exactly_like_a_missing_one(api, other_api, db, association):
    household = factories.create_household(db, association=association)
    db.commit()
    before = counts(db)
    url = f"{URL}/{household.public_id}"
    missing = f"{URL}/H-doesnotexist0000"

    def same(a, b):  # type: ignore[no-untyped-def]
        assert a.status_code == b.status_code == 404
        assert {k: v for k, v in a.json.items() if k != "request_id"} == \
               {k: v for k, v in b.json.items() if k != "request_id"}

    same(other_api.get(url), other_api.get(missing))
    same(other_api.patch(url, json={"urgency": 0}), other_api.patch(missing, json={"urgency": 0}))
    same(other_api.delete(url), other_api.delete(missing))
    same(other_api.post(f"{url}/activate"), other_api.post(f"{missing}/activate"))
    same(other_api.post(f"{url}/withdraw"), other_api.post(f"{missing}/withdraw"))
    assert counts(db) == before
    db.expire_all()
    assert db.get(Household, household.id).status == "active"


def test_patch_changes_given_fields_only(api, db, association):
    household = factories.create_household(db, association=association, urgency=1)
    db.commit()
    response = api.patch(f"{URL}/{household.public_id}",
                         json={"urgency": 3, "exclusion_zones": [{"commune": "59512"}]})
    assert response.status_code == 200, response.json
    assert response.json["urgency"] == 3 and response.json["exclusion_zones"] == [{"commune": "59512"}]
    assert response.json["adults"] == 1


@pytest.mark.parametrize(("body", "path"), [
    ({"status": "housed"}, "status"),
    ({"id": "H-other"}, "id"),
    ({"association": "A-99"}, "association"),
    ({"exclusion_zones": None}, "exclusion_zones"),
    ({"exclusion_zones": [{"lat": 50.7, "lon": 3.1, "radius_km": -1}]}, "exclusion_zones[0].radius_km"),
    ({"consent_recorded_on": None}, "consent_recorded_on"),
    ({"reference": "Mme Dupont"}, "reference"),
])
def test_patch_refusals_leave_the_household_unchanged(api, db, association, body, path):
    household = factories.create_household(db, association=association)
    db.commit()
    before_zones = household.exclusion_zones
    response = api.patch(f"{URL}/{household.public_id}", json=body)
    assert response.status_code == 422 and list(response.json["errors"]) == [path]
    db.expire_all()
    fresh = db.get(Household, household.id)
    assert fresh.status == "active" and fresh.exclusion_zones == before_zones and fresh.reference != "Mme Dupont"
    assert fresh.consent_recorded_on is not None


def test_activation_needs_consent(api, db):
    household_id = api.post(URL, json=valid()).json["id"]
    response = api.post(f"{URL}/{household_id}/activate")
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["consent_recorded_on"]
    assert api.get(f"{URL}/{household_id}").json["status"] == "draft"
    response = api.post(f"{URL}/{household_id}/activate", json={"consent_recorded_on": "2026-13-40"})
    assert response.status_code == 422 and list(response.json["errors"]) == ["consent_recorded_on"]
    response = api.post(f"{URL}/{household_id}/activate", json={"consent_recorded_on": "2026-05-20"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "active" and response.json["consent_recorded_on"] == "2026-05-20"
    assert response.json["activated_at"]
    assert api.post(f"{URL}/{household_id}/activate").status_code == 409


def test_activation_with_consent_set_by_patch(api, db):
    household_id = api.post(URL, json=valid()).json["id"]
    assert api.patch(f"{URL}/{household_id}", json={"consent_recorded_on": "2026-06-01"}).status_code == 200
    assert api.post(f"{URL}/{household_id}/activate").json["status"] == "active"


def test_withdraw(api, db, association):
    household = factories.create_household(db, association=association)
    db.commit()
    response = api.post(f"{URL}/{household.public_id}/withdraw")
    assert response.status_code == 200 and response.json["status"] == "withdrawn"
    assert response.json["closed_at"]
    assert api.post(f"{URL}/{household.public_id}/withdraw").status_code == 409


def test_delete_erases_and_leaves_an_audit_row_without_personal_data(api, db, association):
    household = factories.create_household(db, association=association, reference="DOS-ERASE-1",
                                           notes="Travaille à la mairie")
    db.commit()
    public_id = household.public_id
    response = api.delete(f"{URL}/{public_id}")
    assert response.status_code == 204 and response.data == b""
    db.expire_all()
    assert db.scalar(sa.select(Household).where(Household.public_id == public_id)) is None
    assert api.get(f"{URL}/{public_id}").status_code == 404
    event = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "household.erase"))
    assert event.object_id == public_id
    row = json.dumps([str(v) for v in db.execute(sa.select(AuditEvent.__table__)
                                                 .where(AuditEvent.id == event.id)).one()])
    assert "DOS-ERASE-1" not in row and "mairie" not in row


def test_the_openapi_document_describes_households(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/households", "/api/v1/households/{public_id}",
            "/api/v1/households/{public_id}/activate", "/api/v1/households/{public_id}/withdraw"} <= set(spec["paths"])
    post = spec["paths"]["/api/v1/households"]["post"]
    assert "requestBody" in post
    fields = spec["components"]["schemas"]["HouseholdFields"]["properties"]
    assert {"adults", "exclusion_zones", "consent_recorded_on"} <= set(fields)


def test_dates_in_answers_are_iso(api, db, association):
    household = factories.create_household(db, association=association, requested_on=dt.date(2026, 1, 2))
    db.commit()
    assert api.get(f"{URL}/{household.public_id}").json["requested_on"] == "2026-01-02"
