"""The refused offers on rehousing requests of the coordinator's territory: which landlord
offered which unit and the rules it broke (the landlord was told only "not compatible");
a landlord probing where she may not live shows here."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user

from services import offers as svc
from web.coordinators import bp
from web.db import get_session


@bp.route("/offres-refusees")
def refused_offers() -> Any:
    """The refused offers, newest first, with the rules in words."""
    rows = svc.refused_offers(get_session(), current_user)
    return render_template("coordinators/refused_offers.html", rows=rows, labels=svc.reason_labels)
