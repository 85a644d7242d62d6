"""Forms of the coordination pages: start a run, drop a proposal, release, restart."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from services.runs import MAX_CANDIDATES_PER_UNIT
from web.fields import LocalDecimalField


class RunForm(FlaskForm):
    """A new run. The hidden key, drawn when the form is shown, makes a double submission start one job."""

    departments = StringField(
        _l("Départements"), validators=[DataRequired(), Length(max=200)],
        description=_l("Codes séparés par des virgules, par exemple : 59, 62."),
    )
    max_effort_rate = LocalDecimalField(
        _l("Taux d'effort maximal (%)"), places=1, validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("Part des ressources que le loyer et les charges, aides déduites, ne doivent pas dépasser."),
    )
    candidates_per_unit = IntegerField(
        _l("Candidates proposées par logement"),
        validators=[Optional(), NumberRange(min=1, max=MAX_CANDIDATES_PER_UNIT)],
        description=_l("La commission d'attribution examine en général 3 candidatures."),
    )
    horizon_days = IntegerField(
        _l("Horizon (jours)"), validators=[Optional(), NumberRange(min=0, max=3650)],
        description=_l("Logements disponibles et ménages prêts au plus tard dans ce délai."),
    )
    idempotency_key = HiddenField()
    submit = SubmitField(_l("Lancer le rapprochement"))


class DropForm(FlaskForm):
    """Set one proposal aside, with the reason."""

    reason = StringField(_l("Motif"), validators=[DataRequired(), Length(min=3, max=200)])
    submit = SubmitField(_l("Écarter cette proposition"))


class ReleaseForm(FlaskForm):
    """Send the reviewed proposals."""

    submit = SubmitField(_l("Diffuser les propositions"))


class RestartForm(FlaskForm):
    """Start a failed run again."""

    submit = SubmitField(_l("Relancer le calcul"))


class PolicyForm(FlaskForm):
    """The territory's matching rules, applied to every new run (each run keeps the rules it used)."""

    max_effort_rate = LocalDecimalField(
        _l("Taux d'effort maximal (%)"), places=1, validators=[DataRequired(), NumberRange(min=1, max=100)],
        description=_l("Part des ressources que le loyer et les charges, aides déduites, ne doivent pas dépasser."),
    )
    candidates_per_unit = IntegerField(
        _l("Candidates proposées par logement"),
        validators=[DataRequired(), NumberRange(min=1, max=MAX_CANDIDATES_PER_UNIT)],
    )
    horizon_days = IntegerField(_l("Horizon (jours)"), validators=[DataRequired(), NumberRange(min=1, max=3650)])
    submit = SubmitField(_l("Enregistrer les règles"))
