"""Home page of the audience: the match runs and the form that starts one."""

from __future__ import annotations

from web.coordinators import bp
from web.coordinators.runs import index_page


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the coordinator audience."""
    return index_page()
