"""Forms of the committee pages: a note or flag, a follow-up action, a what-if policy."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from services.committee import MAX_TEXT
from web.fields import LocalDecimalField

ABOUT_ORGANISATIONS = _l(
    "Écrivez sur les chiffres d'une organisation ou du partenariat, jamais sur un ménage : "
    "ni nom, ni situation, ni lieu. Ces notes sont lues par les membres du comité.")


def _optional_int(value: str | None) -> int | None:
    return int(value) if value else None


class NoteForm(FlaskForm):
    quarter = HiddenField()
    departments = HiddenField()
    text = TextAreaField(_l("Note"), validators=[DataRequired(_l("Écrivez le texte.")), Length(max=MAX_TEXT)],
                         description=ABOUT_ORGANISATIONS)
    organisation = SelectField(_l("Chiffres à discuter (facultatif)"), coerce=_optional_int,
                               validate_choice=False,
                               description=_l("Choisissez un bailleur ou une association pour signaler ses "
                                              "chiffres à la discussion."))


class ActionForm(FlaskForm):
    quarter = HiddenField()
    departments = HiddenField()
    text = TextAreaField(_l("Action de suivi"),
                         validators=[DataRequired(_l("Écrivez le texte.")), Length(max=MAX_TEXT)],
                         description=ABOUT_ORGANISATIONS)
    owner = SelectField(_l("Organisation responsable (facultatif)"), coerce=_optional_int, validate_choice=False)
    due_on = DateField(_l("Échéance (facultatif)"), validators=[Optional()])


class WhatIfForm(FlaskForm):
    departments = HiddenField()
    max_effort_rate = LocalDecimalField(
        _l("Taux d'effort maximal (%)"), places=1,
        validators=[InputRequired(_l("Indiquez un taux.")), NumberRange(5, 60, _l("Entre 5 et 60 %%."))],
        description=_l("Loyer + charges − aide au logement, rapporté au revenu."))
    horizon_days = IntegerField(
        _l("Horizon (jours)"),
        validators=[InputRequired(_l("Indiquez un nombre de jours.")), NumberRange(0, 365, _l("Entre 0 et 365."))],
        description=_l("Logements disponibles et ménages prêts dans ce délai."))
    candidates_per_unit = IntegerField(
        _l("Candidats proposés par logement"),
        validators=[InputRequired(_l("Indiquez un nombre.")), NumberRange(1, 10, _l("Entre 1 et 10."))])
    qpv_share = LocalDecimalField(
        _l("Part visée des attributions hors QPV au premier quartile (%, facultatif)"), places=0,
        validators=[Optional(), NumberRange(0, 100, _l("Entre 0 et 100 %%."))])


class RecomputeForm(FlaskForm):
    """"Compute again" on the unmet-needs page (a fresh answer is otherwise reused)."""

    departments = HiddenField()
