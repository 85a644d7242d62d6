"""The urgent transfer of a rehoused household, from her page (services.transfers)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice

from models.followup import TRANSFER_REASONS
from services import transfers as svc
from services.errors import Conflict, NotFound, ValidationError
from web.associations import bp
from web.config import public_url
from web.db import get_session


class TransferForm(FlaskForm):
    reason = SelectField(_l("Motif"), choices=[], validate_choice=False)
    confirmed = BooleanField(_l("Je confirme : elle ne peut pas rester dans ce logement, son dossier est rouvert "
                                "en urgence immédiate."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = [SelectChoice("", _("— Choisir un motif —"))] + [
            SelectChoice(code, str(svc.REASON_LABELS[code])) for code in TRANSFER_REASONS]


@bp.route("/menages/<public_id>/mutation", methods=["POST"])
def transfer(public_id: str) -> Any:
    """Reopen a rehoused household's file for an urgent transfer."""
    back = redirect(url_for(".household", public_id=public_id, _anchor="mutation"), 303)
    form = TransferForm()
    if not form.validate_on_submit():
        flash(_("Le formulaire a expiré : recommencez."), "error")
        return back
    if not form.confirmed.data:
        flash(_("Cochez la confirmation pour rouvrir son dossier."), "error")
        return back
    db = get_session()
    try:
        svc.transfer(db, current_user, public_id, reason=form.reason.data or "", base_url=public_url())
    except NotFound:
        abort(404)
    except (ValidationError, Conflict) as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return back
    db.commit()
    flash(_("Dossier rouvert pour une mutation urgente : le logement qu'elle quitte est ajouté à ses zones "
            "d'exclusion, son urgence est immédiate, la coordination est prévenue."), "success")
    return back
