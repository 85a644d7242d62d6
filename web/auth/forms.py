"""Forms of the account pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Se connecter"))


class ForgotForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail de votre compte"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    submit = SubmitField(_l("Recevoir un lien"))


class NewPasswordForm(FlaskForm):
    """A new password from a reset or invitation link (no current password to give)."""

    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[DataRequired(), Length(min=12, max=128)],
        description=_l("Entre 12 et 128 caractères ; une phrase de plusieurs mots est idéale."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmer le nouveau mot de passe"),
        validators=[DataRequired(), EqualTo("password", message=_l("Les deux saisies diffèrent."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Enregistrer le mot de passe"))


class PasswordForm(NewPasswordForm):
    """Change one's password: the same new password, after the current one."""

    current_password = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Changer le mot de passe"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Se déconnecter"))


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres"),
        validators=[DataRequired(), Length(min=6, max=8)],
        description=_l("Le code affiché par votre application d'authentification."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"},
    )
    submit = SubmitField(_l("Valider"))


class TotpDisableForm(FlaskForm):
    code = StringField(
        _l("Code à 6 chiffres"),
        validators=[DataRequired(), Length(min=6, max=8)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"},
    )
    submit = SubmitField(_l("Désactiver la double authentification"))


class TokenForm(FlaskForm):
    # A short lifetime for a test, a year at most (an integration that runs unattended):
    # never a token that lives for ever. SelectField refuses any other value.
    lifetime = SelectField(
        _l("Durée de validité"),
        coerce=int,
        choices=[SelectChoice(7, _l("7 jours")), SelectChoice(30, _l("30 jours")), SelectChoice(90, _l("90 jours")),
                 SelectChoice(365, _l("1 an"))],
        default=90,
        description=_l("Après cette durée le jeton ne fonctionne plus ; vous pouvez le révoquer avant."),
    )
    submit = SubmitField(_l("Créer un jeton"))


class TokenRevokeForm(FlaskForm):
    """Only its CSRF token: the confirmation page's button."""

    submit = SubmitField(_l("Révoquer ce jeton"))
