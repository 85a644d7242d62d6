"""Forms of the admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from models import ROLES

ROLE_LABELS = {
    "landlord": _l("Bailleur"),
    "association": _l("Association"),
    "coordinator": _l("Coordination"),
    "committee": _l("Comité de suivi"),
    "admin": _l("Administration"),
    "referrer": _l("Personnel de proximité d'un bailleur (orientations seulement)"),
}
OUTCOME_LABELS = {"success": _l("Réussite"), "failure": _l("Échec"), "denied": _l("Refus")}


class AuditSearchForm(FlaskForm):
    """Filters of the audit trail (a GET form: nothing changes, no CSRF token needed)."""

    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=60)],
                         description=_l("Début du nom, par ex. « household. » ou « login »."),
                         render_kw={"list": "audit-actions"})
    actor = EmailField(_l("E-mail de l'auteur"), validators=[Optional(), Length(max=254)])
    object_id = StringField(_l("Identifiant de l'objet"), validators=[Optional(), Length(max=64)])
    outcome = SelectField(
        _l("Résultat"), validators=[Optional()],
        choices=[SelectChoice("", _l("Tous"))] + [SelectChoice(k, v) for k, v in OUTCOME_LABELS.items()],
    )
    since = DateField(_l("Du"), validators=[Optional()])
    until = DateField(_l("Au"), validators=[Optional()])


class UserSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("E-mail contient"), validators=[Optional(), Length(max=254)])
    role = SelectField(_l("Rôle"), validators=[Optional()],
                       choices=[SelectChoice("", _l("Tous"))] + [SelectChoice(k, v) for k, v in ROLE_LABELS.items()])


class ActiveForm(FlaskForm):
    active = HiddenField()
    submit = SubmitField(_l("Appliquer"))


class InviteForm(FlaskForm):
    """A new account, whose owner chooses her password from the e-mailed invitation."""

    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Rôle"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    organisation = SelectField(_l("Organisation"), choices=[], validate_choice=False,
                               description=_l("Celle dont le type correspond au rôle (aucune pour l'administration)."))
    submit = SubmitField(_l("Inviter"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Nouveau rôle"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    submit = SubmitField(_l("Changer le rôle"))


class ActionForm(FlaskForm):
    submit = SubmitField(_l("Confirmer"))
