"""The association's households: the list (its home), the form with a check step, consent, erasure.

Saving needs a check first: "Vérifier" shows the exclusion zones back in words and signs
what was checked; "Enregistrer" saves only what was checked (an edit after the check asks for
another look). Every rule is the service's, the same as the API's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from matching import geo
from models import Household
from models.housing import HOUSEHOLD_STATUSES
from services import clock, communes, proposals, shelter, transfers, worklists
from services import households as svc
from services import policy as policies
from services.errors import Conflict, ValidationError
from web.associations import bp
from web.associations.forms import HouseholdForm
from web.associations.offers import RequestForm, requests_of
from web.associations.transfers import TransferForm
from web.config import public_url
from web.db import get_session
from web.formatting import composition


class ActivationForm(FlaskForm):
    consent_recorded_on = StringField(
        _l("Consentement recueilli le"),
        description=_l("La date à laquelle elle a accepté que sa demande soit proposée aux bailleurs."),
        render_kw={"type": "date"},
    )


class ConfirmForm(FlaskForm):
    """A button that posts (withdraw, erase): only its CSRF token."""


def _rate(search_area: dict[str, Any] | None = None) -> float:
    """The rent-burden ceiling the matching applies in her territory: where she looks, else
    her association's departments (the same policy a run for them uses)."""
    organisation = current_user.organisation
    departments = policies.household_departments(search_area, organisation.departments if organisation else ())
    return policies.max_effort_rate(get_session(), departments)


def waiting(household: Household) -> str:
    """ "en attente depuis 42 jours", or when the request was closed."""
    days = svc.waiting_days(household)
    if days is None:
        closed = household.closed_at.date().strftime("%d/%m/%Y") if household.closed_at else ""
        return _("close le %(date)s", date=closed) if closed else _("close")
    if days == 0:
        return _("demande du jour")
    return ngettext("en attente depuis %(num)d jour", "en attente depuis %(num)d jours", days)


def euros(amount: Decimal | int) -> str:
    """ "1 380" or "1 380,50": an amount in the reader's language."""
    return str(format_decimal(amount, format="#,##0.##"))


def _helpers() -> dict[str, Any]:
    return {"composition": composition, "waiting": waiting, "status_labels": svc.STATUS_LABELS,
            "urgency_labels": svc.URGENCY_LABELS, "priority_labels": svc.PRIORITY_LABELS}


def _own(public_id: str) -> Household:
    return svc.get_household(get_session(), public_id, association=current_user.organisation)


def summary(values: dict[str, Any]) -> dict[str, Any]:
    """What a referent checks before saving, and reads on the household's page, in words."""
    income = Decimal(str(values["monthly_income"] or 0))
    allowance = Decimal(str(values["housing_allowance"] or 0))
    rate = _rate(values["search_area"])
    return {
        "composition": composition(values["adults"], values["children"]),
        "zones": svc.describe_exclusion_zones(values["exclusion_zones"] or []),
        "search": svc.describe_search_area(values["search_area"]),
        "preferred": svc.describe_preferred_points(values["preferred_points"] or []),
        "max_rent": euros(svc.max_rent(income, allowance, rate)),
        "rate": rate,
        "rate_percent": round(rate * 100),
        "income": euros(income),
        "allowance": euros(allowance),
        "urgency": svc.URGENCY_LABELS[values["urgency"]],
        "priorities": [svc.PRIORITY_LABELS[c] for c in values["priority_categories"] or []],
        "home": svc.describe_current_home(get_session(), values.get("current_home")),
    }


