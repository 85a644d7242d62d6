"""The association's side of what comes before and after the lease (issue 18).

Referrals: the tenants in danger a landlord's staff refer to it, with their consent. The
referent takes one on (a draft household file, linked, that she completes: income, search
area and, above all, the zones where she must never be housed) or declines it with a coded
reason the landlord reads.

Follow-up: the checkpoints 3, 6 and 12 months after a lease, each recorded once with a
status and a coded outcome (never a free text: no address can slip in).

Views are thin: `services.followup` checks and changes; the view commits once.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from services import clock
from services import followup as svc
from services import households as household_words
from services.errors import Conflict, NotFound, ValidationError
from web.associations import bp
from web.db import get_session


class AcceptReferralForm(FlaskForm):
    reference = StringField(_l("Référence de votre dossier pour elle"),
                            validators=[InputRequired(message=_l("Indiquez la référence de votre dossier."))],
                            description=_l("Celle de votre association : jamais son nom."))


class DeclineReferralForm(FlaskForm):
    reason = SelectField(
        _l("Motif"),
        choices=[SelectChoice("", _l("— Choisir un motif —")),
                 *(SelectChoice(code, label) for code, label in svc.DECLINE_LABELS.items())],
        validators=[InputRequired(message=_l("Indiquez le motif."))])


class CheckpointForm(FlaskForm):
    status = RadioField(_l("Où en est-elle ?"),
                        choices=[SelectChoice(s, svc.CHECKPOINT_STATUS_LABELS[s]) for s in svc.RECORDED_STATUSES],
                        validators=[InputRequired(message=_l("Choisissez où elle en est."))])
    outcome = SelectField(
        _l("Constat principal"),
        choices=[SelectChoice("", _l("— Choisir un constat —")),
                 *(SelectChoice(code, label) for code, label in svc.OUTCOME_LABELS.items())],
        validators=[InputRequired(message=_l("Choisissez un constat."))])


def _referral(public_id: str) -> Any:
    try:
        return svc.get_referral(get_session(), current_user, public_id)
    except NotFound:
        abort(404)


def _checkpoint(public_id: str) -> Any:
    try:
        return svc.get_checkpoint(get_session(), current_user, public_id)
    except NotFound:
        abort(404)


def _labels() -> dict[str, Any]:
    return {"labels": svc.STATUS_LABELS, "reasons": svc.DECLINE_LABELS,
            "urgency_labels": household_words.URGENCY_LABELS,
            "checkpoint_labels": svc.CHECKPOINT_STATUS_LABELS, "outcome_labels": svc.OUTCOME_LABELS}


@bp.route("/orientations")
def referrals() -> Any:
    """The referrals addressed to the association, those to examine first."""
    rows = [svc.referral_view(r, current_user) for r in svc.list_referrals(get_session(), current_user)]
    return render_template("associations/referrals/list.html", rows=rows, **_labels())


def _referral_page(public_id: str, accept: AcceptReferralForm | None = None,
                   decline: DeclineReferralForm | None = None, status: int = 200) -> Any:
    row = svc.referral_view(_referral(public_id), current_user)
    return render_template("associations/referrals/detail.html", r=row,
                           accept_form=accept or AcceptReferralForm(formdata=None),
                           decline_form=decline or DeclineReferralForm(formdata=None), **_labels()), status


@bp.route("/orientations/<public_id>")
def referral(public_id: str) -> Any:
    """One referral: what the landlord's staff wrote; take her on, or decline."""
    return _referral_page(public_id)


@bp.route("/orientations/<public_id>/accepter", methods=["POST"])
def referral_accept(public_id: str) -> Any:
    """Take her on: a draft household file the referent completes next."""
    _referral(public_id)
    form = AcceptReferralForm()
    if not form.validate_on_submit():
        return _referral_page(public_id, accept=form, status=422)
    db = get_session()
    try:
        household = svc.accept(db, current_user, public_id, reference=form.reference.data or "")
    except ValidationError as exc:
        db.rollback()
        form.reference.errors = [*form.reference.errors, str(exc.message)]
        return _referral_page(public_id, accept=form, status=422)
    except Conflict as exc:  # already answered (by a colleague): the page says how
        db.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".referral", public_id=public_id), 303)
    db.commit()
    flash(_("Dossier %(ref)s ouvert en brouillon : complétez ses ressources, sa zone de recherche et les zones "
            "où elle ne doit jamais être logée, puis activez-le.", ref=household.reference), "success")
    return redirect(url_for(".edit_household", public_id=household.public_id), 303)


@bp.route("/orientations/<public_id>/decliner", methods=["POST"])
def referral_decline(public_id: str) -> Any:
    """Decline the referral with a coded reason (the landlord reads it)."""
    _referral(public_id)
    form = DeclineReferralForm()
    if not form.validate_on_submit():
        return _referral_page(public_id, decline=form, status=422)
    db = get_session()
    try:
        svc.decline(db, current_user, public_id, reason=form.reason.data or "")
    except ValidationError as exc:
        db.rollback()
        form.reason.errors = [*form.reason.errors, str(exc.message)]
        return _referral_page(public_id, decline=form, status=422)
    except Conflict as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".referral", public_id=public_id), 303)
    db.commit()
    flash(_("Orientation déclinée : le bailleur en est informé, avec le motif."), "success")
    return redirect(url_for(".referrals"), 303)


@bp.route("/suivi")
def checkpoints() -> Any:
    """The follow-up checkpoints of the association's rehoused households, those due first."""
    rows = svc.list_checkpoints(get_session(), current_user)
    return render_template("associations/referrals/checkpoints.html", rows=rows,
                           today=clock.today_for(current_user.organisation.departments or []), **_labels())


def _checkpoint_page(public_id: str, form: CheckpointForm | None = None, status: int = 200) -> Any:
    return render_template("associations/referrals/checkpoint.html", c=_checkpoint(public_id),
                           form=form or CheckpointForm(formdata=None), **_labels()), status


@bp.route("/suivi/<public_id>", methods=["GET", "POST"])
def checkpoint(public_id: str) -> Any:
    """One checkpoint: record it (once)."""
    if request.method == "GET":
        return _checkpoint_page(public_id)
    _checkpoint(public_id)  # another association's: 404 before anything is read of the form
    form = CheckpointForm()
    if not form.validate_on_submit():
        return _checkpoint_page(public_id, form, 422)
    db = get_session()
    try:
        svc.record_checkpoint(db, current_user, public_id, status=form.status.data or "",
                              outcome=form.outcome.data or "")
    except ValidationError as exc:
        db.rollback()
        form.status.errors = [*form.status.errors, str(exc.message)]
        return _checkpoint_page(public_id, form, 422)
    except Conflict as exc:  # recorded already: the page shows what was recorded
        db.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".checkpoint", public_id=public_id), 303)
    db.commit()
    flash(_("Point de suivi enregistré."), "success")
    return redirect(url_for(".checkpoints"), 303)
