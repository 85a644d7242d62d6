"""A landlord's referrals: her staff (social counsellor, tenancy officer, caretaker) refer a
tenant in danger, with her consent, to an association of her department; then follow only
the referral's own status (issue 18).

Nothing that names or locates her is asked: the landlord's own reference for the tenancy
(which only the landlord reads again), the household's composition, the urgency, whether she
shares the home with the aggressor, the date of her consent and a short message checked like
a rehousing request's. `services.followup` checks every field and names each error; the view
puts the messages next to their fields and commits once.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from services import followup as svc
from services import households as household_words
from services.errors import Conflict, NotFound, ValidationError
from web.db import get_session
from web.fields import place_errors
from web.landlords import bp
from web.landlords.forms import Required

FIELDS = ("association", "landlord_reference", "department", "adults", "children", "urgency", "shares_home",
          "consent_on", "message")


class ReferralForm(FlaskForm):
    """Text as she types it: `services.followup.refer` checks it (the API's rules)."""

    landlord_reference = StringField(_l("Votre référence pour ce dossier"), validators=[Required()],
                                     description=_l("Celle de votre service (numéro de bail, de dossier) : seul "
                                                    "votre organisme la lit. Jamais son nom ni son adresse."))
    department = SelectField(_l("Département de son logement actuel"), choices=[], validators=[Required()],
                             validate_choice=False)
    association = SelectField(_l("Association à qui vous l'orientez"), choices=[], validators=[Required()],
                              validate_choice=False,
                              description=_l("Les associations qui travaillent dans vos départements."))
    adults = StringField(_l("Adultes"), default="1", validators=[Required()])
    children = StringField(_l("Enfants"), default="0")
    urgency = SelectField(_l("Urgence"), default="2", validate_choice=False,
                          choices=[SelectChoice(str(k), v) for k, v in household_words.URGENCY_LABELS.items()])
    site = StringField(_l("Site ou agence qui l'oriente (facultatif)"),
                       description=_l("Le nom de votre agence ou de votre site, pour que l'association sache qui "
                                      "rappeler : jamais l'adresse de son logement."))
    is_tenant = BooleanField(_l("Elle est locataire de votre organisme"),
                             description=_l("Son logement actuel ne lui sera jamais proposé ; l'association "
                                            "indiquera sa commune, exclue de ses recherches."))
    shares_home = BooleanField(_l("Elle vit encore sous le même toit que l'agresseur"))
    consent_on = DateField(_l("Date de son accord pour cette orientation"), validators=[Optional(), Required()],
                           description=_l("Rien ne se fait sans son accord."))
    message = TextAreaField(_l("Message pour l'association (facultatif)"),
                            description=_l("Ni nom, ni adresse, ni lieu, ni numéro de téléphone : %(n)d caractères "
                                           "au plus.", n=svc.offers.MESSAGE_MAX))

    def fill_choices(self, departments: list[str]) -> None:
        self.department.choices = [SelectChoice(d, d) for d in departments]
        associations = svc.associations_for(get_session(), departments)
        self.association.choices = [SelectChoice("", _("— Choisir une association —"))] + [
            SelectChoice(a.code, f"{a.name} ({', '.join(sorted(set(a.departments or []) & set(departments)))})")
            for a in associations]

    def add_errors(self, errors: dict[str, Any]) -> list[str]:
        """The service's messages next to their fields; those of no field are returned."""
        return place_errors(self, errors, FIELDS)


class ReferralActionForm(FlaskForm):
    """Only the CSRF token."""


def _referral(public_id: str) -> Any:
    try:
        return svc.get_referral(get_session(), current_user, public_id)
    except NotFound:
        abort(404)


@bp.route("/orientations")
def referrals() -> Any:
    """Her organisation's referrals, those the association has still to examine first."""
    rows = [svc.referral_view(r, current_user) for r in svc.list_referrals(get_session(), current_user)]
    return render_template("landlords/referrals/list.html", rows=rows, labels=svc.STATUS_LABELS,
                           reasons=svc.DECLINE_LABELS)


@bp.route("/orientations/nouvelle", methods=["GET", "POST"])
def referral_new() -> Any:
    """Refer a tenant in danger to an association."""
    departments = list(current_user.organisation.departments or [])
    form = ReferralForm()
    form.fill_choices(departments)
    general: list[str] = []
    if form.is_submitted():
        form.validate()  # the token, and a date that is not one: the rules are the service's
        if "csrf_token" in form.errors:
            general = [_("Le formulaire a expiré : recommencez.")]
        else:
            db = get_session()
            try:
                referral = svc.refer(db, current_user, association=form.association.data or "",
                                     landlord_reference=form.landlord_reference.data or "",
                                     department=form.department.data or "", adults=form.adults.data,
                                     children=form.children.data or "0", urgency=form.urgency.data,
                                     consent_on=form.consent_on.data, shares_home=bool(form.shares_home.data),
                                     message=form.message.data, site=form.site.data,
                                     is_tenant=bool(form.is_tenant.data))
            except ValidationError as exc:
                db.rollback()
                if form.consent_on.errors:  # "not a date" already says what is wrong
                    exc.errors.pop("consent_on", None)
                general = form.add_errors(exc.errors)
            except Conflict as exc:
                db.rollback()
                general = form.add_errors({exc.field or "_schema": [exc.message]})
            else:
                db.commit()
                flash(_("Orientation envoyée à %(association)s : elle vous dira si elle l'accompagne.",
                        association=referral.association.name), "success")
                return redirect(url_for(".referral", public_id=referral.public_id), 303)
    return render_template("landlords/referrals/new.html", form=form, general=general,
                           has_associations=len(form.association.choices) > 1)


@bp.route("/orientations/<public_id>")
def referral(public_id: str) -> Any:
    """One referral: what was sent, and the association's answer (never her file)."""
    row = svc.referral_view(_referral(public_id), current_user)
    return render_template("landlords/referrals/detail.html", r=row, labels=svc.STATUS_LABELS,
                           reasons=svc.DECLINE_LABELS, urgency_labels=household_words.URGENCY_LABELS)