def _signature(values: dict[str, Any]) -> str:
    """Signs exactly what was checked: saving anything else needs another check."""
    text = json.dumps(values, sort_keys=True, default=str)
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------------


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """The association's households, most urgent first, with how long each has waited."""
    status = request.args.get("statut") or None
    if status not in (None, *HOUSEHOLD_STATUSES):
        status = None
    reference = (request.args.get("reference") or "").strip()[:80]
    org = current_user.organisation
    # The departments the association works in (all of them when it has not said).
    names = geo.departments()
    departments = {code: names.get(code, code) for code in (org.departments or names)}
    department = request.args.get("departement") or None
    if department not in departments:
        department = None
    page = svc.list_households(get_session(), association=org, statuses=[status] if status else None,
                               reference=reference or None, department=department,
                               page=request.args.get("page", 1, type=int), per_page=current_app.config["PAGE_SIZE"])
    # What awaits her heads the home page; a filtered or later page of the list is a search.
    todo = None
    if not (status or reference or department) and page.page == 1:
        todo = worklists.association_worklist(get_session(), current_user, current_app.config["STEP_DELAY_DAYS"])
    return render_template("associations/index.html", page=page, status=status, statuses=HOUSEHOLD_STATUSES,
                           reference=reference, department=department, departments=departments, todo=todo,
                           **_helpers())


def _form_page(form: HouseholdForm, household: Household | None) -> Any:
    """Handle a posted household form: add a row, check, or save what was checked."""
    db = get_session()
    action = request.form.get("action", "verify")
    if action in ("add_point", "add_preferred"):
        form.add_row("point" if action == "add_point" else "preferred")
        return _render_form(form, household, None)
    data, errors = form.to_data()
    values = None
    try:
        values = svc.validate_household_fields(data, text=True)
    except ValidationError as exc:
        errors.update(exc.errors)
    if values is not None and not errors:
        try:
            svc.check_reference_free(db, current_user.organisation_id, values["reference"],
                                     household.id if household else None)
        except Conflict as exc:
            errors["reference"] = [exc.message]
    if errors or values is None:
        form.show_errors(errors)
        return _render_form(form, household, None), 422
    signature = _signature(values)
    if action == "save" and hmac.compare_digest(form.verified.data or "", signature):
        try:
            if household is None:
                household = svc.create_household(db, current_user.organisation, data, actor=current_user, text=True)
            else:
                svc.update_household(db, household, data, actor=current_user, text=True, partial=False)
        except (ValidationError, Conflict) as exc:
            db.rollback()
            form.show_errors(getattr(exc, "errors", None) or {exc.field or "_schema": [exc.message]})
            return _render_form(form, household, None), 422
        db.commit()
        flash(_("Ménage %(ref)s enregistré.", ref=household.reference), "success")
        return redirect(url_for("associations.household", public_id=household.public_id))
    if action == "save":
        flash(_("Le formulaire a changé depuis la vérification : relisez le résumé, puis enregistrez."), "info")
    form.verified.data = signature
    return _render_form(form, household, summary(values))


def _render_form(form: HouseholdForm, household: Household | None, preview: dict[str, Any] | None) -> str:
    form.current_landlord.choices = [("", _("— elle n'est pas locataire d'un bailleur social —"))] + \
        svc.landlord_choices(get_session(), current_user.organisation.departments or [])
    return render_template("associations/household_form.html", form=form, household=household, preview=preview,
                           rate=preview["rate"] if preview else _rate(household.search_area if household else None),
                           **_helpers())


@bp.route("/menages/nouveau", methods=["GET", "POST"])
def new_household():  # type: ignore[no-untyped-def]
    """Describe a new household (a draft until her consent is recorded and it is activated)."""
    form = HouseholdForm()
    if request.method == "POST":
        if not form.validate_on_submit():  # only the CSRF token: the rules are the service's
            abort(400)
        return _form_page(form, None)
    form.requested_on.data = clock.today().isoformat()
    return _render_form(form, None, None)


@bp.route("/menages/<public_id>")
def household(public_id: str):  # type: ignore[no-untyped-def]
    """A household's page: everything the association recorded, its zones in words (the read is logged)."""
    item = _own(public_id)
    return _detail(item, ActivationForm(), 200)


