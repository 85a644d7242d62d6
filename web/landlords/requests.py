"""The landlord's rehousing requests: the anonymised requests of her departments, and the
offer of one of her units on one of them.

The page goes through the same service as the API (`services.offers.offer_on_request`):
the same hard rules, the same rate limit, and the same answer to an unsafe offer — "not
compatible", naming no rule, no distance, no zone — so that offering unit after unit teaches
her nothing about where the household may not live.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import InputRequired

from services import offers as svc
from services import units
from services.errors import Conflict, NotFound, ValidationError
from web.db import get_session
from web.landlords import bp


class OfferForm(FlaskForm):
    unit = SelectField(_l("Logement à proposer"), choices=[],
                       validators=[InputRequired(message=_l("Choisissez un logement."))])


def _form(request_id: str, choices: list[tuple[str, str]], *, submitted: bool = False) -> OfferForm:
    # The separator given, not left to WTForms: it adds "-" only when the prefix does not
    # already end in one of "-_;:/.", and a random public id ends in "-" or "_" one time in 32,
    # which made the field's name ("<id>-unit" or "<id>unit") depend on the id.
    prefix = f"{request_id}-"
    form = OfferForm(prefix=prefix) if submitted else OfferForm(formdata=None, prefix=prefix)
    form.unit.choices = [("", _("— Choisir un logement —")), *choices]
    return form


def _choices() -> list[tuple[str, str]]:
    """Her published units, by reference."""
    page = units.list_units(get_session(), current_user.organisation, status="published", per_page=200)
    # A place for a stay is not a home: never offered on a request (services.shelter).
    return [(u.public_id, f"{u.reference} — {units.typology(u.rooms)}") for u in page.items if not u.temporary]


@bp.route("/demandes")
def requests_page() -> Any:
    """The open requests of her departments, newest first, each with the offer form."""
    choices = _choices()
    rows = [(svc.request_view(r), _form(r.public_id, choices))
            for r in svc.list_requests(get_session(), current_user)]
    return render_template("landlords/requests.html", rows=rows, has_units=bool(choices))


@bp.route("/demandes/<request_id>/offrir", methods=["POST"])
def offer(request_id: str) -> Any:
    """Offer one of her units on this request."""
    back = redirect(url_for(".requests_page"), 303)
    form = _form(request_id, _choices(), submitted=True)
    if not form.validate_on_submit():
        flash(_("Choisissez un logement à proposer."), "error")
        return back
    db = get_session()
    try:
        proposal = svc.offer_on_request(db, current_user, request_id=request_id, unit_id=form.unit.data)
    except svc.RefusedOfferError:
        # The refusal itself (RefusedOffer row, audit) must be kept: commit it, say nothing more.
        db.commit()
        flash(_("Ce logement n'est pas compatible avec cette demande."), "error")
        return back
    except (ValidationError, Conflict, NotFound, svc.TooManyRefusals) as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return back
    db.commit()
    flash(_("Offre enregistrée : l'association référente va présenter le logement au ménage."), "success")
    return redirect(url_for(".proposal", public_id=proposal.public_id), 303)
