"""The units API: a landlord's own units, coordinators reading, every bad input answered in JSON."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matching import geo
from models import AuditEvent, Unit
from services import units
from tests import factories

NEW = {"reference": "LMH-001", "commune": "59350", "rooms": 3, "rent": 412.5, "charges": 85,
       "available_from": "2026-12-01", "surface_m2": 64, "floor": 2, "elevator": True,
       "financing": "PLUS"}


class Caller:
    """The test client speaking for one user with a bearer token."""

    def __init__(self, client, db, user):  # type: ignore[no-untyped-def]
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {factories.create_token(db, user)}"}
        db.commit()

    def __getattr__(self, method):  # type: ignore[no-untyped-def]
        def call(path, **kw):  # type: ignore[no-untyped-def]
            return getattr(self.client, method)("/api/v1" + path, headers=self.headers, **kw)
        return call


@pytest.fixture
def caller(client, db):  # type: ignore[no-untyped-def]
    def make(role="landlord", organisation=None):  # type: ignore[no-untyped-def]
        return Caller(client, db, factories.create_user(db, role, organisation=organisation))
    return make


@pytest.fixture
def landlord(caller):  # type: ignore[no-untyped-def]
    return caller("landlord")


def count_units(db):  # type: ignore[no-untyped-def]
    return db.scalar(sa.select(sa.func.count()).select_from(Unit))


# -- create, read, edit --------------------------------------------------------------------


def test_create_a_draft_unit(landlord, db):
    r = landlord.post("/units", json=NEW)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["status"] == "draft" and body["id"].startswith("U-")
    assert body["landlord"] == landlord.user.organisation.code
    assert (body["commune"], body["department"], body["rooms"]) == ("59350", "59", 3)
    # Money as JSON numbers.
    assert body["rent"] == 412.5 and body["charges"] == 85.0
    # No coordinates given: the commune's point, anywhere within its radius.
    lille = geo.commune("59350")
    assert (body["lat"], body["lon"], body["location_uncertainty_km"]) == (lille.lat, lille.lon, lille.radius_km)
    unit = db.scalar(sa.select(Unit).where(Unit.public_id == body["id"]))
    assert unit.landlord_id == landlord.user.organisation_id and unit.rent == Decimal("412.50")
    assert db.scalar(sa.select(AuditEvent.action).where(AuditEvent.object_id == body["id"])) == "unit.create"


def test_commune_by_name(landlord):
    r = landlord.post("/units", json=dict(NEW, commune="Roubaix"))
    assert r.status_code == 201 and r.json["commune"] == "59512"
    r = landlord.post("/units", json=dict(NEW, reference="X", commune="Saint-Denis"))
    assert r.status_code == 422
    assert "93066" in r.json["errors"]["commune"][0] and "97411" in r.json["errors"]["commune"][0]


@pytest.mark.parametrize("field", ["id", "status", "landlord", "department"])
def test_server_set_fields_are_refused_by_name(landlord, db, field):
    before = count_units(db)
    r = landlord.post("/units", json=dict(NEW, **{field: "x"}))
    assert r.status_code == 422
    assert r.json["errors"]["json"][field] == ["Champ en lecture seule : la plateforme le fixe."]
    assert count_units(db) == before


@pytest.mark.parametrize(("field", "value", "location"), [
    ("rent", "cheap", "json"),  # wrong type: the schema
    ("rooms", 2.5, "json"),
    ("elevator", "maybe", "json"),
    ("available_from", "2026-02-30", "json"),  # a date that does not exist
    ("rent", -1, None),  # out of range: the service's rules
    ("lat", 123, None),
    ("rooms", 0, None),
    ("commune", "99999", None),
    ("financing", "HLM", None),
])
def test_bad_fields_are_named(landlord, db, field, value, location):
    body = dict(NEW, **{field: value})
    if field == "lat":
        body["lon"] = 3.05
    r = landlord.post("/units", json=body)
    assert r.status_code == 422, r.json
    assert r.json["code"] == 422
    errors = r.json["errors"]["json"] if location else r.json["errors"]
    assert list(errors) == [field], errors
    assert count_units(db) == 0


def test_missing_required_fields_are_named(landlord):
    r = landlord.post("/units", json={"reference": "A"})
    assert r.status_code == 422
    assert set(r.json["errors"]["json"]) == {"commune", "rooms", "rent", "available_from"}


def test_malformed_json_answers_json(landlord):
    r = landlord.post("/units", data='{"reference": "A", ', content_type="application/json")
    assert r.status_code in (400, 422)
    assert r.is_json and r.json["code"] == r.status_code and "errors" in r.json


def test_a_body_over_the_limit_answers_413_in_json(landlord, db):
    payload = b'{"reference": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    r = landlord.post("/units", data=payload, content_type="application/json")
    assert r.status_code == 413 and r.is_json and r.json["code"] == 413
    assert count_units(db) == 0


def test_read_and_edit_own_unit(landlord, db):
    unit_id = landlord.post("/units", json=NEW).json["id"]
    r = landlord.get(f"/units/{unit_id}")
    assert r.status_code == 200 and r.json["reference"] == "LMH-001"
    r = landlord.patch(f"/units/{unit_id}", json={"rent": 450, "lat": 50.63, "lon": 3.05})
    assert r.status_code == 200, r.json
    assert (r.json["rent"], r.json["lat"], r.json["location_uncertainty_km"]) == (450.0, 50.63, 0.0)
    assert r.json["surface_m2"] == 64.0  # untouched
    r = landlord.patch(f"/units/{unit_id}", json={"rooms": 0})
    assert r.status_code == 422 and list(r.json["errors"]) == ["rooms"]
    r = landlord.patch(f"/units/{unit_id}", json={"status": "published"})
    assert r.status_code == 422 and list(r.json["errors"]["json"]) == ["status"]
    assert landlord.get(f"/units/{unit_id}").json["status"] == "draft"


def test_publish_and_withdraw(landlord, db):
    unit_id = landlord.post("/units", json=NEW).json["id"]
    r = landlord.post(f"/units/{unit_id}/publish")
    assert r.status_code == 200 and r.json["status"] == "published" and r.json["published_at"]
    assert landlord.post(f"/units/{unit_id}/publish").status_code == 409
    r = landlord.post(f"/units/{unit_id}/withdraw")
    assert r.status_code == 200 and r.json["status"] == "withdrawn"
    r = landlord.post(f"/units/{unit_id}/withdraw")
    assert r.status_code == 409 and r.json["errors"]["status"]


def test_proposed_unit_is_not_edited_and_its_withdrawal_cancels_its_proposals(landlord, db):
    unit = factories.create_unit(db, landlord=landlord.user.organisation)
    proposal = factories.create_proposal(db, unit=unit)
    db.commit()
    assert landlord.patch(f"/units/{unit.public_id}", json={"rent": 1}).status_code == 409
    r = landlord.post(f"/units/{unit.public_id}/withdraw")
    assert r.status_code == 200 and r.json["status"] == "withdrawn"
    db.expire_all()
    assert db.get(Unit, unit.id).status == "withdrawn"
    assert db.get(type(proposal), proposal.id).status == "cancelled"


# -- reach ---------------------------------------------------------------------------------


def test_another_landlords_unit_is_404_like_a_missing_one(caller, db):
    a, b = caller("landlord"), caller("landlord")
    unit_id = a.post("/units", json=NEW).json["id"]
    missing = b.get("/units/U-does-not-exist")
    for response in (b.get(f"/units/{unit_id}"), b.patch(f"/units/{unit_id}", json={"rent": 1}),
                     b.post(f"/units/{unit_id}/publish"), b.post(f"/units/{unit_id}/withdraw")):
        assert response.status_code == 404
        assert response.json["errors"] == missing.json["errors"]
    assert b.get("/units").json["total"] == 0
    assert a.get(f"/units/{unit_id}").json["status"] == "draft"


def test_lists_are_paged_and_filtered(landlord, db):
    org = landlord.user.organisation
    for rooms in (1, 2, 3, 6, 7):
        factories.create_unit(db, landlord=org, rooms=rooms, status="draft" if rooms == 1 else "published")
    factories.create_unit(db, landlord=org, commune="59512", department="59", rooms=3)
    factories.create_unit(db, rooms=3)  # someone else's
    db.commit()
    r = landlord.get("/units?per_page=4")
    assert r.status_code == 200
    assert (r.json["total"], r.json["pages"], r.json["page"], r.json["per_page"]) == (6, 2, 1, 4)
    assert len(r.json["items"]) == 4 and len(landlord.get("/units?per_page=4&page=2").json["items"]) == 2
    assert landlord.get("/units?status=draft").json["total"] == 1
    assert landlord.get("/units?rooms=3").json["total"] == 2
    assert {u["rooms"] for u in landlord.get("/units?rooms=6").json["items"]} == {6, 7}
    assert [u["commune"] for u in landlord.get("/units?commune=59512").json["items"]] == ["59512"]
    assert landlord.get("/units?status=bogus").status_code == 422


def test_coordinator_reads_her_territorys_but_cannot_create(caller, db):
    factories.create_unit(db, commune="59350", department="59")
    paris = factories.create_unit(db, commune="75056", department="75", lat=48.86, lon=2.35)
    db.commit()
    coordinator = caller("coordinator")  # of 59 and 62
    r = coordinator.get("/units")
    assert r.status_code == 200 and r.json["total"] == 1
    assert [u["department"] for u in r.json["items"]] == ["59"]
    assert coordinator.get("/units?department=75").json["items"] == []
    assert coordinator.get(f"/units/{paris.public_id}").status_code == 404
    unit_id = r.json["items"][0]["id"]
    assert coordinator.get(f"/units/{unit_id}").status_code == 200
    assert coordinator.post("/units", json=NEW).status_code == 404
    assert coordinator.patch(f"/units/{unit_id}", json={"rent": 1}).status_code == 404
    assert coordinator.post(f"/units/{unit_id}/publish").status_code == 404
    assert count_units(db) == 2


def test_other_roles_and_anonymous(caller, client):
    assert client.get("/api/v1/units").status_code == 401
    association = caller("association")
    assert association.get("/units").status_code == 404
    assert association.post("/units", json=NEW).status_code == 404


# -- import --------------------------------------------------------------------------------

CSV_OK = ("reference;commune;pieces;surface_m2;loyer;charges;ascenseur;disponible_le\n"
          "I-1;59350;3;64,5;412,50;85;oui;01/12/2026\n"
          "I-2;Roubaix;2;48;356;60;non;2026-12-15\n"
          "I-3;59350;3;70;430;90;non;01/01/2027\n")


def upload(caller, data, name="logements.csv"):  # type: ignore[no-untyped-def]
    return caller.post("/units/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_import_creates_all_rows_and_answers_a_summary(landlord, db):
    r = upload(landlord, CSV_OK.encode("cp1252"))
    assert r.status_code == 201, r.json
    assert r.json["created"] == 3
    assert r.json["by_commune"] == [{"commune": "59350", "name": "Lille (59)", "count": 2},
                                    {"commune": "59512", "name": "Roubaix (59)", "count": 1}]
    assert r.json["by_typology"] == {"T2": 1, "T3": 2}
    assert [u["reference"] for u in r.json["units"]] == ["I-1", "I-2", "I-3"]
    first = landlord.get(f"/units/{r.json['units'][0]['id']}").json
    assert (first["status"], first["surface_m2"], first["rent"], first["elevator"]) == ("draft", 64.5, 412.5, True)
    assert db.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "unit.import")) == "unit.import"


def test_import_with_one_bad_row_stores_nothing_and_reports_it(landlord, db):
    bad = CSV_OK + "I-4;59350;3;64;-5;85;oui;30/02/2026\n"
    before = count_units(db)
    r = upload(landlord, bad.encode())
    assert r.status_code == 422
    assert r.json["errors"]["rows"] == [
        {"line": 5, "column": "disponible_le",
         "message": "Date invalide : JJ/MM/AAAA ou AAAA-MM-JJ, et une date qui existe."},
        {"line": 5, "column": "loyer", "message": "Le loyer doit être compris entre 0 et 5000 €."},
    ]
    assert count_units(db) == before


def test_import_xlsx(landlord):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["reference", "commune", "rooms", "rent", "available_from"])
    workbook.active.append(["X-1", "59350", 3, 412.5, dt.datetime(2026, 12, 1)])
    out = io.BytesIO()
    workbook.save(out)
    r = upload(landlord, out.getvalue(), "logements.xlsx")
    assert r.status_code == 201 and r.json["created"] == 1


def test_import_without_a_file_or_with_an_empty_one(landlord):
    r = landlord.post("/units/import", data={}, content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.json["errors"]["files"]
    r = upload(landlord, b"")
    assert r.status_code == 422 and r.json["errors"]["file"] == ["Le fichier est vide."]


def test_import_over_the_size_limit_answers_413(landlord, db):
    # The multipart body is built by hand: werkzeug's test client would spool it to a
    # temporary file it never closes.
    body = (b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            b"Content-Type: text/csv\r\n\r\n" + b"x" * (11 * 1024 * 1024) + b"\r\n--B--\r\n")
    r = landlord.post("/units/import", data=body, content_type="multipart/form-data; boundary=B")
    assert r.status_code == 413 and r.is_json
    assert count_units(db) == 0


def test_import_is_for_landlords_only(caller):
    assert upload(caller("coordinator"), CSV_OK.encode()).status_code == 404


def test_openapi_documents_the_unit_fields(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/units", "/api/v1/units/{unit_id}", "/api/v1/units/{unit_id}/publish",
            "/api/v1/units/{unit_id}/withdraw", "/api/v1/units/import"} <= set(spec["paths"])
    props = spec["components"]["schemas"]["Unit"]["properties"]
    assert set(units.FIELDS) | {"id", "status", "department"} <= set(props)


def test_a_page_number_past_the_databases_integers_is_refused(landlord):
    r = landlord.get("/units?page=189335235388201271296")
    assert r.status_code == 422 and "page" in r.json["errors"]["query"]


def test_publish_many_is_all_or_nothing(landlord, caller, db):
    org = landlord.user.organisation
    drafts = [factories.create_unit(db, landlord=org, status="draft", reference=f"API-{i}") for i in range(2)]
    published = factories.create_unit(db, landlord=org, status="published", reference="API-PUB")
    foreign = factories.create_unit(db, status="draft")
    db.commit()
    ids = [u.public_id for u in drafts]
    r = landlord.post("/units/publish", json={"units": [*ids, published.public_id]})
    assert r.status_code == 409 and "API-PUB" in r.json["errors"]["units"][0]
    assert landlord.post("/units/publish", json={"units": [*ids, foreign.public_id]}).status_code == 404
    # a NUL byte is refused at the edge (400) before any query; an id we never give: no such unit
    assert landlord.post("/units/publish", json={"units": [*ids, "\u00e3|\u0000"]}).status_code == 400
    assert landlord.post("/units/publish", json={"units": [*ids, "\u00e3|x"]}).status_code == 404
    assert landlord.post("/units/publish", json={"units": []}).status_code == 422
    assert landlord.post("/units/publish", json={"units": ids, "all": True}).status_code == 422
    assert caller("association").post("/units/publish", json={"units": ids}).status_code == 404
    db.expire_all()
    assert {db.get(Unit, u.id).status for u in drafts} == {"draft"}
    r = landlord.post("/units/publish", json={"units": ids})
    assert r.status_code == 200 and r.json["published"] == 2
    assert {u["status"] for u in r.json["units"]} == {"published"}
