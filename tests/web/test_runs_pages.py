"""Coordination pages of match runs: start, progress fragment, review, drop, release, restart."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from models import MatchRun, Proposal
from tests import factories


@pytest.fixture
def coordinator(login_as, db):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "coordinator", departments=["59", "62"])
    return login_as(factories.create_user(db, "coordinator", organisation=org))


@pytest.fixture
def homes(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", name="Lille Métropole Habitat Test")
    association = factories.create_organisation(db, "association", name="Solidarité Femmes Test")
    units = [factories.create_unit(db, landlord=landlord, reference="LMH-T3"),
             factories.create_unit(db, landlord=landlord, reference="LMH-T2", rooms=2, surface_m2=45.0, rent=350)]
    households = [
        factories.create_household(db, association=association, urgency=3, reference="SECRET-REF-1",
                                   exclusion_zones=[{"lat": 50.7236, "lon": 3.1610, "radius_km": 10.0}]),
        factories.create_household(db, association=association, children=1, reference="SECRET-REF-2"),
        factories.create_household(db, association=association, reference="SECRET-REF-3",
                                   exclusion_zones=[{"commune": "59350"}]),
    ]
    db.commit()
    return units, households


def form_key(html: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1)


def start(client, key="key-1", departments="59"):  # type: ignore[no-untyped-def]
    return client.post("/coordination/rapprochements", data={
        "departments": departments, "max_effort_rate": "30", "candidates_per_unit": "3",
        "horizon_days": "90", "idempotency_key": key})


def test_home_lists_runs_and_offers_the_form_with_a_fresh_key(client, coordinator, db):
    r = client.get("/coordination/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Nouveau rapprochement" in html and "Aucun rapprochement" in html
    assert 'value="59, 62"' in html and 'value="30"' in html
    assert form_key(html) != form_key(client.get("/coordination/").get_data(as_text=True))


def test_start_a_run_and_see_it_reviewed(client, coordinator, homes, db):
    units, households = homes
    r = start(client)
    assert r.status_code == 303
    run = db.scalar(sa.select(MatchRun))
    assert r.headers["Location"].endswith(f"/coordination/rapprochements/{run.public_id}")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Rapprochement lancé." in html
    assert '<progress id="run-progress-bar" value="100.0" max="100"' in html and "Terminé" in html
    assert 'hx-trigger' not in html  # finished: no polling
    assert "Logement LMH-T3" in html and "Lille (59350)" in html and "Lille Métropole Habitat Test" in html
    assert households[0].public_id in html and "Solidarité Femmes Test" in html
    assert "Urgence : 1500.0" not in html and "Urgence : " in html  # components in words
    assert "Ménages sans proposition" in html and "zone d&#39;exclusion" in html
    # Never where she must not live, never her association's own reference.
    for secret in ("50.7236", "3.161", "radius", "SECRET-REF"):
        assert secret not in html
    listing = client.get("/coordination/").get_data(as_text=True)
    assert run.public_id in listing and "À examiner" in listing


def test_submitting_the_same_form_twice_starts_one_run(client, coordinator, homes, db):
    assert start(client, key="same").status_code == 303
    r = start(client, key="same")
    assert r.status_code == 303
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 1


def test_a_form_error_is_shown_on_its_field(client, coordinator, db):
    r = start(client, departments="59, 75")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Hors de votre territoire : 75" in html
    assert 'aria-invalid="true"' in html
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == 0


def test_an_overlapping_run_is_refused_while_one_is_queued(client, coordinator, homes, db, app):
    app.config["JOBS_IMMEDIATE"] = False
    app.config["JOBS_SQLITE_PATH"] = app.instance_path + "/jobs.sqlite"
    assert start(client, key="a").status_code == 303
    r = start(client, key="b", departments="59, 62")
    assert r.status_code == 409 and "déjà en cours" in r.get_data(as_text=True)


def test_the_progress_fragment_polls_while_the_run_works_and_reloads_at_the_end(client, coordinator, homes, db, app):
    app.config["JOBS_IMMEDIATE"] = False
    app.config["JOBS_SQLITE_PATH"] = app.instance_path + "/jobs.sqlite"
    start(client)
    run = db.scalar(sa.select(MatchRun))
    url = f"/coordination/rapprochements/{run.public_id}/progression"
    page = client.get(f"/coordination/rapprochements/{run.public_id}").get_data(as_text=True)
    assert f'hx-get="{url}"' in page and 'hx-trigger="every 1s"' in page
    run.status, run.phase, run.progress = "running", "optimisation", 0.6
    db.commit()
    r = client.get(url, headers={"HX-Request": "true"})
    fragment = r.get_data(as_text=True)
    assert "HX-Refresh" not in r.headers
    assert "Optimisation" in fragment and 'value="60.0"' in fragment and 'hx-trigger="every 1s"' in fragment
    assert "<html" not in fragment
    run.status, run.phase, run.progress = "succeeded", "done", 1.0
    db.commit()
    r = client.get(url, headers={"HX-Request": "true"})
    assert r.headers["HX-Refresh"] == "true" and "hx-trigger" not in r.get_data(as_text=True)


def test_drop_a_proposal_with_a_reason_then_release(client, coordinator, homes, db):
    start(client)
    run = db.scalar(sa.select(MatchRun))
    proposal = db.scalars(sa.select(Proposal).order_by(Proposal.id)).first()
    # Public ids may end with "_" or "-": the form's field names must not depend on it.
    proposal.public_id = "P-ends-with-one_"
    db.commit()
    base = f"/coordination/rapprochements/{run.public_id}"
    assert 'name="P-ends-with-one_-drop-reason"' in client.get(base).get_data(as_text=True)
    r = client.post(f"{base}/propositions/{proposal.public_id}/ecarter", data={f"{proposal.public_id}-drop-reason": ""})
    assert r.status_code == 303
    assert "Indiquez le motif" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.post(f"{base}/propositions/{proposal.public_id}/ecarter",
                    data={f"{proposal.public_id}-drop-reason": "Trop près de son ancien quartier"})
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Proposition écartée." in html and "Trop près de son ancien quartier" in html
    db.expire_all()
    assert proposal.status == "dropped"

    r = client.post(f"{base}/diffuser")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    db.expire_all()
    assert run.status == "released"
    sent = db.scalar(sa.select(sa.func.count()).select_from(Proposal).where(Proposal.status == "pending"))
    assert f"{sent} propositions envoyées." in html and "Diffusé" in html
    assert "Diffuser les propositions" not in html and "Écarter" not in html
    r = client.post(f"{base}/diffuser")
    assert "déjà été diffusé" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_a_failed_run_shows_why_and_can_be_restarted(client, coordinator, homes, db, monkeypatch):
    import matching

    def broken(*a, **kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("plus de mémoire")

    monkeypatch.setattr(matching, "solve", broken)
    start(client)
    run = db.scalar(sa.select(MatchRun))
    html = client.get(f"/coordination/rapprochements/{run.public_id}").get_data(as_text=True)
    assert "Échec du calcul" in html and "plus de mémoire" in html and "Relancer le calcul" in html
    monkeypatch.undo()
    r = client.post(f"/coordination/rapprochements/{run.public_id}/relancer")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Rapprochement relancé." in html and "Propositions par logement" in html
    db.expire_all()
    assert (run.status, run.attempt) == ("succeeded", 2)


@pytest.mark.parametrize("role", ["landlord", "association", "committee"])
def test_other_audiences_do_not_see_runs(client, login_as, db, role):
    run = factories.create_run(db, status="succeeded")
    db.commit()
    login_as(role)
    assert client.get("/coordination/").status_code == 404
    assert client.get(f"/coordination/rapprochements/{run.public_id}").status_code == 404
    assert client.post(f"/coordination/rapprochements/{run.public_id}/diffuser").status_code == 404


def test_the_territory_rules_are_edited_and_apply_to_the_next_runs(client, coordinator, db):
    html = client.get("/coordination/regles").get_data(as_text=True)
    assert 'value="30"' in html and 'value="3"' in html and 'value="90"' in html
    r = client.post("/coordination/regles", data={"max_effort_rate": "250", "candidates_per_unit": "3",
                                                   "horizon_days": "90"})
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = client.post("/coordination/regles", data={"max_effort_rate": "27.5", "candidates_per_unit": "2",
                                                   "horizon_days": "60"})
    assert r.status_code == 303
    home = client.get("/coordination/").get_data(as_text=True)
    assert 'value="27,5"' in home and 'value="60"' in home
    client.post("/coordination/rapprochements", data={"departments": "59", "idempotency_key": "k"})
    run = db.scalar(sa.select(MatchRun))
    assert run.policy == {"max_effort_rate": 0.275, "candidates_per_unit": 2, "horizon_days": 60}
