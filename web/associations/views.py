"""Pages of the association audience: every view here is for the association role only."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import guard

bp = Blueprint("associations", __name__)
guard(bp, "association")


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the association audience."""
    return render_template("associations/index.html")
