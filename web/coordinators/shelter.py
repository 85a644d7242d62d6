"""The emergency and temporary places of the coordinator's territory: who is sheltered
where until when, and, for a free place, the households it may shelter (services.shelter)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from models.shelter import PLACEMENT_END_REASONS
from services import communes, shelter
from services.errors import Conflict, NotFound, ValidationError
from web.coordinators import bp
from web.db import get_session


class ShelterForm(FlaskForm):
    household = SelectField(_l("Ménage à mettre à l'abri"), choices=[], validate_choice=False)
    started_on = DateField(_l("Début du séjour"), validators=[Optional()],
                           description=_l("Vide : aujourd'hui."))


class EndStayForm(FlaskForm):
    reason = SelectField(_l("Motif de la fin du séjour"), choices=[], validate_choice=False)
    ended_on = DateField(_l("Fin du séjour"), validators=[Optional()], description=_l("Vide : aujourd'hui."))


def end_reason_choices() -> list[SelectChoice]:
    """The reasons a person may give ("rehoused" is the lease's to record)."""
    return [SelectChoice(r, str(shelter.END_REASON_LABELS[r])) for r in PLACEMENT_END_REASONS if r != "rehoused"]


def _page(errors: dict[str, list[str]] | None = None, status: int = 200) -> Any:
    places = shelter.places(get_session(), current_user)
    forms: dict[str, FlaskForm] = {}
    for place in places:
        if place.stay is None:
            form: FlaskForm = ShelterForm(prefix=f"{place.unit.public_id}-")
            form.household.choices = [SelectChoice("", _("— Choisir un ménage —"))] + [
                SelectChoice(c.household.public_id, _("%(ref)s (urgence %(n)d, %(people)d personnes)",
                                                      ref=c.household.reference, n=c.household.urgency,
                                                      people=c.household.adults + c.household.children))
                for c in place.candidates]
        else:
            form = EndStayForm(prefix=f"{place.stay.public_id}-")
            form.reason.choices = end_reason_choices()
        forms[place.unit.public_id] = form
    return render_template("coordinators/shelter.html", places=places, forms=forms, errors=errors or {},
                           describe=communes.describe, reasons=shelter.END_REASON_LABELS), status


@bp.route("/places-urgence")
def shelter_places() -> Any:
    """Every place of her territory, taken or free."""
    return _page()


def _failed(exc: ValidationError | Conflict | NotFound, key: str) -> Any:
    get_session().rollback()
    if isinstance(exc, ValidationError):
        found = dict(exc.errors)
        found.pop("rules", None)  # the rules' codes, said in words under "unit"
        messages = [str(m) for v in found.values() for m in (v if isinstance(v, list) else [v])]
    else:
        messages = [str(exc.message)]
    return _page({key: messages}, 422)


@bp.route("/places-urgence/<unit_id>/abriter", methods=["POST"])
def shelter_household(unit_id: str) -> Any:
    """Shelter one household in one free place (her exclusion zones and the hard rules checked)."""
    form = ShelterForm(prefix=f"{unit_id}-")
    if not form.validate():
        return _page({unit_id: [_("Le formulaire a expiré ou la date est invalide : recommencez.")]}, 422)
    db = get_session()
    try:
        stay = shelter.shelter(db, current_user, unit_id=unit_id, household_id=form.household.data or "",
                               started_on=form.started_on.data)
    except (ValidationError, Conflict, NotFound) as exc:
        return _failed(exc, unit_id)
    db.commit()
    flash(_("Ménage %(ref)s mis à l'abri jusqu'au %(day)s ; son association est prévenue, et sa recherche d'un "
            "logement durable continue.", ref=stay.household.reference,
            day=stay.planned_end_on.strftime("%d/%m/%Y")), "success")
    return redirect(url_for(".shelter_places"), 303)


@bp.route("/places-urgence/sejours/<placement_id>/fin", methods=["POST"])
def end_stay(placement_id: str) -> Any:
    """Record that a stay ended."""
    form = EndStayForm(prefix=f"{placement_id}-")
    form.reason.choices = end_reason_choices()
    db = get_session()
    if not form.validate():
        return _page({placement_id: [_("Le formulaire a expiré ou la date est invalide : recommencez.")]}, 422)
    try:
        shelter.end_stay(db, current_user, placement_id, reason=form.reason.data or "", ended_on=form.ended_on.data)
    except (ValidationError, Conflict, NotFound) as exc:
        return _failed(exc, placement_id)
    db.commit()
    flash(_("Séjour terminé : la place est de nouveau libre."), "success")
    return redirect(url_for(".shelter_places"), 303)
