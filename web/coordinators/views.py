"""Home page of the audience."""

from __future__ import annotations

from flask import render_template

from web.coordinators import bp


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the coordinator audience."""
    return render_template("coordinators/index.html")
