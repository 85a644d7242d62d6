"""The associations' activity month by month, for the committee's territory (services.activity):
small counts hidden; CSV on demand."""

from __future__ import annotations

from flask import Response, g, render_template, request
from flask_login import current_user

from services import activity, audit, clock, reports, stats
from web.committee import bp
from web.db import get_session


def _year() -> int:
    this_year = clock.today().year
    text = request.args.get("year", "")
    year = int(text) if text.isdigit() and len(text) == 4 else this_year
    return min(max(year, this_year - 9), this_year)


@bp.route("/activite")
def activity_page():  # type: ignore[no-untyped-def]
    db = get_session()
    year = _year()
    departments = sorted(current_user.organisation.departments or []) if current_user.organisation else []
    lang = str(g.get("lang", "fr"))
    tables = activity.tables(db, year, departments) if departments else []
    this_year = clock.today().year
    return render_template("committee/activity.html", tables=tables, year=year, departments=departments,
                           years=list(range(this_year, this_year - 10, -1)), legend=stats.legend(),
                           display=lambda cell: stats.display(cell, lang))


@bp.route("/activite.csv")
def activity_csv():  # type: ignore[no-untyped-def]
    db = get_session()
    year = _year()
    departments = sorted(current_user.organisation.departments or []) if current_user.organisation else []
    if not departments:
        return Response(status=404)
    lang = str(g.get("lang", "fr"))
    content = reports.tables_csv(activity.tables(db, year, departments), lang)
    audit.record(db, "committee.activity.export", actor=current_user, object_type="report",
                 object_id=f"activity-{year}:csv:{','.join(departments)}"[:64])
    db.commit()
    response = Response(content, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="activite-{year}-{"-".join(departments)}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
