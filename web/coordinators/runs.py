"""Coordination pages of match runs: start, follow (htmx polling), review, drop, release, restart."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from matching import geo
from models import MatchRun
from services import runs as svc
from services import territory, worklists
from services.errors import Conflict, ValidationError
from services.households import URGENCY_LABELS
from web.config import public_url
from web.coordinators import bp
from web.coordinators.forms import DropForm, PolicyForm, ReleaseForm, RestartForm, RunForm
from web.db import get_session
from web.formatting import composition
from web.jobs import enqueue_run, run_liveness

POLICY_FIELDS = ("max_effort_rate", "candidates_per_unit", "horizon_days")


def commune_name(code: str) -> str:
    """ "Lille (59350)" """
    found = geo.commune(code)
    return f"{found.name} ({code})" if found else code


def _helpers() -> dict[str, Any]:
    return {"composition": composition, "commune_name": commune_name, "phase_labels": svc.PHASE_LABELS,
            "status_labels": svc.STATUS_LABELS, "reason_labels": svc.REASON_LABELS,
            "component_labels": svc.COMPONENT_LABELS, "proposal_status_labels": svc.PROPOSAL_STATUS_LABELS,
            "urgency_labels": URGENCY_LABELS, "run_error": svc.run_error}


def _get_run(run_id: str) -> MatchRun:
    """A run of the coordinator's territory (404 for another's, as for none)."""
    db = get_session()
    return svc.get_run(db, run_id, within=territory.runs(db, current_user))


def _enqueue(run: MatchRun) -> None:
    # After the commit (web.db runs it once the view returns); queue down: 503, run failed.
    enqueue_run(current_app, get_session(), run)


def _new_run_form() -> RunForm:
    form = RunForm()
    if not form.is_submitted():
        org = current_user.organisation
        policy = svc.territory_policy(get_session(), org)
        form.departments.data = ", ".join(org.departments if org else [])
        form.max_effort_rate.data = Decimal(str(round(policy["max_effort_rate"] * 100, 1)))
        form.candidates_per_unit.data = policy["candidates_per_unit"]
        form.horizon_days.data = policy["horizon_days"]
        # Drawn once per displayed form: a double click or a resubmission reuses it.
        form.idempotency_key.data = secrets.token_urlsafe(24)
    return form


def index_page(form: RunForm | None = None, status: int = 200) -> Any:
    """The coordinator's home: the runs, newest first, and the form that starts one."""
    db = get_session()
    page = svc.list_runs(db, request.args.get("page", 1, type=int), current_app.config["PAGE_SIZE"],
                         within=territory.runs(db, current_user))
    todo = worklists.coordinator_worklist(db, current_user, current_app.config["STEP_DELAY_DAYS"])
    return render_template("coordinators/index.html", page=page, form=form or _new_run_form(), todo=todo,
                           **_helpers()), status


@bp.route("/rapprochements", methods=["POST"])
def start_run():  # type: ignore[no-untyped-def]
    """Start a run from the home page's form."""
    form = RunForm()
    if not form.validate_on_submit():
        return index_page(form, 422)
    overrides: dict[str, Any] = {}
    if form.max_effort_rate.data is not None:
        overrides["max_effort_rate"] = float(form.max_effort_rate.data) / 100
    for name in ("candidates_per_unit", "horizon_days"):
        if getattr(form, name).data is not None:
            overrides[name] = getattr(form, name).data
    db = get_session()
    try:
        run, created = svc.start_run(
            db, actor=current_user, departments=(form.departments.data or "").replace(";", ",").split(","),
            policy_overrides=overrides, idempotency_key=form.idempotency_key.data,
            liveness=run_liveness(current_app),
        )
    except ValidationError as exc:
        db.rollback()
        for name, messages in exc.errors.items():
            target = getattr(form, name if name in form else "departments")
            target.errors = list(target.errors) + [str(m) for m in messages]
        return index_page(form, 422)
    except Conflict as exc:
        db.rollback()
        form.departments.errors = list(form.departments.errors) + [str(exc.message)]
        return index_page(form, 409)
    if created:
        _enqueue(run)
    db.commit()
    if created:
        flash(_("Rapprochement lancé."), "success")
    return redirect(url_for("coordinators.run", run_id=run.public_id), 303)


def _review(run: MatchRun) -> dict[str, Any]:
    db = get_session()
    if run.status not in ("succeeded", "released"):
        return {}
    return {
        "units": svc.review_page(db, run, request.args.get("page", 1, type=int), 20),
        "unmatched": svc.unmatched_page(db, run, request.args.get("sans", 1, type=int), 50),
    }


@bp.route("/rapprochements/<run_id>")
def run(run_id: str):  # type: ignore[no-untyped-def]
    """A run: its progress while it works, then its proposals to review and release."""
    item = _get_run(run_id)
    return render_template("coordinators/run.html", run=item, drop_form=DropForm, release_form=ReleaseForm(),
                           restart_form=RestartForm(), **_review(item), **_helpers())