def _detail(item: Household, activation: ActivationForm, code: int) -> Any:
    db = get_session()
    svc.record_sensitive_read(db, [item], actor=current_user)
    db.commit()
    if not activation.consent_recorded_on.data:
        activation.consent_recorded_on.data = (item.consent_recorded_on or clock.today()).isoformat()
    values = {name: getattr(item, name) for name in svc.WRITABLE_FIELDS}
    history = proposals.household_timeline(db, item, current_user)
    return render_template("associations/household.html", household=item, info=summary(values),
                           activation=activation, confirm=ConfirmForm(), history=history,
                           open_proposals=len(proposals.cancellable(db, household=item)),
                           request_form=RequestForm(formdata=None), requests=requests_of(item),
                           transfer_form=TransferForm(formdata=None), transfer_labels=transfers.REASON_LABELS,
                           radius_km=transfers.TRANSFER_ZONE_RADIUS_KM,
                           transfers=transfers.transfers_of(db, item), stays=shelter.stays_of(db, item),
                           stay_reasons=shelter.END_REASON_LABELS, describe=communes.describe, **_helpers()), code


@bp.route("/menages/<public_id>/modifier", methods=["GET", "POST"])
def edit_household(public_id: str):  # type: ignore[no-untyped-def]
    """Change a household: the same form and the same check before saving."""
    item = _own(public_id)
    if item.status == "housed":
        flash(_("Ce ménage est relogé : sa demande ne peut plus être modifiée."), "error")
        return redirect(url_for("associations.household", public_id=public_id))
    form = HouseholdForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        return _form_page(form, item)
    svc.record_sensitive_read(get_session(), [item], actor=current_user)
    get_session().commit()
    form.fill(item)
    return _render_form(form, item, None)


@bp.route("/menages/<public_id>/activer", methods=["POST"])
def activate_household(public_id: str):  # type: ignore[no-untyped-def]
    """Record her consent and put the request into matching."""
    item = _own(public_id)
    form = ActivationForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    value = (form.consent_recorded_on.data or "").strip()
    try:
        svc.activate_household(db, item, actor=current_user, text=True,
                               data={"consent_recorded_on": value} if value else None)
    except ValidationError as exc:
        db.rollback()
        form.consent_recorded_on.errors = [str(m) for m in exc.errors.get("consent_recorded_on", [exc.message])]
        return _detail(_own(public_id), form, 422)
    except Conflict as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("associations.household", public_id=public_id))
    db.commit()
    flash(_("Demande activée : elle sera étudiée au prochain rapprochement."), "success")
    return redirect(url_for("associations.household", public_id=public_id))


@bp.route("/menages/<public_id>/retirer", methods=["POST"])
def withdraw_household(public_id: str):  # type: ignore[no-untyped-def]
    """Take the request out of matching (it can be activated again)."""
    item = _own(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    cancelled = len(proposals.cancellable(db, household=item))
    try:
        svc.withdraw_household(db, item, actor=current_user, base_url=_base_url())
    except Conflict as exc:
        db.rollback()
        flash(str(exc.message), "error")
    else:
        db.commit()
        flash(_("Demande retirée."), "success")
        if cancelled:
            flash(ngettext("%(num)d proposition en cours a été annulée ; le bailleur est prévenu.",
                           "%(num)d propositions en cours ont été annulées ; les bailleurs sont prévenus.",
                           cancelled), "success")
    return redirect(url_for("associations.household", public_id=public_id))


@bp.route("/menages/<public_id>/effacer", methods=["GET", "POST"])
def erase_household(public_id: str):  # type: ignore[no-untyped-def]
    """Erase a household for good, after a confirmation page."""
    item = _own(public_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        db = get_session()
        try:
            svc.erase_household(db, item, actor=current_user, base_url=_base_url())
        except Conflict as exc:
            db.rollback()
            flash(str(exc.message), "error")
            return redirect(url_for("associations.household", public_id=public_id))
        db.commit()
        flash(_("Le ménage a été effacé. Seule une trace sans donnée personnelle reste au journal."), "success")
        return redirect(url_for("associations.index"))
    return render_template("associations/household_erase.html", household=item, form=form,
                           open_proposals=len(proposals.cancellable(get_session(), household=item)),
                           **_helpers())


def _base_url() -> str:
    return public_url()
