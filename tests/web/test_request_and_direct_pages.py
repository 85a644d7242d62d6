"""The two ways in that had no page (issue 15): the referent posts a rehousing request from her
household's page; the coordinator makes a direct match from hers. Same checks as the API."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from models import Proposal, RehousingRequest
from tests import factories


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    association = factories.create_organisation(db, "association", departments=["59"])
    referent = factories.create_user(db, "association", organisation=association)
    household = factories.create_household(db, association=association, reference="SF-DIRECT",
                                           search_area={"communes": [], "departments": ["59"]},
                                           exclusion_zones=[{"commune": "59512"}])
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    fine = factories.create_unit(db, landlord=landlord, reference="LILLE-1", commune="59350", department="59")
    inside = factories.create_unit(db, landlord=landlord, reference="ROUBAIX-1", commune="59512",
                                   department="59", lat=50.6942, lon=3.1746)
    coordinator = factories.create_user(db, "coordinator", organisation=factories.create_organisation(
        db, "coordinator", departments=["59"]))
    db.commit()
    return referent, household, fine, inside, coordinator


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_the_referent_posts_a_request_from_her_household_s_page(client, db, login_as, world):
    referent, household, _fine, _inside, _coordinator = world
    login_as(referent)
    url = f"/association/menages/{household.public_id}"
    assert "Envoyer la demande aux bailleurs" in text(client.get(url))
    r = client.post(f"{url}/demande", data={"message": "Appelez-la au 06 12 34 56 78"}, follow_redirects=True)
    assert "numéro de téléphone" in text(r)
    assert db.scalar(sa.select(sa.func.count()).select_from(RehousingRequest)) == 0
    r = client.post(f"{url}/demande", data={"message": "Deux enfants, rez-de-chaussée souhaité."},
                    follow_redirects=True)
    page = text(r)
    assert "Demande envoyée" in page and "ouverte : « Deux enfants, rez-de-chaussée souhaité. »" in page
    assert "Envoyer la demande aux bailleurs" not in page  # one open request at a time
    request = db.scalar(sa.select(RehousingRequest))
    assert request.household_id == household.id and request.departments == ["59"]


def test_another_association_cannot_post_for_her(client, login_as, world):
    _referent, household, _fine, _inside, _coordinator = world
    login_as("association")
    assert client.post(f"/association/menages/{household.public_id}/demande", data={}).status_code == 404


def test_the_coordinator_matches_directly_and_an_unsafe_unit_is_refused(client, db, login_as, world):
    _referent, household, fine, inside, coordinator = world
    login_as(coordinator)
    page = text(client.get("/coordination/proposition-directe"))
    assert "SF-DIRECT (urgence" in page and "LILLE-1" in page and "ROUBAIX-1" in page
    assert "59512" not in page.split("<form", 1)[1].split("ROUBAIX-1", 1)[0]  # no zone is shown, only units
    r = client.post("/coordination/proposition-directe",
                    data={"household": household.public_id, "unit": fine.public_id, "reason": ""})
    assert r.status_code == 422 and "Indiquez la raison" in text(r)
    r = client.post("/coordination/proposition-directe",
                    data={"household": household.public_id, "unit": inside.public_id, "reason": "Danger immédiat"})
    assert r.status_code == 422 and "zone d'exclusion" in text(r).lower()
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    r = client.post("/coordination/proposition-directe",
                    data={"household": household.public_id, "unit": fine.public_id, "reason": "Danger immédiat"},
                    follow_redirects=True)
    assert "Proposition directe" in text(r) and "envoyée" in text(r)
    proposal = db.scalar(sa.select(Proposal))
    assert (proposal.origin, proposal.origin_reason, proposal.status) == ("direct", "Danger immédiat", "pending")


def test_another_territory_s_coordinator_sees_none_of_them(client, db, login_as, world):
    _referent, household, fine, _inside, _coordinator = world
    south = factories.create_user(db, "coordinator", organisation=factories.create_organisation(
        db, "coordinator", departments=["13"]))
    login_as(south)
    page = text(client.get("/coordination/proposition-directe"))
    assert "SF-DIRECT" not in page and "LILLE-1" not in page
    r = client.post("/coordination/proposition-directe",
                    data={"household": household.public_id, "unit": fine.public_id, "reason": "Danger immédiat"})
    assert r.status_code == 422 and db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0


def test_the_coordinator_lists_her_territory_s_direct_matches_and_each_side_reads_the_origin(
        client, db, login_as, world):
    referent, household, fine, _inside, coordinator = world
    login_as(coordinator)
    assert "Aucune proposition directe pour le moment" in text(client.get("/coordination/proposition-directe"))
    client.post("/coordination/proposition-directe",
                data={"household": household.public_id, "unit": fine.public_id, "reason": "Sortie d'hébergement"})
    proposal = db.scalar(sa.select(Proposal))
    listed = text(client.get("/coordination/proposition-directe")).split("Propositions directes de votre territoire")[1]
    assert f"{proposal.created_at.year}-{proposal.id:04d}" in listed
    assert "SF-DIRECT" in listed and "LILLE-1" in listed and "Sortie d'hébergement" in listed
    assert "En attente de la réponse du ménage" in listed
    # Another territory's coordinator does not see it.
    client.post("/deconnexion")
    login_as(factories.create_user(db, "coordinator", organisation=factories.create_organisation(
        db, "coordinator", departments=["13"])))
    db.commit()
    other = text(client.get("/coordination/proposition-directe"))
    assert "SF-DIRECT" not in other and "Aucune proposition directe" in other
    # The referent reads how the unit reached her, in the list and on the proposal.
    client.post("/deconnexion")
    login_as(referent)
    assert "Proposition directe de la coordination" in text(client.get("/association/propositions"))
    detail = text(client.get(f"/association/propositions/{proposal.public_id}"))
    assert "Voie d'accès : Proposition directe de la coordination." in detail
    # The landlord's commission reads it too (and nothing that locates her).
    client.post("/deconnexion")
    login_as(factories.create_user(db, "landlord", organisation=fine.landlord))
    page = text(client.get(f"/bailleur/propositions/{proposal.public_id}"))
    assert "Voie d'accès : Proposition directe de la coordination." in page
    assert "59512" not in page and "Sortie d'hébergement" not in page
