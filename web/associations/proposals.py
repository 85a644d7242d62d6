"""The association's proposals: the units offered to its households, her answer, the history.

The referent sees the unit's commune (she must tell the household where it is), its size,
floor, rent and the rent burden it would mean, and answers for the household before the
deadline: accept, or decline with a coded reason.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from services import clock, leases, profiles
from services import proposals as svc
from services.errors import Conflict, ValidationError
from web.associations import bp
from web.config import public_url
from web.db import get_session
from web.notifications import add_notification_pages
from web.proposal_messages import add_message_pages


class AcceptForm(FlaskForm):
    """The household says yes: only the CSRF token."""


class DeclineForm(FlaskForm):
    reason = SelectField(
        _l("Motif du refus"),
        choices=[SelectChoice("", _l("— Choisir un motif —")),
                 *(SelectChoice(code, label) for code, label in svc.HOUSEHOLD_DECLINE_LABELS.items())],
        validators=[InputRequired(message=_l("Indiquez le motif du refus."))],
    )


def _base_url() -> str:
    return public_url()


@bp.route("/propositions")
def proposals():  # type: ignore[no-untyped-def]
    """The proposals made to the association's households, those awaiting an answer first."""
    db = get_session()
    page = svc.list_for(db, current_user, page=request.args.get("page", 1, type=int),
                        per_page=current_app.config["PAGE_SIZE"])
    rows = [(p, profiles.unit_description(p)) for p in page.items]
    return render_template("associations/proposals/list.html", page=page, rows=rows,
                           labels=svc.STATUS_LABELS, today=svc.paris_today())


def _detail(public_id: str, decline: DeclineForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    db = get_session()
    proposal = svc.get_for(db, current_user, public_id)
    decisions = svc.decisions_of(db, proposal)
    return render_template(
        "associations/proposals/detail.html", proposal=proposal,
        unit=profiles.unit_description(proposal), decisions=decisions,
        entries=svc.timeline(db, proposal, current_user), labels=svc.STATUS_LABELS,
        reason_label=svc.reason_label, today=clock.today(proposal.unit.department),
        lease=leases.of(db, proposal) if proposal.status == "leased" else None,
        accept_form=AcceptForm(prefix="accepter"),
        decline_form=decline or DeclineForm(formdata=None, prefix="decliner"),
    ), status


@bp.route("/propositions/<public_id>")
def proposal(public_id: str):  # type: ignore[no-untyped-def]
    """One proposal: the unit, the deadline, the answer form and the history."""
    return _detail(public_id)


def _decide(public_id: str, decision: str, reason: str | None = None) -> Any:
    db = get_session()
    try:
        svc.decide(db, current_user, public_id, decision=decision, reason=reason,
                   base_url=_base_url())
    except Conflict as exc:
        db.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for(".proposal", public_id=public_id), 303)
    db.commit()
    return None


@bp.route("/propositions/<public_id>/accepter", methods=["POST"])
def accept(public_id: str):  # type: ignore[no-untyped-def]
    """The household accepts: the landlord's commission will examine her file."""
    if not AcceptForm(prefix="accepter").validate_on_submit():
        return _detail(public_id, status=400)
    refused = _decide(public_id, "accept")
    if refused is not None:
        return refused
    flash(_("Réponse enregistrée : le ménage accepte. Le bailleur est prévenu."), "success")
    return redirect(url_for(".proposal", public_id=public_id), 303)


@bp.route("/propositions/<public_id>/decliner", methods=["POST"])
def decline(public_id: str):  # type: ignore[no-untyped-def]
    """The household declines, with a coded reason."""
    form = DeclineForm(prefix="decliner")
    if not form.validate_on_submit():
        return _detail(public_id, decline=form, status=422)
    try:
        refused = _decide(public_id, "decline", form.reason.data)
    except ValidationError as exc:
        form.reason.errors = [str(exc.message)]
        return _detail(public_id, decline=form, status=422)
    if refused is not None:
        return refused
    flash(_("Réponse enregistrée : le ménage décline la proposition."), "success")
    return redirect(url_for(".proposal", public_id=public_id), 303)


add_notification_pages(bp)
add_message_pages(bp, "associations.proposal")
