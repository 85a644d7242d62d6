"""Unit photos: re-encoded without metadata in a bounded child, seen only by who may see the unit."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image

from models import AuditEvent, UnitPhoto
from services import photos
from services.errors import Conflict, NotFound, ValidationError
from tests import factories


def phone_photo(width: int = 3000, height: int = 2000) -> bytes:
    """A JPEG as a phone takes it: turned by its EXIF orientation, with the camera and GPS position."""
    exif = Image.Exif()
    exif[0x010F] = "CANARY-CAMERA"
    exif[0x0112] = 6  # to be turned 90° clockwise
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (50.0, 37.0, 12.0), "E", (3.0, 4.0, 5.0)
    out = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(side: int) -> bytes:
    """A PNG of a few hundred bytes that declares side x side pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


@pytest.fixture
def sides(db):  # type: ignore[no-untyped-def]
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    staff = factories.create_user(db, "landlord", organisation=landlord)
    unit = factories.create_unit(db, landlord=landlord, department="59")
    nearby = factories.create_user(db, "association", organisation=factories.create_organisation(
        db, "association", departments=["59"]))
    far = factories.create_user(db, "association", organisation=factories.create_organisation(
        db, "association", departments=["75"]))
    return staff, unit, nearby, far


def test_a_phone_photo_is_stored_turned_resized_and_without_its_metadata(db, sides):
    staff, unit, _nearby, _far = sides
    data = phone_photo()
    assert b"CANARY-CAMERA" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    photo = photos.add(db, staff, unit.public_id, data=data, caption="  Séjour   lumineux ")
    stored = Image.open(io.BytesIO(photo.content))
    assert stored.format == "JPEG" and stored.size == (photo.width, photo.height) == (1067, 1600)  # upright
    assert not stored.getexif() and b"CANARY-CAMERA" not in photo.content and b"Exif" not in photo.content
    assert photo.caption == "Séjour lumineux"
    db.commit()  # the audit row is written with the commit
    assert db.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "unit.photo.add",
                                                    AuditEvent.object_id == unit.public_id))


def test_a_png_becomes_a_jpeg_and_what_is_not_a_photo_is_refused(db, sides):
    staff, unit, _nearby, _far = sides
    png = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 0, 255, 128)).save(png, "PNG")
    photo = photos.add(db, staff, unit.public_id, data=png.getvalue(), caption="Plan")
    assert Image.open(io.BytesIO(photo.content)).format == "JPEG"
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    for data in (b"%PDF-1.4 not a photo", gif.getvalue(), phone_photo()[:200]):
        with pytest.raises(ValidationError) as refused:
            photos.add(db, staff, unit.public_id, data=data, caption="Cuisine")
        assert refused.value.field == "file" and "pas une photo lisible" in str(refused.value)


def test_a_decompression_bomb_is_refused_before_it_is_decoded(db, sides):
    staff, unit, _nearby, _far = sides
    bomb = png_bomb(60_000)  # 3.6 billion pixels: 10 GB once decoded
    assert len(bomb) < 200
    with pytest.raises(ValidationError) as refused:
        photos.add(db, staff, unit.public_id, data=bomb, caption="Chambre")
    assert "trop grande" in str(refused.value)


def test_a_caption_is_required_and_a_unit_has_at_most_max_photos(db, sides):
    staff, unit, _nearby, _far = sides
    with pytest.raises(ValidationError) as refused:
        photos.add(db, staff, unit.public_id, data=b"", caption=" ")
    assert set(refused.value.errors) == {"caption", "file"}
    small = phone_photo(60, 40)
    for i in range(photos.MAX_PHOTOS):
        photos.add(db, staff, unit.public_id, data=small, caption=f"Pièce {i}")
    with pytest.raises(Conflict):
        photos.add(db, staff, unit.public_id, data=small, caption="Une de trop")
    assert [p.position for p in photos.photos_of(db, [unit.id])[unit.id]] == list(range(photos.MAX_PHOTOS))


def test_who_sees_a_photo(db, sides):
    staff, unit, nearby, far = sides
    photo = photos.add(db, staff, unit.public_id, data=phone_photo(60, 40), caption="Séjour")
    other_landlord = factories.create_user(db, "landlord")
    assert photos.get(db, staff, photo.public_id).content == photo.content
    assert photos.get(db, nearby, photo.public_id).id == photo.id  # on her board: published in 59
    for stranger in (far, other_landlord, factories.create_user(db, "coordinator"),
                     factories.create_user(db, "committee")):
        with pytest.raises(NotFound):
            photos.get(db, stranger, photo.public_id)
    with pytest.raises(NotFound):  # another landlord cannot add to it either
        photos.add(db, other_landlord, unit.public_id, data=phone_photo(60, 40), caption="x")
    # Proposed to a household of the far association: she sees it too, while the unit is off the board.
    factories.create_proposal(db, unit=unit, household=factories.create_household(db, association=far.organisation))
    assert unit.status == "proposed"
    assert photos.get(db, far, photo.public_id).id == photo.id
    with pytest.raises(NotFound):
        photos.get(db, nearby, photo.public_id)


def test_a_photo_is_removed_by_its_landlord_only(db, sides):
    staff, unit, _nearby, _far = sides
    photo = photos.add(db, staff, unit.public_id, data=phone_photo(60, 40), caption="Séjour")
    with pytest.raises(NotFound):
        photos.remove(db, factories.create_user(db, "landlord"), unit.public_id, photo.public_id)
    photos.remove(db, staff, unit.public_id, photo.public_id)
    assert db.scalar(sa.select(sa.func.count()).select_from(UnitPhoto)) == 0
