"""A unit goes from published to leased through each of the four origins, through /api/v1 only.

The landlord publishes a unit, the association files and activates a household; the proposal
is made by that origin's route (a coordinator's run, released; a candidacy; a rehousing request
answered by the landlord's offer; a coordinator's direct match); the association answers where
the origin needs it, the landlord's commission retains her, the lease is recorded. At every
step, what the landlord reads of the proposal holds nothing of where she may not live, where
she would like to live, her association's notes or its reference to her file.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from models import crypto
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_households import valid
from tests.web.api.test_proposals_api import Caller

TODAY = dt.date.today()
# Lille, with the point given: outside her exclusion zones, a T3 on the second floor with a lift.
UNIT = {"reference": "LMH-4V-001", "commune": "59350", "lat": 50.6292, "lon": 3.0573, "rooms": 3,
        "rent": 412.5, "charges": 85, "available_from": "2026-12-01", "surface_m2": 64, "floor": 2,
        "elevator": True, "financing": "PLUS"}
HOUSEHOLD = valid(reference="DOS-4V-SECRET", search_area={"communes": [], "departments": ["59"]},
                  notes="Rappeler le mardi, jamais le soir.")
# What the landlord must never read: her zones (a point, a commune, a department), her
# preferred point and its label, the notes, the association's reference.
SECRETS = ("exclusion", "preferred", "notes", "search_area", "50.7236", "3.161", "59599", "50.6201", "3.0512",
           "école", "Rappeler le mardi", "DOS-4V-SECRET", "radius")


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


class Api(Caller):
    """The proposals API's caller, with PATCH-free helpers for the other routes."""

    def ok(self, path: str, body: Any = None, status: int = 200) -> Any:
        r = self.post(path, body)
        assert r.status_code == status, (path, r.status_code, r.json)
        return r.json

    def read(self, path: str) -> Any:
        r = self.get(path)
        assert r.status_code == 200, (path, r.status_code, r.json)
        return r.json


