"""GET /api/v1/stats: committee and coordinators only, the quarter's figures, small counts hidden."""

from __future__ import annotations

import pytest

from models import crypto
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import build_quarter_world


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def headers(db, role, departments=("59", "62")):
    kind = "coordinator" if role == "admin" else role
    org = factories.create_organisation(db, kind, departments=list(departments))
    user = factories.create_user(db, role, organisation=org)
    token = factories.create_token(db, user)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def cells(body, table, key):
    t = next(t for t in body["tables"] if t["key"] == table)
    return next(r for r in t["rows"] if r["key"] == key)["cells"]


@pytest.mark.parametrize("role", ["committee", "coordinator"])
def test_quarter_figures_with_small_counts_hidden(client, db, role):
    build_quarter_world(db)
    response = client.get("/api/v1/stats?quarter=2026-Q4&departments=59,62", headers=headers(db, role))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["quarter"] == "2026-Q4" and body["departments"] == ["59", "62"]
    assert [p["key"] for p in body["periods"]] == ["2026-Q4", "2026-Q3", "2026-YTD4"]
    assert body["periods"][0]["end"] == "2026-12-31"
    # 62's 2 is in Q4's 8 and the year's 14: hidden with it (tests/services/test_differencing.py).
    assert [c["value"] for c in cells(body, "headline", "submitted")] == [None, 5, None]
    dep62 = cells(body, "by_department", "dep:62")[0]
    assert dep62 == {"value": None, "kind": "count", "suppressed": "masked"}
    assert cells(body, "by_department", "dep:59")[0]["value"] == 6
    for table in body["tables"]:
        for row in table["rows"]:
            for cell in row["cells"]:
                if cell["kind"] == "count" and cell["value"] is not None:
                    assert not 1 <= cell["value"] <= 4, (table["key"], row["label"])


def test_year_end_quarter_and_default_departments(client, db):
    response = client.get("/api/v1/stats?quarter=2027-Q1", headers=headers(db, "committee", ("62", "59")))
    assert response.status_code == 200
    body = response.json
    assert body["departments"] == ["59", "62"]
    assert [p["key"] for p in body["periods"]] == ["2027-Q1", "2026-Q4", "2027-YTD1"]


def test_bad_quarter_and_departments_outside_the_organisation(client, db):
    h = headers(db, "committee")
    response = client.get("/api/v1/stats?quarter=2026-Q5", headers=h)
    assert response.status_code == 422 and "quarter" in response.json["errors"]
    response = client.get("/api/v1/stats?quarter=2026-Q4&departments=75", headers=h)
    assert response.status_code == 422 and "departments" in response.json["errors"]


@pytest.mark.parametrize("role", ["landlord", "association", "admin"])
def test_other_roles_get_404(client, db, role):
    assert client.get("/api/v1/stats?quarter=2026-Q4", headers=headers(db, role)).status_code == 404


def test_anonymous_gets_401(client):
    assert client.get("/api/v1/stats?quarter=2026-Q4").status_code == 401
