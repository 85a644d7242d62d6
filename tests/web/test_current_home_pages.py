"""Moves out of a shared home through the pages (issue 18): the landlord's staff say where the
referral comes from and that she is their tenant; her referent records her current home on her
file, which adds its commune to her exclusion zones; only her association ever reads it."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from models import Household, Referral
from services import clock
from tests import factories
from tests.web.formdata import form_fields


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def sides(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", departments=["59"], name="Habitat du Nord")
    association = factories.create_organisation(db, "association", departments=["59"])
    staff = factories.create_user(db, "landlord", organisation=landlord)
    referent = factories.create_user(db, "association", organisation=association)
    db.commit()
    return staff, referent


def test_the_referral_says_its_agency_and_that_she_is_a_tenant_and_her_file_follows(client, db, login_as, auth,
                                                                                     sides):
    staff, referent = sides
    login_as(staff)
    r = client.post("/bailleur/orientations/nouvelle", data={
        "landlord_reference": "BAIL-9", "site": "Agence Lille Sud", "is_tenant": "y", "shares_home": "y",
        "department": "59", "association": referent.organisation.code, "adults": "1", "children": "1",
        "urgency": "3", "consent_on": clock.today("59").isoformat()})
    assert r.status_code == 303
    referral = db.scalar(sa.select(Referral))
    assert (referral.site, referral.is_tenant) == ("Agence Lille Sud", True)
    assert "Agence Lille Sud" in text(client.get(r.headers["Location"]))
    # An address in the agency's field is refused, naming it.
    refused = client.post("/bailleur/orientations/nouvelle", data={
        "landlord_reference": "BAIL-10", "site": "12 rue des Lilas", "department": "59",
        "association": referent.organisation.code, "adults": "1", "urgency": "2",
        "consent_on": clock.today("59").isoformat()})
    assert refused.status_code == 200 and "jamais une adresse" in text(refused)
    assert db.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1
    auth.logout()

    login_as(referent)
    detail = text(client.get(f"/association/orientations/{referral.public_id}"))
    assert "Agence Lille Sud" in detail and "son logement actuel ne lui sera jamais proposé" in detail
    r = client.post(f"/association/orientations/{referral.public_id}/accepter", data={"reference": "SF-9"})
    assert r.status_code in (302, 303)
    household = db.scalar(sa.select(Household).where(Household.reference == "SF-9"))
    assert household.current_home == {"landlord": staff.organisation.code, "commune": None, "unit": None}
    # The form shows her landlord chosen; the referent gives the commune of her home.
    url = f"/association/menages/{household.public_id}/modifier"
    data = form_fields(text(client.get(url)))
    assert data["current_landlord"] == staff.organisation.code and data["current_commune"] == ""
    data.update({"monthly_income": "1400", "current_commune": "Roubaix", "action": "verify"})
    checked = client.post(url, data=data)
    assert checked.status_code == 200, text(checked)
    assert "Locataire de Habitat du Nord à Roubaix (59512)" in text(checked)
    saved = client.post(url, data={**form_fields(text(checked)), "action": "save"})
    assert saved.status_code == 302
    db.expire_all()
    household = db.get(Household, household.id)
    assert household.current_home["commune"] == "59512" and {"commune": "59512"} in household.exclusion_zones
    page = text(client.get(f"/association/menages/{household.public_id}"))
    assert "Locataire de Habitat du Nord à Roubaix (59512)" in page and "Jamais à Roubaix (59512)" in page


def test_a_commune_without_her_landlord_is_refused_next_to_the_field(client, db, login_as, sides):
    _staff, referent = sides
    household = factories.create_household(db, association=referent.organisation)
    db.commit()
    login_as(referent)
    url = f"/association/menages/{household.public_id}/modifier"
    data = form_fields(text(client.get(url)))
    data.update({"current_commune": "Roubaix", "action": "verify"})
    r = client.post(url, data=data)
    assert r.status_code == 422 and "Choisissez son bailleur actuel." in text(r)
