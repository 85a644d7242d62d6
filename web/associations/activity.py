"""An association's own activity month by month (services.activity): what it reports to its
funders, counted from its files' events. Its own counts, unsuppressed (they are its files)."""

from __future__ import annotations

from flask import Response, g, render_template, request
from flask_login import current_user

from matching.geo import departments as all_departments
from services import activity, clock, reports, stats
from web.associations import bp
from web.db import get_session


def _year() -> int:
    this_year = clock.today().year
    text = request.args.get("year", "")
    year = int(text) if text.isdigit() and len(text) == 4 else this_year
    return min(max(year, this_year - 9), this_year)


def _tables(year: int) -> list[stats.Table]:
    # Her files wherever she searches: every department, her association's rows only.
    return activity.tables(get_session(), year, sorted(all_departments()),
                           association_id=current_user.organisation_id)


@bp.route("/activite")
def activity_page():  # type: ignore[no-untyped-def]
    year = _year()
    lang = str(g.get("lang", "fr"))
    this_year = clock.today().year
    return render_template("associations/activity.html", tables=_tables(year), year=year,
                           years=list(range(this_year, this_year - 10, -1)),
                           display=lambda cell: stats.display(cell, lang))


@bp.route("/activite.csv")
def activity_csv():  # type: ignore[no-untyped-def]
    year = _year()
    content = reports.tables_csv(_tables(year), str(g.get("lang", "fr")))
    response = Response(content, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="activite-{year}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
