"""Photos of a unit: the landlord adds them, associations see them with the unit on the board.

An uploaded image is untrusted twice over. Its pixels can be a decompression bomb (a few KB
declaring 50,000 x 50,000 pixels), so it is decoded in a bounded child (services/bounded.py)
and refused past `MAX_PIXELS`. Its metadata can say where the picture was taken, with what
and by whom (EXIF GPS, serial numbers, names), so it is never stored as uploaded: the child
re-encodes it as a JPEG of at most `MAX_SIDE` pixels a side with no metadata at all, turned
the way the phone meant it first.

Who sees a photo: the unit's landlord; an association when the unit is on its offer board
(published, in one of its departments) or proposed to one of its households. Anyone else,
and any other photo, is NotFound (the same answer as a photo that does not exist).

Every function flushes; the caller commits.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from models import Household, Proposal, Unit, UnitPhoto, User
from models.photos import CAPTION_MAX
from services import audit, bounded, units
from services.errors import Conflict, NotFound, ValidationError

MAX_PHOTOS = 6  # a unit's photos: enough for each room
MAX_BYTES = 8 * 1024 * 1024
# A 48-megapixel phone photo passes; beyond, the file is a bomb or not a photo of a flat.
MAX_PIXELS = 50_000_000
MAX_SIDE = 1600
FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
JPEG_QUALITY = 85
# The child that decodes: a 50-megapixel RGBA image needs 200 MB, its resizing as much again.
DECODE_MEMORY = 1024 * 1024 * 1024
DECODE_CPU_SECONDS = 10
DECODE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Encoded:
    """What the child gives back: the JPEG to store and its size."""

    content: bytes
    width: int
    height: int


def _unreadable() -> ValidationError:
    return ValidationError(_l("Ce fichier n'est pas une photo lisible (JPEG, PNG ou WebP)."), field="file")


def _too_large(max_pixels: int) -> ValidationError:
    return ValidationError(_l("Cette photo est trop grande (%(n)d millions de pixels au plus).",
                              n=max_pixels // 1_000_000), field="file")


def reencode(data: bytes, max_pixels: int = MAX_PIXELS) -> Encoded:
    """Decode and re-encode an image (run in a bounded child: see `add`)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own bomb check, past our explicit one below
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            if image.format not in FORMATS:
                raise _unreadable()
            if image.width * image.height > max_pixels:
                raise _too_large(max_pixels)
            upright = ImageOps.exif_transpose(image) or image  # the orientation the phone recorded
            picture = upright.convert("RGB")
            picture.thumbnail((MAX_SIDE, MAX_SIDE))
            out = io.BytesIO()
            # No `exif=`, no `icc_profile=`: the JPEG carries pixels and nothing else.
            picture.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    except Image.DecompressionBombError as exc:  # Pillow's check, at twice the bound, when opening
        raise _too_large(max_pixels) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise _unreadable() from exc
    return Encoded(out.getvalue(), picture.width, picture.height)


def _encode_bounded(data: bytes) -> Encoded:
    try:
        return bounded.run(reencode, data, MAX_PIXELS, memory_bytes=DECODE_MEMORY,
                           cpu_seconds=DECODE_CPU_SECONDS, timeout=DECODE_TIMEOUT)
    except bounded.Exhausted as exc:
        raise ValidationError(_l("Cette photo demande trop de mémoire ou de temps pour être lue : "
                                 "enregistrez-la en JPEG et réessayez."), field="file") from exc


def _landlord_unit(session: so.Session, user: User, unit_id: str) -> Unit:
    if user.role != "landlord" or user.organisation is None:
        raise NotFound(_l("Logement introuvable."), field="id")
    return units.get_unit(session, user.organisation, unit_id)


