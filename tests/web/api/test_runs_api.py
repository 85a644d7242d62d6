"""The match-runs API: start (202, idempotent), follow, read proposals, drop, release; coordinators only."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from models import MatchRun, Proposal
from tests import factories


class Caller:
    """The test client speaking for one user with a bearer token."""

    def __init__(self, client, db, user):  # type: ignore[no-untyped-def]
        self.client, self.user = client, user
        self.headers = {"Authorization": f"Bearer {factories.create_token(db, user)}"}
        db.commit()

    def __getattr__(self, method):  # type: ignore[no-untyped-def]
        def call(path, headers=None, **kw):  # type: ignore[no-untyped-def]
            return getattr(self.client, method)("/api/v1" + path, headers={**self.headers, **(headers or {})}, **kw)
        return call


@pytest.fixture
def coordinator(client, db):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "coordinator", departments=["59", "62", "80"])
    return Caller(client, db, factories.create_user(db, "coordinator", organisation=org))


@pytest.fixture
def homes(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord")
    association = factories.create_organisation(db, "association")
    units = [factories.create_unit(db, landlord=landlord),
             factories.create_unit(db, landlord=landlord, rooms=2, surface_m2=45.0, rent=350)]
    households = [factories.create_household(db, association=association, urgency=3),
                  factories.create_household(db, association=association, children=1),
                  factories.create_household(db, association=association, exclusion_zones=[{"department": "59"}])]
    db.commit()
    return units, households


def started(coordinator, departments=("59",), **kw):  # type: ignore[no-untyped-def]
    r = coordinator.post("/match-runs", json={"departments": list(departments)}, **kw)
    assert r.status_code == 202, r.json
    return r.json


def test_start_answers_202_and_the_job_runs(coordinator, homes, db):
    body = started(coordinator)
    assert body["id"].startswith("R-") and body["departments"] == ["59"]
    # The answer is written before the commit, and the job is queued only after it: the run
    # is "queued" in it, even when (JOBS_IMMEDIATE) the job runs before the answer leaves.
    assert body["status"] == "queued"
    r = coordinator.get(f"/match-runs/{body['id']}")
    assert r.status_code == 200
    body = r.json
    assert body["status"] == "succeeded" and body["progress"] == 1.0 and body["phase"] == "done"
    assert body["phase_label"] == "Terminé"
    assert body["stats"]["matched"] == 2 and body["stats"]["households"] == 3
    assert "unmatched" not in r.json and "idempotency_key" not in r.json


def test_a_run_that_stays_queued_is_reported_as_queued(coordinator, homes, app):
    app.config["JOBS_IMMEDIATE"] = False
    app.config["JOBS_SQLITE_PATH"] = app.instance_path + "/jobs.sqlite"
    body = started(coordinator)
    assert (body["status"], body["phase"], body["progress"], body["phase_label"]) == (
        "queued", "queued", 0.0, "En attente")
    from web.jobs import get_jobs
    assert get_jobs(app).pending_count() == 1


def test_the_same_idempotency_key_returns_the_same_run(coordinator, homes, db):
    first = started(coordinator, headers={"Idempotency-Key": "abc-123"})
    again = started(coordinator, headers={"Idempotency-Key": "abc-123"})
    assert again["id"] == first["id"]
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 1


def test_an_overlapping_run_is_refused_while_one_is_queued(coordinator, homes, app):
    app.config["JOBS_IMMEDIATE"] = False
    app.config["JOBS_SQLITE_PATH"] = app.instance_path + "/jobs.sqlite"
    first = started(coordinator, ["59", "62"])
    r = coordinator.post("/match-runs", json={"departments": ["62"]})
    assert r.status_code == 409
    assert first["id"] in r.json["errors"]["departments"][0]


@pytest.mark.parametrize("body, field", [
    ({}, "departments"),
    ({"departments": []}, "departments"),
    ({"departments": ["99"]}, "departments"),
    ({"departments": ["75"]}, "departments"),
    ({"departments": ["59"], "policy": {"max_effort_rate": 2}}, "policy"),
    ({"departments": ["59"], "policy": {"candidates_per_unit": 0}}, "policy"),
    ({"departments": ["59"], "policy": {"unknown_key": 1}}, "policy"),
])
def test_bad_input_is_answered_422_naming_the_field(coordinator, body, field, db):
    r = coordinator.post("/match-runs", json=body)
    assert r.status_code == 422, r.json
    errors = r.json["errors"]
    assert field in errors or field in errors.get("json", {}), errors
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 0


def test_policy_overrides_are_stored_with_the_run(coordinator, homes):
    r = coordinator.post("/match-runs", json={"departments": ["59"], "policy": {"candidates_per_unit": 1}})
    assert r.status_code == 202
    assert r.json["policy"]["candidates_per_unit"] == 1
    proposals = coordinator.get(f"/match-runs/{r.json['id']}/proposals").json["items"]
    assert {p["rank"] for p in proposals} == {1}


def test_proposals_list_every_proposal_with_its_components(coordinator, homes, db):
    run = started(coordinator)
    r = coordinator.get(f"/match-runs/{run['id']}/proposals?per_page=2")
    assert r.status_code == 200
    body = r.json
    total = db.scalar(sa.select(sa.func.count()).select_from(Proposal))
    assert body["total"] == total and body["per_page"] == 2 and len(body["items"]) == min(2, total)
    item = body["items"][0]
    assert set(item) == {"id", "unit", "household", "rank", "score", "components", "status",
                         "drop_reason", "deadline"}
    assert item["id"].startswith("P-") and item["unit"].startswith("U-") and item["household"].startswith("H-")
    assert abs(sum(item["components"].values()) - item["score"]) < 0.01
    assert item["status"] == "review"
    everything = coordinator.get(f"/match-runs/{run['id']}/proposals?per_page=200").json["items"]
    assert len({p["id"] for p in everything}) == total


def test_drop_then_release(coordinator, homes, db):
    units, households = homes
    run = started(coordinator)
    proposals = coordinator.get(f"/match-runs/{run['id']}/proposals").json["items"]
    target = proposals[0]["id"]

    r = coordinator.post(f"/match-runs/{run['id']}/proposals/{target}/drop", json={})
    assert r.status_code == 422 and "reason" in r.json["errors"]["json"]
    r = coordinator.post(f"/match-runs/{run['id']}/proposals/{target}/drop",
                         json={"reason": "Trop proche de l'ancien domicile"})
    assert r.status_code == 200 and r.json["status"] == "dropped"
    assert r.json["drop_reason"] == "Trop proche de l'ancien domicile"
    r = coordinator.post(f"/match-runs/{run['id']}/proposals/{target}/drop", json={"reason": "encore une fois"})
    assert r.status_code == 409

    r = coordinator.post(f"/match-runs/{run['id']}/release")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "released" and r.json["released_at"]
    assert r.json["stats"]["release"] == {"released": len(proposals) - 1, "cancelled": 0}
    after = {p["id"]: p for p in coordinator.get(f"/match-runs/{run['id']}/proposals").json["items"]}
    assert after[target]["status"] == "dropped" and after[target]["deadline"] is None
    deadline = (dt.date.fromisoformat(r.json["released_at"][:10]) + dt.timedelta(days=10)).isoformat()
    assert {p["deadline"] for pid, p in after.items() if pid != target} <= {
        deadline, (dt.date.fromisoformat(deadline) + dt.timedelta(days=1)).isoformat()}
    assert {p["status"] for pid, p in after.items() if pid != target} == {"pending"}

    assert coordinator.post(f"/match-runs/{run['id']}/release").status_code == 409
    r = coordinator.post(f"/match-runs/{run['id']}/proposals/{proposals[1]['id']}/drop", json={"reason": "trop tard"})
    assert r.status_code == 409


def test_release_uses_the_configured_reply_time(coordinator, homes, app):
    app.config["PROPOSAL_REPLY_DAYS"] = 14
    run = started(coordinator)
    coordinator.post(f"/match-runs/{run['id']}/release")
    from services.runs import today
    deadlines = {p["deadline"] for p in coordinator.get(f"/match-runs/{run['id']}/proposals").json["items"]}
    assert deadlines == {(today() + dt.timedelta(days=14)).isoformat()}


def test_a_failed_run_can_be_restarted(coordinator, homes, db, monkeypatch):
    import matching

    def broken(*a, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(matching, "solve", broken)
    run = coordinator.get(f"/match-runs/{started(coordinator)['id']}").json
    assert run["status"] == "failed" and "solver crashed" in run["error"]
    assert coordinator.post(f"/match-runs/{run['id']}/release").status_code == 409
    monkeypatch.undo()
    r = coordinator.post(f"/match-runs/{run['id']}/restart")
    assert r.status_code == 202 and r.json["status"] == "queued" and r.json["attempt"] == 2
    assert coordinator.get(f"/match-runs/{run['id']}").json["status"] == "succeeded"
    assert coordinator.post(f"/match-runs/{run['id']}/restart").status_code == 409


def test_unknown_runs_and_proposals_are_404(coordinator, homes):
    assert coordinator.get("/match-runs/R-nothing").status_code == 404
    run = started(coordinator)
    r = coordinator.post(f"/match-runs/{run['id']}/proposals/P-nothing/drop", json={"reason": "aucune"})
    assert r.status_code == 404


@pytest.mark.parametrize("role", ["landlord", "association", "committee", "admin"])
def test_other_roles_get_404_on_every_route(client, db, role, coordinator, homes):
    run = started(coordinator)
    pid = coordinator.get(f"/match-runs/{run['id']}/proposals").json["items"][0]["id"]
    other = Caller(client, db, factories.create_user(db, role))
    for method, path in [("post", "/match-runs"), ("get", f"/match-runs/{run['id']}"),
                         ("get", f"/match-runs/{run['id']}/proposals"),
                         ("post", f"/match-runs/{run['id']}/proposals/{pid}/drop"),
                         ("post", f"/match-runs/{run['id']}/restart"),
                         ("post", f"/match-runs/{run['id']}/release")]:
        r = getattr(other, method)(path, json={"departments": ["59"], "reason": "xxx"})
        assert r.status_code == 404, (method, path)
    assert db.scalar(sa.select(MatchRun.status).where(MatchRun.public_id == run["id"])) == "succeeded"


def test_anonymous_callers_get_401(client):
    assert client.post("/api/v1/match-runs", json={"departments": ["59"]}).status_code == 401
    assert client.get("/api/v1/match-runs/R-x").status_code == 401


def test_the_browser_session_needs_its_csrf_token(client, db, login_as, app, homes):
    login_as("coordinator")
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post("/api/v1/match-runs", json={"departments": ["59"]})
    assert r.status_code == 400
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 0