@bp.route("/rapprochements/<run_id>/progression")
def run_progress(run_id: str):  # type: ignore[no-untyped-def]
    """The progress fragment htmx polls every second; once the run is over, the page reloads."""
    item = _get_run(run_id)
    response = make_response(render_template("coordinators/_run_progress.html", run=item, **_helpers()))
    if item.status not in svc.ACTIVE_RUN_STATUSES and request.headers.get("HX-Request"):
        # Polling stops: the whole page comes back with the review (or the failure).
        response.headers["HX-Refresh"] = "true"
    return response


@bp.route("/rapprochements/<run_id>/propositions/<proposal_id>/ecarter", methods=["POST"])
def drop_proposal(run_id: str, proposal_id: str):  # type: ignore[no-untyped-def]
    """Set one proposal aside, with the reason."""
    db = get_session()
    item = _get_run(run_id)
    # The prefix ends with a letter: WTForms adds no "-" after one that ends with "-" or "_",
    # as a public id may, and the field's name would then depend on the id.
    form = DropForm(prefix=f"{proposal_id}-drop")
    if not form.validate_on_submit():
        flash(_("Indiquez le motif (3 à 200 caractères) pour écarter une proposition."), "error")
    else:
        try:
            svc.drop_proposal(db, item, proposal_id, form.reason.data or "", actor=current_user)
        except (ValidationError, Conflict) as exc:
            db.rollback()
            flash(str(exc.message), "error")
        else:
            db.commit()
            flash(_("Proposition écartée."), "success")
    # Back to where the coordinator was: both lists' pages, at the unit's proposals.
    return redirect(url_for("coordinators.run", run_id=item.public_id, page=request.args.get("page"),
                            sans=request.args.get("sans")) + f"#unite-{request.args.get('unit', '')}", 303)


@bp.route("/rapprochements/<run_id>/diffuser", methods=["POST"])
def release_run(run_id: str):  # type: ignore[no-untyped-def]
    """Release the reviewed proposals to associations and landlords."""
    db = get_session()
    item = _get_run(run_id)
    if ReleaseForm().validate_on_submit():
        try:
            counts = svc.release_run(db, item, actor=current_user,
                                     reply_days=int(current_app.config["PROPOSAL_REPLY_DAYS"]),
                                     base_url=public_url())
        except Conflict as exc:
            db.rollback()
            flash(str(exc.message), "error")
        else:
            db.commit()
            message = ngettext("%(num)d proposition envoyée.", "%(num)d propositions envoyées.", counts["released"])
            if counts["cancelled"]:
                message += " " + ngettext(
                    "%(num)d annulée : logement ou ménage plus disponible.",
                    "%(num)d annulées : logement ou ménage plus disponible.", counts["cancelled"])
            flash(message, "success")
    return redirect(url_for("coordinators.run", run_id=item.public_id), 303)


@bp.route("/rapprochements/<run_id>/relancer", methods=["POST"])
def restart_run(run_id: str):  # type: ignore[no-untyped-def]
    """Start a failed run again."""
    db = get_session()
    item = _get_run(run_id)
    if RestartForm().validate_on_submit():
        try:
            svc.restart_run(db, item, actor=current_user, liveness=run_liveness(current_app))
        except Conflict as exc:
            db.rollback()
            flash(str(exc.message), "error")
        else:
            _enqueue(item)
            db.commit()
            flash(_("Rapprochement relancé."), "success")
    return redirect(url_for("coordinators.run", run_id=item.public_id), 303)


@bp.route("/regles", methods=["GET", "POST"])
def policy():  # type: ignore[no-untyped-def]
    """The territory's matching rules: the defaults of every new run."""
    db = get_session()
    org = current_user.organisation
    form = PolicyForm()
    if form.validate_on_submit():
        try:
            svc.set_territory_policy(db, org, {
                "max_effort_rate": float(form.max_effort_rate.data or 0) / 100,
                "candidates_per_unit": form.candidates_per_unit.data,
                "horizon_days": form.horizon_days.data,
            }, actor=current_user)
        except ValidationError as exc:
            db.rollback()
            for name, messages in exc.errors.items():
                target = getattr(form, name if name in form else "max_effort_rate")
                target.errors = list(target.errors) + [str(m) for m in messages]
        else:
            db.commit()
            flash(_("Règles enregistrées : elles s'appliquent aux prochains rapprochements."), "success")
            return redirect(url_for("coordinators.policy"), 303)
    elif not form.is_submitted():
        current = svc.territory_policy(db, org)
        form.max_effort_rate.data = Decimal(str(round(current["max_effort_rate"] * 100, 1)))
        form.candidates_per_unit.data = current["candidates_per_unit"]
        form.horizon_days.data = current["horizon_days"]
    return render_template("coordinators/policy.html", form=form), 422 if form.errors else 200
