"""The yearly and multi-year report for the préfecture and the départements: a page that shows
it and its downloads (PDF, XLSX, ODS, CSV; ``?language=en``). Each year is read from its
closed fourth quarter (services.multi_year); the committee's whole territory is its scope,
as for the conventions, since that is what its quarters are closed for."""

from __future__ import annotations

from flask import Response, current_app, g, render_template, request
from flask_login import current_user

from services import audit, multi_year, reports, stats
from web.committee import bp
from web.db import get_session


def _range() -> tuple[int, int]:
    def year(name: str) -> int | None:
        text = request.args.get(name, "")
        return int(text) if text.isdigit() and len(text) == 4 else None
    return multi_year.year_range(year("from"), year("to"))


def _territory() -> list[str]:
    return sorted(current_user.organisation.departments or []) if current_user.organisation else []


@bp.route("/bilan")
def years():  # type: ignore[no-untyped-def]
    """The range's figures year by year and in total, small counts hidden in the totals too."""
    db = get_session()
    first, last = _range()
    departments = _territory()
    lang = str(g.get("lang", "fr"))
    report = multi_year.build(db, departments, first, last, lang=lang) if departments else None
    this_year = multi_year.year_range(None, None)[1]
    return render_template("committee/years.html", report=report, first=first, last=last,
                           choices=list(range(this_year, this_year - multi_year.MAX_YEARS, -1)),
                           notes=reports.multi_year_notes(report) if report else [],
                           departments=departments, legend=stats.legend(),
                           display=lambda cell: stats.display(cell, lang))


@bp.route("/bilan.<fmt>")
def years_report(fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in reports.MULTI_YEAR_FORMATS:
        return Response(status=404)
    departments = _territory()
    if not departments:
        return Response(status=404)
    first, last = _range()
    asked = request.args.get("language")
    lang = asked if asked in current_app.config["LANGUAGES"] else str(g.get("lang", "fr"))
    db = get_session()
    built = reports.build_multi_year(db, fmt, departments, first, last, lang=lang)
    # Who took which years' figures away, in which format.
    audit.record(db, "committee.multi_year_report.export", actor=current_user, object_type="report",
                 object_id=f"{first}-{last}:{fmt}:{','.join(departments)}"[:64])
    db.commit()
    response = Response(built.content, mimetype=built.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
