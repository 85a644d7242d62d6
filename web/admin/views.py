"""Pages of the admin audience: every view here is for the admin role only."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import guard

bp = Blueprint("admin", __name__)
guard(bp, "admin")


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the admin audience."""
    return render_template("admin/index.html")
