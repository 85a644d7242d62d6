"""Coordinator pages of conventions and the committee's page of commitments."""

from __future__ import annotations

import datetime as dt
import html

import sqlalchemy as sa

from models import Commitment, Convention, TrainingRecord
from services import conventions as svc
from tests import factories


def _coordinator(db, departments=("59", "62")):  # type: ignore[no-untyped-def]
    org = factories.create_organisation(db, "coordinator", departments=list(departments))
    return factories.create_user(db, role="coordinator", organisation=org)


def test_coordinator_records_a_convention_commitments_and_training(client, db, login_as):
    landlord = factories.create_organisation(db, "landlord", name="Habitat du Nord")
    login_as(_coordinator(db))
    r = client.post("/coordination/conventions/nouvelle", data={
        "title": "Pass'Logement 59", "parties": "URH Hauts-de-France\nFNSF\nÉtat", "funders": "DREETS",
        "departments": "59", "starts_on": "2026-01-01", "ends_on": "2027-01-01"})
    assert r.status_code == 303, r.data
    convention = db.scalar(sa.select(Convention).where(Convention.title == "Pass'Logement 59"))
    assert convention.parties == ["URH Hauts-de-France", "FNSF", "État"]
    r = client.post(f"/coordination/conventions/{convention.id}/engagements", data={
        "c-organisation_id": landlord.id, "c-year": 2026, "c-kind": "units_posted", "c-target": 12})
    assert r.status_code == 303, r.data
    r = client.post(f"/coordination/conventions/{convention.id}/formations", data={
        "t-organisation_id": landlord.id, "t-held_on": "2026-03-04", "t-persons": 6})
    assert r.status_code == 303, r.data
    factories.create_unit(db, landlord=landlord, published_at=dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
    db.commit()
    page = html.unescape(client.get(f"/coordination/conventions/{convention.id}").get_data(as_text=True))
    assert "Habitat du Nord" in page and "Logements proposés sur la plateforme" in page
    assert db.scalar(sa.select(Commitment.target).where(Commitment.convention_id == convention.id)) == 12
    assert db.scalar(sa.select(TrainingRecord.persons)) == 6
    got = {r["kind"]: r["achieved"] for r in svc.progress(db, convention, 2026)}
    assert got == {"units_posted": 1}
    assert "6 personnes formées" in page


def test_errors_name_the_field(client, db, login_as):
    login_as(_coordinator(db, ["59"]))
    r = client.post("/coordination/conventions/nouvelle", data={
        "title": "Hors territoire", "parties": "FNSF", "departments": "75",
        "starts_on": "2026-01-01", "ends_on": "2027-01-01"})
    assert r.status_code == 422
    assert "Hors de votre territoire : 75." in r.get_data(as_text=True)


def test_a_convention_outside_her_territory_does_not_exist_for_her(client, db, login_as):
    owner = _coordinator(db, ["59"])
    convention = svc.create_convention(db, user=owner, title="Nord", parties="FNSF", funders="",
                                       departments="59", starts_on=dt.date(2026, 1, 1),
                                       ends_on=dt.date(2027, 1, 1))
    login_as(_coordinator(db, ["75"]))
    assert client.get(f"/coordination/conventions/{convention.id}").status_code == 404
    r = client.post(f"/coordination/conventions/{convention.id}/engagements", data={"c-target": 3})
    assert r.status_code == 404
    assert "Nord" not in client.get("/coordination/conventions").get_data(as_text=True)


def test_committee_reads_commitments_against_achievements(client, db, login_as):
    owner = _coordinator(db, ["59"])
    convention = svc.create_convention(db, user=owner, title="Pass'Logement 59", parties="FNSF", funders="DREETS",
                                       departments="59", starts_on=dt.date(2026, 1, 1),
                                       ends_on=dt.date(2027, 1, 1))
    landlords = [factories.create_organisation(db, "landlord", name=n) for n in ("Alpha Habitat", "Beta Logis")]
    for org, n in zip(landlords, (8, 6), strict=True):
        svc.set_commitment(db, convention, organisation_id=org.id, year=2026, kind="units_posted", target=20)
        for day in range(1, n + 1):
            factories.create_unit(db, landlord=org, published_at=dt.datetime(2026, 10, day, 9, tzinfo=dt.UTC))
    login_as("committee", organisation=factories.create_organisation(db, "committee", departments=["59"]))
    page = html.unescape(client.get("/comite/conventions?quarter=2026-Q4").get_data(as_text=True))
    assert "Pass'Logement 59" in page and "Alpha Habitat" in page
    assert 'data-status="shown">8<' in page and 'data-status="shown">14<' in page
    assert "40" in page  # the two commitments together


def test_coordinator_closes_a_quarter_for_her_territory_and_its_committees(client, db, login_as):
    from models import QuarterSnapshot
    from services.stats import Quarter

    factories.create_organisation(db, "committee", departments=["59"])
    factories.create_organisation(db, "committee", departments=["75"])
    login_as(_coordinator(db, ["59", "62"]))
    last = Quarter.of(svc.today()).previous()
    r = client.post("/coordination/trimestres/clore", data={"q-quarter": str(last)})
    assert r.status_code == 303
    scopes = set(db.scalars(sa.select(QuarterSnapshot.scope).where(QuarterSnapshot.quarter == str(last))))
    assert scopes == {"departments:59", "departments:59,62"}
    client.post("/coordination/trimestres/clore", data={"q-quarter": str(last)})
    assert "était déjà clos" in client.get("/coordination/conventions").get_data(as_text=True)