def photos_of(session: so.Session, unit_ids: list[int]) -> dict[int, list[UnitPhoto]]:
    """The photos of these units, in their order (their content is not loaded)."""
    found: dict[int, list[UnitPhoto]] = {i: [] for i in unit_ids}
    if unit_ids:
        for photo in session.scalars(sa.select(UnitPhoto).where(UnitPhoto.unit_id.in_(unit_ids))
                                     .order_by(UnitPhoto.unit_id, UnitPhoto.position, UnitPhoto.id)):
            found[photo.unit_id].append(photo)
    return found


def add(session: so.Session, user: User, unit_id: str, *, data: bytes, caption: str | None) -> UnitPhoto:
    """Add a photo to one of the landlord's units.

    :raise ValidationError: (422) no caption, an unreadable or oversized image.
    :raise Conflict: (409) the unit has its `MAX_PHOTOS` photos already.
    """
    unit = _landlord_unit(session, user, unit_id)
    errors: dict[str, list[Any]] = {}
    text = " ".join((caption or "").split())
    if not text:
        errors["caption"] = [_l("Dites en quelques mots ce que montre la photo (pour qui ne peut pas la voir).")]
    elif len(text) > CAPTION_MAX:
        errors["caption"] = [_l("Au plus %(n)d caractères.", n=CAPTION_MAX)]
    if not data:
        errors["file"] = [_l("Choisissez une photo.")]
    elif len(data) > MAX_BYTES:
        errors["file"] = [_l("Cette photo dépasse %(n)d Mo.", n=MAX_BYTES // (1024 * 1024))]
    if errors:
        raise ValidationError(errors)
    have = session.scalar(sa.select(sa.func.count()).select_from(UnitPhoto).where(UnitPhoto.unit_id == unit.id)) or 0
    if have >= MAX_PHOTOS:
        raise Conflict(_l("Ce logement a déjà %(n)d photos : retirez-en une d'abord.", n=MAX_PHOTOS), field="file")
    encoded = _encode_bounded(data)
    photo = UnitPhoto(unit_id=unit.id, position=have, caption=text, content=encoded.content,
                      width=encoded.width, height=encoded.height, created_by_id=user.id)
    session.add(photo)
    session.flush()
    audit.record(session, "unit.photo.add", actor=user, object_type="unit", object_id=unit.public_id)
    return photo


def remove(session: so.Session, user: User, unit_id: str, photo_id: str) -> None:
    """Take a photo off one of the landlord's units."""
    unit = _landlord_unit(session, user, unit_id)
    photo = session.scalar(sa.select(UnitPhoto).where(UnitPhoto.public_id == photo_id,
                                                      UnitPhoto.unit_id == unit.id))
    if photo is None:
        raise NotFound(_l("Photo introuvable."), field="photo")
    session.delete(photo)
    session.flush()
    audit.record(session, "unit.photo.remove", actor=user, object_type="unit", object_id=unit.public_id)


def _visible(user: User) -> sa.ColumnElement[bool]:
    """The units whose photos the user may see (see the module's docstring)."""
    if user.organisation_id is None:
        return sa.false()
    if user.role == "landlord":
        return Unit.landlord_id == user.organisation_id
    if user.role == "association":
        departments = list(user.organisation.departments or []) if user.organisation else []
        proposed = (sa.select(Proposal.unit_id).join(Household, Household.id == Proposal.household_id)
                    .where(Household.association_id == user.organisation_id))
        return sa.or_(sa.and_(Unit.status == "published", Unit.department.in_(departments)),
                      Unit.id.in_(proposed))
    return sa.false()


def get(session: so.Session, user: User, photo_id: str) -> UnitPhoto:
    """One photo with its content, if the user may see it; NotFound otherwise."""
    photo = session.scalar(sa.select(UnitPhoto).join(Unit, Unit.id == UnitPhoto.unit_id)
                           .where(UnitPhoto.public_id == photo_id, _visible(user))
                           .options(so.undefer(UnitPhoto.content)))
    if photo is None:
        raise NotFound(_l("Photo introuvable."), field="photo")
    return photo
