"""A landlord's photos of her units: add (a file and what it shows), remove, and see them.

`services.photos` decodes the file in a bounded child and stores it re-encoded without its
metadata; the view only carries the file and the caption, and commits once.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField

from models.photos import CAPTION_MAX
from services import photos as svc
from services.errors import Conflict, NotFound, ValidationError
from web.db import get_session
from web.extensions import limiter
from web.landlords import bp
from web.photos import image

PHOTO_TYPES = "image/jpeg,image/png,image/webp"


class PhotoForm(FlaskForm):
    file = FileField(_l("Photo (JPEG, PNG ou WebP)"), render_kw={"accept": PHOTO_TYPES})
    caption = StringField(_l("Ce que montre la photo"), render_kw={"maxlength": CAPTION_MAX},
                          description=_l("Pour qui ne peut pas la voir : « Séjour lumineux, deux fenêtres »."))


class PhotoActionForm(FlaskForm):
    """Only the CSRF token."""


@bp.route("/logements/<unit_id>/photos", methods=["POST"])
@limiter.limit("30 per hour")
def photo_add(unit_id: str) -> Any:
    """Add a photo to one of her units."""
    back = redirect(url_for(".unit_detail", unit_id=unit_id, _anchor="photos"), 303)
    form = PhotoForm()
    if not form.validate_on_submit():
        flash(_("Le formulaire a expiré : recommencez."), "error")
        return back
    upload = request.files.get("file")
    db = get_session()
    try:
        svc.add(db, current_user, unit_id, data=upload.read() if upload else b"", caption=form.caption.data)
    except NotFound:
        abort(404)
    except (ValidationError, Conflict) as exc:
        db.rollback()
        errors = exc.errors if isinstance(exc, ValidationError) else {"file": [exc.message]}
        for messages in errors.values():
            for message in messages if isinstance(messages, list) else [messages]:
                flash(str(message), "error")
        return back
    db.commit()
    flash(_("Photo ajoutée : elle accompagne le logement sur les offres des associations."), "success")
    return back


@bp.route("/logements/<unit_id>/photos/<photo_id>/retirer", methods=["POST"])
def photo_remove(unit_id: str, photo_id: str) -> Any:
    """Take a photo off one of her units."""
    if not PhotoActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        svc.remove(db, current_user, unit_id, photo_id)
    except NotFound:
        abort(404)
    db.commit()
    flash(_("Photo retirée."), "success")
    return redirect(url_for(".unit_detail", unit_id=unit_id, _anchor="photos"), 303)


@bp.route("/photos/<photo_id>")
def photo(photo_id: str) -> Any:
    """One of her units' photos."""
    try:
        return image(svc.get(get_session(), current_user, photo_id))
    except NotFound:
        abort(404)
