"""Pages open to everyone: the front door, and the language switch."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from web.auth.views import home_url

bp = Blueprint("main", __name__)


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    """Send a logged-in user to her home, anyone else to a short presentation."""
    if current_user.is_authenticated:
        return redirect(home_url())
    return render_template("main/index.html")


@bp.route("/mentions")
def about():  # type: ignore[no-untyped-def]
    """What the platform stores and why."""
    return render_template("main/about.html")


@bp.route("/accueil")
def home():  # type: ignore[no-untyped-def]
    """The logged-in user's home."""
    if current_user.is_authenticated:
        return redirect(home_url())
    return redirect(url_for("auth.login"))
