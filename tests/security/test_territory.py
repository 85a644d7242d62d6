"""Coordinators are held to their territory, through every page and API route.

Two coordination teams, one of 13/83 and one of 59/62, each with households, units and
runs of its own: route by route, each sees nothing of the other (lists exclude, details
answer 404, actions answer 404 and change nothing). No coordinator answer contains a
household's exclusion zones or preferred points. On the code before `services.territory`,
every test here fails: the coordinator of 13/83 listed the households of 59/62 with their
zones, read, dropped proposals of and released a run of 59/62.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from models import Household, MatchRun, Proposal, Unit
from models.runs import TerritoryPolicy
from services import accounts, territory
from tests import factories
from tests.conftest import enrol_totp
from web import access

# Distinctive values: none of them may appear in anything a coordinator reads.
ZONE_LAT, ZONE_LON, ZONE_COMMUNE = 43.28139, 5.37321, "13210"
POINT_LAT, POINT_LON, POINT_LABEL = 43.30117, 5.36977, "ecole-canari-8391"
NORTH_LAT, NORTH_LON, NORTH_COMMUNE = 50.70417, 3.14233, "59512"
CANARIES = tuple(str(v) for v in (ZONE_LAT, ZONE_LON, POINT_LAT, POINT_LON, POINT_LABEL, NORTH_LAT, NORTH_LON)) + (
    '"commune": "13210"', '"commune": "59512"', "13210", "59512")


class Caller:
    """The test client calling the API with a bearer token."""

    def __init__(self, client: Any, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method: str) -> Any:
        return lambda url, **kw: getattr(self.client, method)(url, headers=self.headers, **kw)


def _territory(db, codes: list[str], zones: list[dict[str, Any]], points: list[dict[str, Any]]) -> dict[str, Any]:
    """A coordinator, an association, a landlord, a household, a unit and runs in `codes`."""
    coordination = factories.create_organisation(db, "coordinator", departments=codes)
    coordinator = factories.create_user(db, "coordinator", organisation=coordination)
    association = factories.create_organisation(db, "association", departments=codes)
    landlord = factories.create_organisation(db, "landlord", departments=codes)
    main, commune = codes[0], {"13": "13055", "59": "59350"}[codes[0]]
    household = factories.create_household(db, association, search_area={"communes": [], "departments": codes},
                                           exclusion_zones=zones, preferred_points=points)
    # Searching in a commune of the territory, with an empty department list.
    by_commune = factories.create_household(db, association, search_area={"communes": [commune], "departments": []},
                                            exclusion_zones=zones[:1])
    unit = factories.create_unit(db, landlord, commune=commune, department=main)
    review = factories.create_run(db, departments=codes, status="succeeded", released_at=None,
                                  stats={"units": 1, "households": 2, "matched": 1, "proposals": 1},
                                  unmatched=[{"household": by_commune.public_id, "reasons": ["size"]}])
    proposal = factories.create_proposal(db, unit, household, review, status="review", deadline=None)
    failed = factories.create_run(db, departments=codes, status="failed", released_at=None,
                                  error=json.dumps({"code": "silent", "params": {}}))
    db.commit()
    return {"coordinator": coordinator, "household": household, "by_commune": by_commune, "unit": unit,
            "review": review, "proposal": proposal, "failed": failed, "codes": codes}


@pytest.fixture
def south(db):
    return _territory(db, ["13", "83"],
                      zones=[{"lat": ZONE_LAT, "lon": ZONE_LON, "radius_km": 7.5}, {"commune": ZONE_COMMUNE},
                             {"department": "84"}],
                      points=[{"lat": POINT_LAT, "lon": POINT_LON, "label": POINT_LABEL}])


@pytest.fixture
def north(db):
    return _territory(db, ["59", "62"], zones=[{"lat": NORTH_LAT, "lon": NORTH_LON, "radius_km": 5.0},
                                               {"commune": NORTH_COMMUNE}], points=[])


def _api(client, db, user) -> Caller:
    enrol_totp(db, user.email)
    token = accounts.create_token(db, user)
    db.commit()
    return Caller(client, token)


def _state(db) -> list[tuple[Any, ...]]:
    """Everything an action could change: runs, proposals, units, households, policies."""
    db.expire_all()
    return [
        tuple(db.execute(sa.select(MatchRun.public_id, MatchRun.status, MatchRun.attempt).order_by(MatchRun.id))),
        tuple(db.execute(sa.select(Proposal.public_id, Proposal.status, Proposal.drop_reason).order_by(Proposal.id))),
        tuple(db.execute(sa.select(Unit.public_id, Unit.status).order_by(Unit.id))),
        tuple(db.execute(sa.select(Household.public_id, Household.status).order_by(Household.id))),
        tuple(db.execute(sa.select(TerritoryPolicy.organisation_id, TerritoryPolicy.policy)
                         .order_by(TerritoryPolicy.id))),
    ]


# --- The rule itself, in SQL, on both engines -------------------------------------------


def test_the_territory_clauses(db):
    """Runs: all departments in; households: where her runs would match her (search area, else association)."""
    a59 = factories.create_organisation(db, "association", departments=["59"])
    a13 = factories.create_organisation(db, "association", departments=["13"])
    h59 = factories.create_household(db, a59, search_area={"communes": [], "departments": ["59"]})
    h_commune_13 = factories.create_household(db, a59, search_area={"communes": ["13055"], "departments": []})
    h_empty_13 = factories.create_household(db, a13, search_area={})
    h_overseas = factories.create_household(db, a59, search_area={"communes": ["97105"], "departments": []})
    h_both = factories.create_household(db, a59, search_area={"communes": [], "departments": ["59", "13"]})
    r59 = factories.create_run(db, departments=["59", "62"])
    r13 = factories.create_run(db, departments=["13"])
    r_mixed = factories.create_run(db, departments=["13", "59"])
    households = lambda codes: set(db.scalars(  # noqa: E731
        sa.select(Household.public_id).where(territory.households(db, codes))))
    runs = lambda codes: set(db.scalars(sa.select(MatchRun.public_id).where(territory.runs(db, codes))))  # noqa: E731
    assert households(["13", "83"]) == {h_commune_13.public_id, h_empty_13.public_id, h_both.public_id}
    assert households(["59", "62"]) == {h59.public_id, h_both.public_id}
    assert households(["971"]) == {h_overseas.public_id}
    assert households([]) == set()
    # A run of 13+59 belongs to neither single territory.
    assert runs(["13", "83"]) == {r13.public_id}
    assert runs(["59", "62"]) == {r59.public_id}
    assert runs(["13", "59", "62"]) == {r59.public_id, r13.public_id, r_mixed.public_id}
    assert runs([]) == set()


def test_the_household_rule_is_the_run_builders(db):
    """Whoever a run of a territory would match, and only she, is of that territory."""
    from services.runs import household_departments

    association = factories.create_organisation(db, "association", departments=["62"])
    areas = [{}, {"departments": ["13"]}, {"communes": ["59350"]}, {"communes": ["2A004"], "departments": []},
             {"communes": ["97411"], "departments": ["62"]}]
    rows = [factories.create_household(db, association, search_area=a) for a in areas]
    for codes in (["13"], ["59"], ["62"], ["2A"], ["974"], ["75"]):
        expected = {h.public_id for h in rows if household_departments(h.search_area, ["62"]) & set(codes)}
        got = set(db.scalars(sa.select(Household.public_id).where(
            Household.id.in_([h.id for h in rows]), territory.households(db, codes))))
        assert got == expected, codes


# --- Every coordinator route is declared, and this crawl calls every declared one ----------

# Every territory-scoped route, with how the crawl below calls it on the other territory's record.
CRAWLED = {
    "coordinators.index", "coordinators.start_run", "coordinators.run", "coordinators.run_progress",
    "coordinators.drop_proposal", "coordinators.release_run", "coordinators.restart_run", "coordinators.policy",
    "units.Units", "units.UnitById", "households.Households", "match_runs.MatchRuns", "match_runs.MatchRunItem",
    "match_runs.MatchRunProposals", "match_runs.DropProposal", "match_runs.ReleaseRun", "match_runs.RestartRun",
    "stats.Stats", "offers.direct", "households.HouseholdItem",
    # test_conventions_quarters_and_refused_offers_hold_each_coordinator_to_her_territory
    "coordinators.conventions", "coordinators.convention", "coordinators.convention_new",
    "coordinators.convention_commitment", "coordinators.convention_training", "coordinators.close_quarter",
    "coordinators.refused_offers",
    # tests/web/test_request_and_direct_pages.py::test_another_territory_s_coordinator_sees_none_of_them
    "coordinators.direct_match",
    # tests/web/test_shelter_pages.py::test_another_territory_s_coordinator_reaches_none_of_it
    "coordinators.shelter_places", "coordinators.shelter_household", "coordinators.end_stay",
}


def _coordinator_endpoints() -> set[str]:
    found = set()
    for endpoint, rule in access.ACCESS.items():
        roles = set().union(*rule.values()) if isinstance(rule, dict) else set(rule)
        if "coordinator" in roles:
            found.add(endpoint)
    return found


def test_every_coordinator_route_is_territory_scoped_or_has_no_territory():
    undeclared = sorted(_coordinator_endpoints() - access.TERRITORY_SCOPED - access.COORDINATOR_UNSCOPED
                        - access.TERRITORY_PENDING)
    assert not undeclared, ("coordinator routes neither in web/access.py TERRITORY_SCOPED nor in "
                            "COORDINATOR_UNSCOPED: " + ", ".join(undeclared))
    assert not access.TERRITORY_SCOPED & access.COORDINATOR_UNSCOPED
    assert not access.TERRITORY_PENDING & (access.TERRITORY_SCOPED | access.COORDINATOR_UNSCOPED)
    assert access.TERRITORY_PENDING <= _coordinator_endpoints(), "a pending route that no longer exists"
    uncrawled = sorted(access.TERRITORY_SCOPED - CRAWLED)
    assert not uncrawled, "territory-scoped routes this file's crawl does not call: " + ", ".join(uncrawled)
    assert CRAWLED <= _coordinator_endpoints()


# --- The API -----------------------------------------------------------------------------


def test_api_lists_hold_each_coordinator_to_her_territory(client, db, south, north):
    for mine, theirs in ((south, north), (north, south)):
        api = _api(client, db, mine["coordinator"])
        households = api.get("/api/v1/households?per_page=100")
        assert households.status_code == 200
        ids = {h["id"] for h in households.get_json()["items"]}
        assert ids == {mine["household"].public_id, mine["by_commune"].public_id}
        assert households.get_json()["total"] == 2
        # Asking for the other territory's department filters within hers: nothing.
        other_dep = theirs["codes"][0]
        assert api.get(f"/api/v1/households?department={other_dep}").get_json()["items"] == []
        units = api.get("/api/v1/units?per_page=100").get_json()
        assert {u["id"] for u in units["items"]} == {mine["unit"].public_id}
        assert api.get(f"/api/v1/units?department={other_dep}").get_json()["total"] == 0


def test_api_details_and_actions_of_another_territory_answer_404_and_change_nothing(client, db, south, north):
    for mine, theirs in ((south, north), (north, south)):
        api = _api(client, db, mine["coordinator"])
        before = _state(db)
        review, failed, proposal = theirs["review"].public_id, theirs["failed"].public_id, theirs["proposal"].public_id
        missing = {"code": 404}
        for response in (
            api.get(f"/api/v1/match-runs/{review}"),
            api.get(f"/api/v1/match-runs/{failed}"),
            api.get(f"/api/v1/match-runs/{review}/proposals"),
            api.post(f"/api/v1/match-runs/{review}/proposals/{proposal}/drop", json={"reason": "pas chez nous"}),
            api.post(f"/api/v1/match-runs/{review}/release"),
            api.post(f"/api/v1/match-runs/{failed}/restart"),
            api.get(f"/api/v1/units/{theirs['unit'].public_id}"),
            api.get(f"/api/v1/households/{theirs['household'].public_id}"),
        ):
            assert response.status_code == 404, response.request.path
            assert response.get_json()["code"] == missing["code"]
        # The same answer as for a run that does not exist.
        same = ("code", "status", "errors")
        theirs_answer = api.get(f"/api/v1/match-runs/{review}").get_json()
        none_answer = api.get("/api/v1/match-runs/R-does-not-exist").get_json()
        assert {k: theirs_answer.get(k) for k in same} == {k: none_answer.get(k) for k in same}
        # Starting a run or reading figures there is refused, naming the departments.
        # A direct match of the other territory's unit or household: as if neither existed.
        for unit, household in ((theirs["unit"], theirs["household"]), (theirs["unit"], mine["household"]),
                                (mine["unit"], theirs["household"])):
            direct = api.post("/api/v1/proposals", json={"unit": unit.public_id, "household": household.public_id,
                                                         "reason": "urgence"})
            assert direct.status_code == 404, (unit.public_id, household.public_id)
        started = api.post("/api/v1/match-runs", json={"departments": theirs["codes"]})
        assert started.status_code == 422
        assert "departments" in started.get_json()["errors"]
        figures = api.get(f"/api/v1/stats?quarter=2026-Q4&departments={','.join(theirs['codes'])}")
        assert figures.status_code == 422
        assert _state(db) == before
        # Her own run is hers.
        assert api.get(f"/api/v1/match-runs/{mine['review'].public_id}").status_code == 200
        own = api.get(f"/api/v1/match-runs/{mine['review'].public_id}/proposals").get_json()
        assert [p["id"] for p in own["items"]] == [mine["proposal"].public_id]
        assert api.get(f"/api/v1/units/{mine['unit'].public_id}").status_code == 200
        # Her household, as her list shows it (never its zones: see below).
        own_household = api.get(f"/api/v1/households/{mine['household'].public_id}")
        assert own_household.status_code == 200 and own_household.get_json()["id"] == mine["household"].public_id
        assert api.get(f"/api/v1/stats?quarter=2026-Q4&departments={mine['codes'][0]}").status_code == 200


def test_api_actions_on_her_own_territory_still_work(client, db, south, north):
    api = _api(client, db, south["coordinator"])
    run, proposal = south["review"].public_id, south["proposal"].public_id
    dropped = api.post(f"/api/v1/match-runs/{run}/proposals/{proposal}/drop", json={"reason": "déjà relogée"})
    assert dropped.status_code == 200
    assert dropped.get_json()["status"] == "dropped"
    assert api.post(f"/api/v1/match-runs/{run}/release").status_code == 200
    db.expire_all()
    assert db.scalar(sa.select(MatchRun.status).where(MatchRun.public_id == run)) == "released"
    # The other territory's run is untouched.
    assert db.scalar(sa.select(MatchRun.status).where(MatchRun.id == north["review"].id)) == "succeeded"


def test_a_coordinator_without_departments_reaches_nothing(client, db, south, north):
    coordination = factories.create_organisation(db, "coordinator", departments=[])
    api = _api(client, db, factories.create_user(db, "coordinator", organisation=coordination))
    assert api.get("/api/v1/households").get_json()["total"] == 0
    assert api.get("/api/v1/units").get_json()["total"] == 0
    assert api.get(f"/api/v1/match-runs/{south['review'].public_id}").status_code == 404
    assert api.post("/api/v1/match-runs", json={"departments": ["13"]}).status_code == 422
    assert api.get("/api/v1/stats?quarter=2026-Q4&departments=13").status_code == 422


# --- The pages ----------------------------------------------------------------------------


def test_pages_hold_each_coordinator_to_her_territory(app, client, db, login_as, south, north):
    for mine, theirs in ((south, north), (north, south)):
        client.post("/deconnexion")
        login_as(mine["coordinator"])
        home = client.get("/coordination/").get_data(as_text=True)
        assert mine["review"].public_id in home and mine["failed"].public_id in home
        assert theirs["review"].public_id not in home and theirs["failed"].public_id not in home
        assert ", ".join(theirs["codes"]) not in home.split("new-run-title")[0]
        before = _state(db)
        review, failed, proposal = theirs["review"].public_id, theirs["failed"].public_id, theirs["proposal"].public_id
        for response in (
            client.get(f"/coordination/rapprochements/{review}"),
            client.get(f"/coordination/rapprochements/{review}/progression"),
            client.post(f"/coordination/rapprochements/{review}/propositions/{proposal}/ecarter",
                        data={f"{proposal}-drop-reason": "pas chez nous"}),
            client.post(f"/coordination/rapprochements/{review}/diffuser"),
            client.post(f"/coordination/rapprochements/{failed}/relancer"),
        ):
            assert response.status_code == 404, response.request.path
        started = client.post("/coordination/rapprochements", data={"departments": ",".join(theirs["codes"])})
        assert started.status_code == 422
        # Her rules are her organisation's: saving them leaves the other territory's untouched.
        saved = client.post("/coordination/regles", data={"max_effort_rate": "27", "candidates_per_unit": "2",
                                                        "horizon_days": "60"})
        assert saved.status_code == 303
        after = _state(db)
        assert after[:4] == before[:4]
        other = theirs["coordinator"].organisation_id
        assert dict(after[4]).get(other) == dict(before[4]).get(other)
        assert dict(after[4])[mine["coordinator"].organisation_id]["horizon_days"] == 60
        assert client.get(f"/coordination/rapprochements/{mine['review'].public_id}").status_code == 200


def _conventions_and_refusals(db, side: dict[str, Any]) -> None:
    """A convention, a committee and a refused offer of one territory (kept in `side`)."""
    import datetime as dt

    from models import RefusedOffer, RehousingRequest
    from services import conventions

    codes = side["codes"]
    side["convention"] = conventions.create_convention(
        db, user=side["coordinator"], title=f"Convention {codes[0]}", parties="FNSF", funders="",
        departments=",".join(codes), starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2027, 1, 1))
    side["landlord"] = side["unit"].landlord
    factories.create_organisation(db, "committee", departments=codes[:1])
    request = RehousingRequest(association_id=side["household"].association_id, household_id=side["household"].id,
                               departments=codes, message=None)
    db.add(request)
    db.flush()
    side["request"] = request
    db.add(RefusedOffer(request_id=request.id, unit_id=side["unit"].id, landlord_id=side["unit"].landlord_id,
                        rules=["exclusion_zone"]))
    db.commit()


def test_conventions_quarters_and_refused_offers_hold_each_coordinator_to_her_territory(client, db, login_as,
                                                                                        south, north):
    from models import Commitment, Convention, QuarterSnapshot, TrainingRecord
    from services import conventions
    from services.stats import Quarter

    for side in (south, north):
        _conventions_and_refusals(db, side)
    for mine, theirs in ((south, north), (north, south)):
        client.post("/deconnexion")
        login_as(mine["coordinator"])
        listed = client.get("/coordination/conventions").get_data(as_text=True)
        assert mine["convention"].title in listed and theirs["convention"].title not in listed
        other = theirs["convention"].id
        landlord = theirs["landlord"].id
        for response in (
            client.get(f"/coordination/conventions/{other}"),
            client.post(f"/coordination/conventions/{other}/engagements", data={
                "c-organisation_id": landlord, "c-year": 2026, "c-kind": "units_posted", "c-target": 12}),
            client.post(f"/coordination/conventions/{other}/formations", data={
                "t-organisation_id": landlord, "t-held_on": "2026-03-04", "t-persons": 6}),
        ):
            assert response.status_code == 404, response.request.path
        assert db.scalar(sa.select(sa.func.count()).select_from(Commitment)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(TrainingRecord)) == 0
        # A new convention on the other territory's departments is refused, naming them.
        refused = client.post("/coordination/conventions/nouvelle", data={
            "title": "Chez les autres", "parties": "FNSF", "departments": ",".join(theirs["codes"]),
            "starts_on": "2026-01-01", "ends_on": "2027-01-01"})
        assert refused.status_code == 422 and "Hors de votre territoire" in refused.get_data(as_text=True)
        assert db.scalar(sa.select(Convention.id).where(Convention.title == "Chez les autres")) is None
        assert client.get("/coordination/conventions/nouvelle").status_code == 200
        assert client.get(f"/coordination/conventions/{mine['convention'].id}").status_code == 200
        # Closing a quarter freezes her territory and the committees inside it, nobody else's.
        last = Quarter.of(conventions.today()).previous()
        frozen = sa.select(QuarterSnapshot.scope).where(QuarterSnapshot.quarter == str(last))
        before = set(db.scalars(frozen))
        assert client.post("/coordination/trimestres/clore", data={"q-quarter": str(last)}).status_code == 303
        new = set(db.scalars(frozen)) - before
        # Her territory's figures and her committee's (inside it); the other committee's are not hers to freeze.
        assert new == {f"departments:{','.join(mine['codes'])}", f"departments:{mine['codes'][0]}"}
        # The refused offers: those on her territory's units only.
        page = client.get("/coordination/offres-refusees").get_data(as_text=True)
        assert mine["request"].public_id in page and theirs["request"].public_id not in page


def test_the_policy_page_shows_her_own_territorys_rules(client, db, login_as, south, north):
    login_as(north["coordinator"])
    client.post("/coordination/regles", data={"max_effort_rate": "22", "candidates_per_unit": "4",
                                              "horizon_days": "45"})
    client.post("/deconnexion")
    login_as(south["coordinator"])
    page = client.get("/coordination/regles").get_data(as_text=True)
    assert 'value="45"' not in page and 'value="30"' in page


# --- No coordinator reads where she must not live --------------------------------------------


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def test_no_coordinator_answer_holds_zones_or_preferred_points(client, db, login_as, south, north):
    coordinator = south["coordinator"]
    api = _api(client, db, coordinator)
    listed = api.get("/api/v1/households?per_page=100")
    items = {h["id"]: h for h in listed.get_json()["items"]}
    mine = items[south["household"].public_id]
    for hidden in ("exclusion_zones", "preferred_points", "notes"):
        assert hidden not in mine
    assert mine["exclusion_zone_count"] == 3 and mine["zones_checked"] is True
    assert items[south["by_commune"].public_id]["exclusion_zone_count"] == 1
    texts = [listed.get_data(as_text=True)]
    one = api.get(f"/api/v1/households/{south['household'].public_id}").get_json()
    assert one["exclusion_zone_count"] == 3 and one["zones_checked"] is True
    assert not {"exclusion_zones", "preferred_points", "notes"} & set(one)
    run = south["review"].public_id
    for url in (f"/api/v1/households/{south['household'].public_id}", "/api/v1/units",
                f"/api/v1/match-runs/{run}", f"/api/v1/match-runs/{run}/proposals"):
        texts.append(api.get(url).get_data(as_text=True))
    login_as(coordinator)
    for url in ("/coordination/", f"/coordination/rapprochements/{run}",
                f"/coordination/rapprochements/{run}/progression", "/coordination/regles"):
        response = client.get(url)
        assert response.status_code == 200, url
        texts.append(response.get_data(as_text=True))
    review = texts[-3]
    # The review says how many zones she has and that they are checked, never which.
    assert "3 zones d'exclusion, vérifiées" in review
    assert "1 zone d'exclusion, vérifiée" in review
    for text in texts:
        assert _leaks(text) == [], _leaks(text)


def test_the_zone_count_follows_every_write(db):
    association = factories.create_organisation(db, "association")
    household = factories.create_household(db, association, exclusion_zones=[])
    assert household.exclusion_zone_count == 0
    household.exclusion_zones = [{"department": "80"}, {"commune": "59350"}]
    db.flush()
    db.expire_all()
    assert db.get(Household, household.id).exclusion_zone_count == 2
    from services import households as svc

    svc.update_household(db, db.get(Household, household.id), {"exclusion_zones": [{"department": "62"}]},
                         actor=None)
    db.expire_all()
    assert db.get(Household, household.id).exclusion_zone_count == 1


def test_coordinator_pages_do_not_even_select_the_encrypted_columns(app, client, db, connection, login_as,
                                                                    south, north):
    """The review of her run and her lists send no SQL that names a zone, point or notes column."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    coordinator = south["coordinator"]
    api = _api(client, db, coordinator)
    login_as(coordinator)
    sa.event.listen(connection, "before_cursor_execute", record)
    try:
        run = south["review"].public_id
        for url in ("/coordination/", f"/coordination/rapprochements/{run}",
                    f"/coordination/rapprochements/{run}/progression"):
            assert client.get(url).status_code == 200
        for url in ("/api/v1/households", f"/api/v1/households/{south['household'].public_id}",
                    "/api/v1/units", f"/api/v1/match-runs/{run}/proposals"):
            assert api.get(url).status_code == 200
    finally:
        sa.event.remove(connection, "before_cursor_execute", record)
    assert any("households" in s for s in statements)
    named = [s for s in statements if any(c in s for c in ("exclusion_zones", "preferred_points", ".notes"))]
    assert named == []

