"""The association's offer board: the published units of its departments, which suit one of
its households and, for the others, the rules that rule them out in words; and the
candidacy (she is put forward: the landlord's commission examines her file)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from models import Household
from services import offers as svc
from services import photos
from services.errors import Conflict, NotFound, ValidationError
from web.associations import bp
from web.db import get_session
from web.photos import image


class CandidacyForm(FlaskForm):
    """Only the CSRF token: the unit is in the URL, the household in the query."""


def _households() -> list[Household]:
    return list(get_session().scalars(sa.select(Household).where(
        Household.association_id == current_user.organisation_id,
        Household.status.in_(svc.CANDIDACY_HOUSEHOLD_STATUSES)).order_by(Household.reference)))


@bp.route("/offres")
def offers() -> Any:
    """The board, filtered; with a household chosen, the verdict for her on each unit."""
    args = request.args
    household = args.get("menage") or None
    try:
        rows = svc.list_offers(
            get_session(), current_user, household_id=household, department=args.get("departement") or None,
            min_rooms=args.get("pieces", type=int), max_rent=args.get("loyer_max", type=float),
            accessible=args.get("accessible") == "1")
    except NotFound:
        household, rows = None, svc.list_offers(get_session(), current_user)
    return render_template("associations/offers.html", rows=rows, households=_households(),
                           chosen=household, labels=svc.reason_labels, form=CandidacyForm(),
                           departments=current_user.organisation.departments or [], args=args)


class RequestForm(FlaskForm):
    message = TextAreaField(_l("Message pour les bailleurs (facultatif)"),
                            description=_l("Ni nom, ni adresse, ni lieu, ni numéro de téléphone : les bailleurs des "
                                           "départements de sa recherche le lisent."))


def requests_of(household: Household) -> list[Any]:
    """The household's rehousing requests, newest first (for her page)."""
    return svc.list_requests(get_session(), current_user, household=household)


@bp.route("/menages/<public_id>/demande", methods=["POST"])
def post_request(public_id: str) -> Any:
    """Post an anonymised rehousing request for one of her active households."""
    back = redirect(url_for(".household", public_id=public_id, _anchor="demande-bailleurs"), 303)
    form = RequestForm()
    if not form.validate_on_submit():
        flash(_("Le formulaire a expiré : recommencez."), "error")
        return back
    db = get_session()
    try:
        svc.post_request(db, current_user, household_id=public_id, message=form.message.data)
    except NotFound:
        abort(404)
    except (ValidationError, Conflict) as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return back
    db.commit()
    flash(_("Demande envoyée : les bailleurs des départements de sa recherche peuvent proposer un logement."),
          "success")
    return back


@bp.route("/photos/<photo_id>")
def photo(photo_id: str) -> Any:
    """A photo of a unit on her board, or proposed to one of her households."""
    try:
        return image(photos.get(get_session(), current_user, photo_id))
    except NotFound:
        abort(404)


@bp.route("/offres/<unit_id>/candidature", methods=["POST"])
def put_forward(unit_id: str) -> Any:
    """Put the chosen household forward on this unit."""
    household = request.args.get("menage", "")
    back = redirect(url_for(".offers", menage=household), 303)
    if not CandidacyForm().validate_on_submit():
        flash(_("Le formulaire a expiré : recommencez."), "error")
        return back
    db = get_session()
    try:
        proposal = svc.put_forward(db, current_user, unit_id=unit_id, household_id=household)
    except (ValidationError, Conflict, NotFound) as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return back
    db.commit()
    flash(_("Candidature enregistrée : la commission du bailleur va examiner le dossier."), "success")
    return redirect(url_for(".proposal", public_id=proposal.public_id), 303)
