"""Unit photos through the pages and the API: the landlord adds and removes them, the
associations of the unit's department see them on the offer board, nobody else reaches them."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from models import UnitPhoto
from tests import factories
from tests.services.test_photos import phone_photo


@pytest.fixture
def sides(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    staff = factories.create_user(db, "landlord", organisation=landlord)
    unit = factories.create_unit(db, landlord=landlord, department="59")
    referent = factories.create_user(db, "association", organisation=factories.create_organisation(
        db, "association", departments=["59"]))
    far = factories.create_user(db, "association", organisation=factories.create_organisation(
        db, "association", departments=["75"]))
    db.commit()
    return staff, unit, referent, far


def upload(client, unit, data: bytes, caption: str = "Séjour lumineux"):  # type: ignore[no-untyped-def]
    return client.post(f"/bailleur/logements/{unit.public_id}/photos",
                       data={"file": (io.BytesIO(data), "IMG_2041.jpg"), "caption": caption},
                       content_type="multipart/form-data", follow_redirects=True)


def test_the_landlord_adds_a_photo_and_the_association_sees_it_on_the_board(client, db, login_as, auth, sides):
    staff, unit, referent, far = sides
    login_as(staff)
    page = upload(client, unit, phone_photo()).get_data(as_text=True)
    assert "Photo ajoutée" in page and 'alt="Séjour lumineux"' in page
    photo = db.scalar(sa.select(UnitPhoto))
    image = client.get(f"/bailleur/photos/{photo.public_id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert b"CANARY-CAMERA" not in image.data and not Image.open(io.BytesIO(image.data)).getexif()
    assert image.headers["Cache-Control"] == "no-store"
    refused = upload(client, unit, b"not a photo").get_data(as_text=True)
    assert "pas une photo lisible" in refused
    auth.logout()

    login_as(referent)
    board = client.get("/association/offres").get_data(as_text=True)
    assert f'src="/association/photos/{photo.public_id}"' in board and 'alt="Séjour lumineux"' in board
    assert client.get(f"/association/photos/{photo.public_id}").data == image.data
    offers = client.get("/api/v1/offers").get_json()["items"]
    assert offers[0]["photos"] == [{"id": photo.public_id, "caption": "Séjour lumineux", "width": 1067,
                                    "height": 1600, "url": f"/api/v1/photos/{photo.public_id}"}]
    api = client.get(f"/api/v1/photos/{photo.public_id}")
    assert api.status_code == 200 and api.mimetype == "image/jpeg"
    auth.logout()

    # Not on her board (75), not proposed to her: the photo does not exist for her.
    login_as(far)
    assert client.get(f"/association/photos/{photo.public_id}").status_code == 404
    assert client.get(f"/api/v1/photos/{photo.public_id}").status_code == 404


def test_the_landlord_removes_a_photo_and_another_landlord_cannot(client, db, login_as, auth, sides):
    staff, unit, _referent, _far = sides
    login_as(staff)
    upload(client, unit, phone_photo(60, 40))
    photo = db.scalar(sa.select(UnitPhoto))
    auth.logout()
    login_as("landlord")
    assert client.get(f"/bailleur/photos/{photo.public_id}").status_code == 404
    assert client.post(f"/bailleur/logements/{unit.public_id}/photos/{photo.public_id}/retirer").status_code == 404
    assert upload(client, unit, phone_photo(60, 40)).status_code == 404
    auth.logout()
    login_as(staff)
    page = client.get(f"/bailleur/logements/{unit.public_id}").get_data(as_text=True)
    assert re.search(r'aria-label="Retirer la photo « Séjour lumineux »"', page)
    r = client.post(f"/bailleur/logements/{unit.public_id}/photos/{photo.public_id}/retirer", follow_redirects=True)
    assert "Photo retirée." in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(UnitPhoto)) == 0
