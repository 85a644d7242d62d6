"""The committee's pages: the quarter dashboard, charts, exports, unmet needs, what-if, notes.

Every figure is computed by `services.stats` / `services.whatif` and suppressed there;
these views only choose the quarter and departments, render, and commit notes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import SnapshotSolve
from services import audit, charts, reports, runs, snapshot_solves, snapshots, stats, whatif
from services import committee as review_svc
from services.errors import ValidationError
from services.stats import Quarter
from web.committee import bp
from web.committee.forms import ActionForm, NoteForm, RecomputeForm, WhatIfForm
from web.db import get_session
from web.jobs import enqueue_snapshot_solve


def _allowed() -> list[str]:
    org = current_user.organisation
    return list(org.departments or []) if org else []


def _selection(source: Any = None) -> tuple[Quarter, list[str]]:
    """The quarter and departments asked for (default: the current quarter, all of the committee's)."""
    source = source if source is not None else request.args
    text = source.get("quarter")
    quarter = Quarter.parse(text) if text else Quarter.of(runs.today())
    return quarter, stats.resolve_departments(source.get("departments"), _allowed())


def _settings() -> dict[str, Any]:
    cfg = current_app.config
    setting = cfg.get("LOWEST_QUARTILE_INCOME")
    return {"lowest_quartile_setting": float(setting) if setting is not None else None,
            "qpv_target": float(cfg.get("QPV_LOWEST_QUARTILE_TARGET", stats.DEFAULT_QPV_TARGET))}


def _args(quarter: Quarter, departments: list[str], **extra: Any) -> dict[str, Any]:
    return {"quarter": str(quarter), "departments": ",".join(departments), **extra}


def _lang() -> str:
    return str(g.get("lang", "fr"))


def _display(cell: stats.Cell) -> str:
    return stats.display(cell, _lang())


def _organisation_choices() -> list[tuple[Any, str]]:
    kinds = {"landlord": _("bailleur"), "association": _("association")}
    return [("", _("— aucune —"))] + [
        (o.id, f"{o.name} ({kinds[o.kind]})") for o in review_svc.discussable_organisations(get_session())]


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """The quarter dashboard: figures, charts with their tables, notes and actions."""
    try:
        quarter, departments = _selection()
    except ValidationError as exc:
        flash(str(exc.message), "error")
        quarter, departments = Quarter.of(runs.today()), stats.resolve_departments(None, _allowed())
    session = get_session()
    # A closed quarter is read from its snapshot (services.snapshots), never recomputed.
    figures = snapshots.quarter_figures(session, quarter, departments, lang=_lang(), **_settings())
    snapshot = snapshots.find(session, quarter, departments)
    changed = snapshots.differences(session, snapshot, **_settings()) if snapshot else None
    # Commitments first (the committee's first question), frozen with the quarter when it is closed.
    commitments = snapshots.convention_sections(session, quarter, departments, lang=_lang())
    review = review_svc.quarter_review(session, quarter, current_user.organisation_id)
    note_form, action_form = NoteForm(), ActionForm()
    for form in (note_form, action_form):
        form.quarter.data, form.departments.data = str(quarter), ",".join(departments)
    note_form.organisation.choices = _organisation_choices()
    action_form.owner.choices = _organisation_choices()
    sections = reports.chart_sections(figures)
    charted = {s["table"].key for s in sections}
    current = Quarter.of(runs.today())
    quarters = [current]
    for _i in range(7):
        quarters.append(quarters[-1].previous())
    return render_template(
        "committee/index.html", figures=figures, review=review, sections=sections,
        other_tables=[t for t in figures.tables if t.key not in charted], display=_display,
        legend=stats.legend(), quarter=quarter, departments=departments, allowed=sorted(_allowed()),
        quarters=quarters, args=_args(quarter, departments), note_form=note_form, action_form=action_form,
        snapshot=snapshot, changed=changed, commitments=commitments)


@bp.route("/graphiques/<name>.svg")
def chart(name: str):  # type: ignore[no-untyped-def]
    """One chart as SVG (never cached: figures change and are not for shared caches)."""
    if name not in charts.CHARTS:
        return Response(status=404)
    quarter, departments = _selection()
    figures = snapshots.quarter_figures(get_session(), quarter, departments, lang=_lang(), **_settings())
    response = Response(charts.render(name, figures), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/rapport.<fmt>")
def report(fmt: str):  # type: ignore[no-untyped-def]
    """The quarter's report as PDF, XLSX, ODS or CSV (?language=en for English).

    Not `?lang=`: that one switches the member's whole interface (web/extensions.py), and a
    report in English must leave her pages in her own language."""
    if fmt not in reports.FORMATS:
        return Response(status=404)
    quarter, departments = _selection()
    asked = request.args.get("language")
    lang = asked if asked in current_app.config["LANGUAGES"] else _lang()
    session = get_session()
    built = reports.build(session, fmt, quarter, departments, lang=lang,
                          committee_id=current_user.organisation_id, **_settings())
    # Who took which quarter's figures away, in which format (the object id names no person).
    audit.record(session, "committee.report.export", actor=current_user, object_type="report",
                 object_id=export_id(quarter, fmt, departments))
    session.commit()
    response = Response(built.content, mimetype=built.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def export_id(quarter: Quarter, fmt: str, departments: list[str]) -> str:
    """The audit trail's name for one export: ``2026-Q4:xlsx:59,62`` (cut to the column's 64 characters)."""
    return f"{quarter}:{fmt}:{','.join(departments)}"[:64]


def _may_read(departments: list[str]) -> bool:
    return bool(departments) and set(departments) <= set(_allowed())


def _solve(solve_id: int) -> SnapshotSolve:
    solve = snapshot_solves.get(get_session(), solve_id, _may_read)
    if solve is None:
        abort(404)
    return solve


def _ask(kind: str, departments: list[str], params: dict[str, Any], *, force: bool = False) -> Any:
    """Ask for a solve (joined or reused if the same question is under way or fresh), then show it."""
    session = get_session()
    solve, new = snapshot_solves.request(session, kind, departments, params, locale=_lang(), actor=current_user,
                                         force=force)
    if new:
        enqueue_snapshot_solve(current_app, session, solve)
    session.commit()
    return solve, new


@bp.route("/besoins", methods=["GET", "POST"])
def needs():  # type: ignore[no-untyped-def]
    """Unmet needs today: what blocks waiting households, why units get no proposal.

    Computed by a worker (services.snapshot_solves): the page shows the latest fresh answer,
    or starts one and follows its progress; POST computes again.
    """
    source = request.form if request.method == "POST" else request.args
    _quarter, departments = _selection(source)
    if request.method == "POST":
        if not RecomputeForm().validate_on_submit():
            abort(400)
        solve, _new = _ask("needs", departments, {}, force=True)
        return redirect(url_for("committee.needs", departments=",".join(departments), calcul=solve.id), code=303)
    asked = request.args.get("calcul", type=int)
    if asked is not None:
        solve = _solve(asked)
        departments = snapshot_solves.departments_of(solve)
    else:
        solve, new = _ask("needs", departments, {})
        if new:
            return redirect(url_for("committee.needs", departments=",".join(departments), calcul=solve.id), code=303)
    return render_template("committee/needs.html", answer=snapshot_solves.load(solve), departments=departments,
                           allowed=sorted(_allowed()), display=_display, legend=stats.legend(),
                           recompute_form=RecomputeForm())


@bp.route("/simulation", methods=["GET", "POST"])
def simulation():  # type: ignore[no-untyped-def]
    """What-if: the current supply and demand solved with another policy; nothing changes for real.

    The form is checked here; the two solves run in a worker and the page follows them.
    """
    session = get_session()
    source = request.form if request.method == "POST" else request.args
    _quarter, departments = _selection(source)
    answer = None
    asked = request.args.get("calcul", type=int) if request.method == "GET" else None
    if asked is not None:
        solve = _solve(asked)
        if solve.kind != "whatif":
            abort(404)
        departments = snapshot_solves.departments_of(solve)
        answer = snapshot_solves.load(solve)
    base = whatif.baseline_policy(session, departments)
    form = WhatIfForm()
    if request.method == "GET":
        shown = {**base, **(answer.solve.params if answer else {})}
        form.departments.data = ",".join(departments)
        form.max_effort_rate.data = Decimal(str(round(100 * float(shown["max_effort_rate"]), 1)))
        form.horizon_days.data = int(shown.get("horizon_days", 90))
        form.candidates_per_unit.data = int(shown.get("candidates_per_unit", 3))
        share = shown.get("qpv_lowest_quartile_share")
        form.qpv_share.data = Decimal(str(round(100 * share))) if share is not None else None
    if form.validate_on_submit():
        changes = {
            "max_effort_rate": float(form.max_effort_rate.data) / 100,
            "horizon_days": form.horizon_days.data,
            "candidates_per_unit": form.candidates_per_unit.data,
            "qpv_lowest_quartile_share": float(form.qpv_share.data) / 100 if form.qpv_share.data is not None
            else None,
        }
        try:
            whatif.validate_changes(session, departments, changes)
        except ValidationError as exc:
            flash(str(exc.message), "error")
        else:
            solve, _new = _ask("whatif", departments, changes)
            return redirect(url_for("committee.simulation", departments=",".join(departments), calcul=solve.id),
                            code=303)
    return render_template("committee/simulation.html", form=form, answer=answer, base=base,
                           departments=departments, allowed=sorted(_allowed()), display=_display,
                           legend=stats.legend())


@bp.route("/calculs/<int:solve_id>/etat")
def solve_progress(solve_id: int):  # type: ignore[no-untyped-def]
    """The waiting notice htmx polls while a solve works; once it is over, the page reloads."""
    answer = snapshot_solves.load(_solve(solve_id))
    response = make_response(render_template("committee/_solve_progress.html", answer=answer))
    if not answer.pending and request.headers.get("HX-Request"):
        response.headers["HX-Refresh"] = "true"
    return response


def _back(form: Any):  # type: ignore[no-untyped-def]
    return redirect(url_for("committee.index", quarter=form.quarter.data, departments=form.departments.data)
                    + "#notes")


@bp.route("/notes", methods=["POST"])
def add_note():  # type: ignore[no-untyped-def]
    """Attach a note (or a flag on an organisation's figures) to the quarter."""
    form = NoteForm()
    form.organisation.choices = _organisation_choices()
    quarter = Quarter.parse(form.quarter.data)
    if form.validate_on_submit():
        review_svc.add_note(get_session(), quarter, form.text.data, actor=current_user,
                            flagged_organisation_id=form.organisation.data)
        get_session().commit()
        flash(_("Note enregistrée."), "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return _back(form)


@bp.route("/actions", methods=["POST"])
def add_action():  # type: ignore[no-untyped-def]
    """Record a follow-up action decided for the quarter."""
    form = ActionForm()
    form.owner.choices = _organisation_choices()
    quarter = Quarter.parse(form.quarter.data)
    if form.validate_on_submit():
        review_svc.add_action(get_session(), quarter, form.text.data, actor=current_user,
                              owner_organisation_id=form.owner.data, due_on=form.due_on.data)
        get_session().commit()
        flash(_("Action enregistrée."), "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return _back(form)


@bp.route("/actions/<int:action_id>/statut", methods=["POST"])
def action_status(action_id: int):  # type: ignore[no-untyped-def]
    """Mark an action done, or open again."""
    review_svc.set_action_status(get_session(), action_id, request.form.get("status", ""), actor=current_user)
    get_session().commit()
    flash(_("Action mise à jour."), "success")
    return redirect(url_for("committee.index", quarter=request.form.get("quarter"),
                            departments=request.form.get("departments")) + "#notes")


