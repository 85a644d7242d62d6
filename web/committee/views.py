"""Pages of the committee audience: every view here is for the committee role only."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import guard

bp = Blueprint("committee", __name__)
guard(bp, "committee")


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the committee audience."""
    return render_template("committee/index.html")
