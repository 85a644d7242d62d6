"""The refused offers on rehousing requests of the coordinator's territory: which landlord
offered which unit and the rules it broke (the landlord was told only "not compatible");
a landlord probing where she may not live shows here."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from models import Household, Unit
from services import communes, territory, worklists
from services import offers as svc
from services import units as units_svc
from services.errors import Conflict, NotFound, ValidationError
from web.coordinators import bp
from web.db import get_session
from web.fields import place_errors


@bp.route("/offres-refusees")
def refused_offers() -> Any:
    """The refused offers, newest first, with the rules in words."""
    rows = svc.refused_offers(get_session(), current_user)
    return render_template("coordinators/refused_offers.html", rows=rows, labels=svc.reason_labels)


class DirectMatchForm(FlaskForm):
    household = SelectField(_l("Ménage"), choices=[], validate_choice=False)
    unit = SelectField(_l("Logement"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("Raison de cette proposition directe"),
                           description=_l("Pourquoi elle ne peut pas attendre le prochain rapprochement (danger "
                                          "immédiat, sortie d'hébergement…). Ni nom, ni adresse."))


def _direct_choices(form: DirectMatchForm) -> None:
    """Her territory's active households (most urgent first) and published units; never a zone."""
    db = get_session()
    households = db.execute(sa.select(Household.public_id, Household.reference, Household.urgency)
                            .where(Household.status == "active", territory.households(db, current_user))
                            .order_by(Household.urgency.desc(), Household.reference)).all()
    units = db.execute(sa.select(Unit.public_id, Unit.reference, Unit.commune, Unit.rooms)
                       .where(Unit.status == "published", units_svc.permanent(), territory.units(current_user))
                       .order_by(Unit.reference)).all()
    form.household.choices = [SelectChoice("", _("— Choisir un ménage —"))] + [
        SelectChoice(h.public_id, _("%(ref)s (urgence %(n)d)", ref=h.reference, n=h.urgency)) for h in households]
    form.unit.choices = [SelectChoice("", _("— Choisir un logement —"))] + [
        SelectChoice(u.public_id, f"{u.reference} — T{u.rooms}, {communes.describe(u.commune)}") for u in units]


@bp.route("/proposition-directe", methods=["GET", "POST"])
def direct_match() -> Any:
    """Propose one unit to one household of her territory, now, with a reason (the same checks)."""
    form = DirectMatchForm()
    _direct_choices(form)
    errors: list[str] = []
    if form.is_submitted():
        if not form.validate():
            errors = [_("Le formulaire a expiré : recommencez.")]
        else:
            db = get_session()
            try:
                proposal = svc.direct_match(db, current_user, unit_id=form.unit.data or "",
                                            household_id=form.household.data or "", reason=form.reason.data or "")
            except (ValidationError, Conflict, NotFound) as exc:
                db.rollback()
                found = exc.errors if isinstance(exc, ValidationError) else {exc.field or "_": [exc.message]}
                found.pop("rules", None)  # the codes of the rules said in words under "unit"
                errors = place_errors(form, found, ("household", "unit", "reason"))
            else:
                db.commit()
                flash(_("Proposition directe %(ref)s envoyée : l'association référente va la présenter au ménage.",
                        ref=worklists.reference(proposal)), "success")
                return redirect(url_for(".direct_match"), 303)
    status = 422 if form.is_submitted() else 200
    made = svc.direct_matches(get_session(), current_user)
    return render_template("coordinators/direct_match.html", form=form, errors=errors, made=made,
                           describe=communes.describe, shown=svc.DIRECT_MATCHES_SHOWN), status
