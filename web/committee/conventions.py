"""The committee's page of commitments: for each convention of its territory, what each
landlord (and association) committed to for the year against what was achieved in the
quarter and the year to date; small counts hidden (services.conventions.committee_tables)."""

from __future__ import annotations

from flask import g, render_template, request
from flask_login import current_user

from services import conventions as svc
from services import stats
from services.stats import Quarter
from web.committee import bp
from web.db import get_session


@bp.route("/conventions")
def conventions():  # type: ignore[no-untyped-def]
    """Commitments against achievements, per convention and organisation, for a quarter."""
    db = get_session()
    allowed = list(current_user.organisation.departments or []) if current_user.organisation else []
    text = request.args.get("quarter")
    current = Quarter.of(svc.today())
    quarter = Quarter.parse(text) if text else current
    quarters = [current]
    for _i in range(7):
        quarters.append(quarters[-1].previous())
    sections = [(c, svc.committee_tables(db, c, quarter)) for c in svc.conventions_touching(db, allowed)]
    lang = str(g.get("lang", "fr"))
    return render_template("committee/conventions.html", sections=sections, quarter=quarter, quarters=quarters,
                           departments=allowed, legend=stats.legend(),
                           display=lambda cell: stats.display(cell, lang))
