"""Home page of the landlord audience: where her units stand, and what to do next."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user

from services import units, worklists
from web.db import get_session
from web.landlords import bp


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the landlord audience: units by status, and links."""
    counts = units.count_by_status(get_session(), current_user.organisation)
    recent = units.list_units(get_session(), current_user.organisation, per_page=5).items
    todo = worklists.landlord_worklist_summary(get_session(), current_user, current_app.config["STEP_DELAY_DAYS"])
    return render_template("landlords/index.html", counts=counts, total=sum(counts.values()), todo=todo,
                           recent=recent, status_labels=units.STATUS_LABELS, typology=units.typology)