@pytest.fixture
def parties(client, db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    association = factories.create_organisation(db, "association", departments=["59"])
    coordination = factories.create_organisation(db, "coordinator", departments=["59"])
    return (Api(client, db, factories.create_user(db, "landlord", organisation=landlord)),
            Api(client, db, factories.create_user(db, "association", organisation=association)),
            Api(client, db, factories.create_user(db, "coordinator", organisation=coordination)))


def blind(body: Any, household_id: str) -> Any:
    """The landlord's JSON holds no zone, no preferred point, no notes, no reference to her file."""
    text = json.dumps(body, ensure_ascii=False)
    for secret in (*SECRETS, household_id):
        assert secret not in text, secret
    if isinstance(body, dict) and "unit" in body:
        assert "household" not in body
        profile = body.get("profile") or {}
        assert not {"reference", "id", "exclusion_zones", "preferred_points", "notes"} & set(profile)
    return body


def make_proposal(origin: str, landlord: Api, association: Api, coordinator: Api, unit_id: str,
                  household_id: str) -> str:
    """The proposal made by this origin's route; its id."""
    if origin == "run":
        run = coordinator.ok("/match-runs", {"departments": ["59"]}, status=202)
        assert coordinator.read(f"/match-runs/{run['id']}")["status"] == "succeeded"  # JOBS_IMMEDIATE
        items = coordinator.read(f"/match-runs/{run['id']}/proposals")["items"]
        ours = [p for p in items if (p["unit"], p["household"]) == (unit_id, household_id)]
        assert len(ours) == 1 and ours[0]["status"] == "review", items
        # Not released: the landlord and the association know nothing of it.
        assert landlord.get(f"/proposals/{ours[0]['id']}").status_code == 404
        assert association.get(f"/proposals/{ours[0]['id']}").status_code == 404
        released = coordinator.ok(f"/match-runs/{run['id']}/release")
        assert released["status"] == "released" and released["stats"]["release"]["released"] == 1
        return str(ours[0]["id"])
    if origin == "candidacy":
        offers = association.read(f"/offers?household={household_id}")["items"]
        assert [o["compatible"] for o in offers if o["id"] == unit_id] == [True]
        made = association.ok("/candidacies", {"unit": unit_id, "household": household_id}, status=201)
        assert (made["origin"], made["status"]) == ("candidacy", "household_accepted")
        return str(made["id"])
    if origin == "request":
        request = association.ok("/requests", {"household": household_id, "message": "Deux enfants."}, status=201)
        seen = landlord.read("/requests")["items"]
        assert [r["id"] for r in seen] == [request["id"]]
        blind(seen, household_id)
        made = blind(landlord.ok(f"/requests/{request['id']}/offers", {"unit": unit_id}, status=201), household_id)
        assert (made["origin"], made["status"], made["profile"]) == ("request", "pending", None)
        return str(made["id"])
    assert origin == "direct"
    made = coordinator.ok("/proposals", {"unit": unit_id, "household": household_id,
                                         "reason": "Mise en danger immédiate"}, status=201)
    assert (made["origin"], made["status"]) == ("direct", "pending")
    return str(made["id"])


@pytest.mark.parametrize("origin", ["run", "candidacy", "request", "direct"])
def test_published_to_leased_through_each_origin(parties, origin):
    landlord, association, coordinator = parties
    # The landlord publishes a unit.
    unit = landlord.ok("/units", UNIT, status=201)
    assert unit["status"] == "draft"
    assert landlord.ok(f"/units/{unit['id']}/publish")["status"] == "published"
    # The association files a household and activates it with her consent.
    household = association.ok("/households", HOUSEHOLD, status=201)
    hid = household["id"]
    # The secrets are there for her association (so that their absence below means something).
    own = json.dumps(association.read(f"/households/{hid}"), ensure_ascii=False)
    assert all(s in own for s in ("50.7236", "59599", "50.6201", "école", "Rappeler le mardi", "DOS-4V-SECRET"))
    assert association.ok(f"/households/{hid}/activate",
                          {"consent_recorded_on": TODAY.isoformat()})["status"] == "active"

    pid = make_proposal(origin, landlord, association, coordinator, unit["id"], hid)
    path = f"/proposals/{pid}"
    first = blind(landlord.read(path), hid)
    assert first["origin"] == origin
    assert landlord.read(f"/units/{unit['id']}")["status"] == "proposed"

    # The association answers (a candidacy carries her consent already).
    if origin == "candidacy":
        assert first["status"] == "household_accepted"
        assert association.post(path + "/decision", {"decision": "accept"}).status_code == 409
    else:
        assert first["status"] == "pending" and first["profile"] is None
        answered = association.ok(path + "/decision", {"decision": "accept"})
        assert answered["status"] == "household_accepted" and answered["origin"] == origin
    seen = blind(landlord.read(path), hid)
    assert seen["status"] == "household_accepted" and seen["profile"]["persons"] == 3

    # The landlord's commission retains her first, then the lease is recorded.
    retained = blind(landlord.ok(path + "/decision", {"decision": "accept", "rank": 1}), hid)
    assert (retained["status"], retained["commission_rank"]) == ("commission_accepted", 1)
    blind(landlord.read(path), hid)
    terms = {"signed_on": TODAY.isoformat(), "move_in_on": (TODAY + dt.timedelta(days=10)).isoformat(),
             "kind": {"run": "direct", "candidacy": "sliding", "request": "sublet", "direct": "direct"}[origin]}
    if origin in ("run", "request"):
        leased = landlord.ok(path + "/lease", terms)
    else:  # the decision route takes the same terms
        leased = landlord.ok(path + "/decision", {"decision": "accept", "step": "lease", "lease": terms})
    blind(leased, hid)
    assert leased["status"] == "leased" and leased["lease"] == terms

    # Both sides read the result.
    final = blind(landlord.read(path), hid)
    assert (final["origin"], final["status"], final["lease"]) == (origin, "leased", terms)
    assert [d["step"] for d in final["decisions"]] == ["household", "commission", "lease"]
    assert final["decisions"][0]["reason"] is None
    listed = blind(landlord.read("/proposals"), hid)
    assert [(p["id"], p["origin"], p["status"]) for p in listed["items"]] == [(pid, origin, "leased")]
    mine = association.read(path)
    assert (mine["origin"], mine["status"], mine["lease"]) == (origin, "leased", terms)
    assert mine["household"]["id"] == hid
    assert landlord.read(f"/units/{unit['id']}")["status"] == "allocated"
    assert association.read(f"/households/{hid}")["status"] == "housed"
