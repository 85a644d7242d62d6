"""Home page of the audience."""

from __future__ import annotations

from flask import render_template

from web.admin import bp
from web.db import get_session


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Home page of the admin audience."""
    return render_template("admin/index.html")


@bp.route("/courriels-en-echec")
def dead_emails():  # type: ignore[no-untyped-def]
    """E-mails that could not be sent after every retry: kept and shown, never dropped."""
    from services import notifications

    total, rows = notifications.dead_emails(get_session())
    return render_template("admin/dead_emails.html", total=total, rows=rows,
                           max_attempts=notifications.MAX_ATTEMPTS)
