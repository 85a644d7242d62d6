"""Pages of the landlord audience: every view here is for the landlord role only."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import guard

bp = Blueprint("landlords", __name__)
guard(bp, "landlord")


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the landlord audience."""
    return render_template("landlords/index.html")
