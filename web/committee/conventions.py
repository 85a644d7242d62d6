"""The committee's page of commitments: for each convention of its territory, what each
landlord (and association) committed to for the year against what was achieved in the
quarter and the year to date; small counts hidden (services.conventions.committee_tables).
A closed quarter is read from its snapshot (services.snapshots), never recomputed."""

from __future__ import annotations

from flask import Response, current_app, g, render_template, request
from flask_login import current_user

from services import audit, reports, snapshots, stats
from services import conventions as svc
from services.stats import Quarter
from web.committee import bp
from web.db import get_session


@bp.route("/conventions")
def conventions():  # type: ignore[no-untyped-def]
    """Commitments against achievements, per convention and organisation, for a quarter."""
    db = get_session()
    allowed = sorted(current_user.organisation.departments or []) if current_user.organisation else []
    text = request.args.get("quarter")
    current = Quarter.of(svc.today())
    quarter = Quarter.parse(text) if text else current
    quarters = [current]
    for _i in range(7):
        quarters.append(quarters[-1].previous())
    lang = str(g.get("lang", "fr"))
    # The committee's whole territory: the scope its quarters are closed for (snapshots.committee_scopes).
    sections = snapshots.convention_sections(db, quarter, allowed, lang=lang) if allowed else []
    snapshot = snapshots.find(db, quarter, allowed) if allowed else None
    changed = snapshots.convention_differences(db, snapshot) if snapshot else None
    return render_template("committee/conventions.html", sections=sections, quarter=quarter, quarters=quarters,
                           departments=allowed, legend=stats.legend(), snapshot=snapshot, changed=changed,
                           display=lambda cell: stats.display(cell, lang))


@bp.route("/conventions/<int:convention_id>/bilan.<fmt>")
def yearly_report(convention_id: int, fmt: str):  # type: ignore[no-untyped-def]
    """A convention's yearly report (commitments against results, year by year) as XLSX, ODS or CSV.

    ``?language=en`` for English (not ``?lang=``, which switches her whole interface)."""
    if fmt not in reports.YEARLY_FORMATS:
        return Response(status=404)
    db = get_session()
    allowed = sorted(current_user.organisation.departments or []) if current_user.organisation else []
    convention = svc.committee_convention(db, convention_id, allowed)
    asked = request.args.get("language")
    lang = asked if asked in current_app.config["LANGUAGES"] else str(g.get("lang", "fr"))
    built = reports.build_yearly(db, fmt, convention, allowed, lang=lang)
    # Who took which convention's figures away, in which format.
    audit.record(db, "committee.convention_report.export", actor=current_user, object_type="convention",
                 object_id=f"{convention.id}:{fmt}")
    db.commit()
    response = Response(built.content, mimetype=built.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
