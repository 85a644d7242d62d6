"""Pages of the coordinator audience: every view here is for the coordinator role only."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import guard

bp = Blueprint("coordinators", __name__)
guard(bp, "coordinator")


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the coordinator audience."""
    return render_template("coordinators/index.html")
