"""The emergency places' pages (issue 18): the landlord marks a place, the coordinator
shelters a household in it and ends the stay; her association reads it on her file; another
territory's coordinator reaches none of it; the landlord learns only that it is taken."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import sqlalchemy as sa

from models import Placement, Unit
from tests import factories


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    association = factories.create_organisation(db, "association", departments=["59"])
    referent = factories.create_user(db, "association", organisation=association)
    landlord_org = factories.create_organisation(db, "landlord", departments=["59"])
    landlord = factories.create_user(db, "landlord", organisation=landlord_org)
    active = dict(activated_at=dt.datetime.now(dt.UTC), search_area={"communes": [], "departments": ["59"]})
    her = factories.create_household(db, association=association, reference="SF-ABRI", urgency=3,
                                     exclusion_zones=[{"department": "80"}], **active)
    never = factories.create_household(db, association=association, reference="SF-JAMAIS-LILLE", urgency=3,
                                       exclusion_zones=[{"commune": "59350"}], **active)
    place = factories.create_unit(db, landlord=landlord_org, reference="ABRI-LILLE", temporary=True,
                                  max_stay_days=60, commune="59350", department="59")
    coordinator = factories.create_user(db, "coordinator", organisation=factories.create_organisation(
        db, "coordinator", departments=["59"]))
    db.commit()
    return dict(referent=referent, landlord=landlord, her=her, never=never, place=place, coordinator=coordinator)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def test_the_landlord_marks_a_place_and_its_stay_is_required(client, db, login_as, world):
    login_as(world["landlord"])
    form = {"reference": "ABRI-2", "commune": "59350", "rooms": "2", "rent": "250", "floor": "0",
            "available_from": "2026-12-01", "financing": "", "temporary": "y"}
    r = client.post("/bailleur/logements/nouveau", data=form)
    assert r.status_code == 200 and "Indiquez la durée maximale du séjour" in text(r)
    r = client.post("/bailleur/logements/nouveau", data={**form, "max_stay_days": "90"}, follow_redirects=True)
    assert "Place d'urgence ou temporaire" in text(r) and "séjour de 90 jours au plus" in text(r)
    unit = db.scalar(sa.select(Unit).where(Unit.reference == "ABRI-2"))
    assert (unit.temporary, unit.max_stay_days) == (True, 90)


def test_the_coordinator_shelters_her_and_ends_the_stay(client, db, login_as, world):
    her, place = world["her"], world["place"]
    login_as(world["coordinator"])
    page = text(client.get("/coordination/places-urgence"))
    assert "ABRI-LILLE" in page and "SF-ABRI" in page and "Libre" in page
    # The household whose zones hold Lille is not offered the place, nor accepted if sent.
    assert "SF-JAMAIS-LILLE" not in page
    r = client.post(f"/coordination/places-urgence/{place.public_id}/abriter",
                    data={f"{place.public_id}-household": world["never"].public_id})
    assert r.status_code == 422 and "zone" in text(r).lower()
    assert db.scalar(sa.select(sa.func.count()).select_from(Placement)) == 0
    r = client.post(f"/coordination/places-urgence/{place.public_id}/abriter",
                    data={f"{place.public_id}-household": her.public_id}, follow_redirects=True)
    assert "Ménage SF-ABRI mis à l'abri jusqu'au" in text(r) and "Occupée" in text(r)
    stay = db.scalar(sa.select(Placement))
    assert stay.planned_end_on == stay.started_on + dt.timedelta(days=60)
    # Her association reads it on her file; the household is still active.
    client.post("/deconnexion")
    login_as(world["referent"])
    file = text(client.get(f"/association/menages/{her.public_id}"))
    assert "Mise à l'abri" in file and "ABRI-LILLE" in file and "sa recherche d'un logement durable continue" in file
    # The landlord reads that the place is taken, and until when, never by whom.
    client.post("/deconnexion")
    login_as(world["landlord"])
    unit_page = text(client.get(f"/bailleur/logements/{place.public_id}"))
    assert f"occupée jusqu'au {stay.planned_end_on.strftime('%d/%m/%Y')}" in unit_page
    assert "SF-ABRI" not in unit_page
    # The coordinator ends the stay: the place is free again.
    client.post("/deconnexion")
    login_as(world["coordinator"])
    r = client.post(f"/coordination/places-urgence/sejours/{stay.public_id}/fin",
                    data={f"{stay.public_id}-reason": "left"}, follow_redirects=True)
    assert "Séjour terminé" in text(r) and "Libre" in text(r)
    db.expire_all()
    assert db.get(Placement, stay.id).end_reason == "left"


def test_another_territory_s_coordinator_reaches_none_of_it(client, db, login_as, world):
    her, place = world["her"], world["place"]
    south = factories.create_user(db, "coordinator", organisation=factories.create_organisation(
        db, "coordinator", departments=["13"]))
    db.commit()
    login_as(south)
    page = text(client.get("/coordination/places-urgence"))
    assert "ABRI-LILLE" not in page and "SF-ABRI" not in page
    r = client.post(f"/coordination/places-urgence/{place.public_id}/abriter",
                    data={f"{place.public_id}-household": her.public_id})
    assert r.status_code == 422 and db.scalar(sa.select(sa.func.count()).select_from(Placement)) == 0
    # A stay of her territory's place cannot be ended from another.
    from services import shelter

    stay = shelter.shelter(db, world["coordinator"], unit_id=place.public_id, household_id=her.public_id)
    db.commit()
    r = client.post(f"/coordination/places-urgence/sejours/{stay.public_id}/fin",
                    data={f"{stay.public_id}-reason": "left"})
    assert r.status_code == 422
    db.expire_all()
    assert db.get(Placement, stay.id).ended_on is None


def test_a_place_is_not_on_the_offer_board_nor_in_the_direct_match(client, db, login_as, world):
    login_as(world["referent"])
    assert "ABRI-LILLE" not in text(client.get("/association/offres"))
    client.post("/deconnexion")
    login_as(world["coordinator"])
    assert "ABRI-LILLE" not in text(client.get("/coordination/proposition-directe"))
