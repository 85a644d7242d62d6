"""Account pages: login, logout, password change."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from services import accounts
from services.errors import ValidationError
from web.auth import HOME
from web.auth.forms import LoginForm, LogoutForm, PasswordForm
from web.db import get_session
from web.extensions import limiter

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a local path: `?next=` must never send someone to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def home_url() -> str:
    """The home page of the logged-in user's role."""
    return url_for(HOME[current_user.role])


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        user = accounts.authenticate(db, form.email.data or "", form.password.data or "")
        db.commit()
        if user is None:
            # One answer for an unknown address and a wrong password.
            flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
        else:
            session.clear()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or home_url())
    return render_template("auth/login.html", form=form)


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Log out everywhere: every earlier session cookie stops working."""
    form = LogoutForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.merge(current_user._get_current_object())  # type: ignore[attr-defined]
        accounts.end_sessions(user)
        db.commit()
        logout_user()
        session.clear()
        flash(_("Vous êtes déconnectée."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@login_required
def password():  # type: ignore[no-untyped-def]
    """Change one's password."""
    form = PasswordForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.merge(current_user._get_current_object())  # type: ignore[attr-defined]
        try:
            accounts.change_password(db, user, form.current_password.data or "",
                                     form.password.data or "")
        except ValidationError as exc:
            db.rollback()
            getattr(form, exc.field or "password").errors.append(str(exc.message))
        else:
            db.commit()
            # This browser stays logged in with the new session version; all others end.
            login_user(user)
            flash(_("Mot de passe changé. Vos autres sessions sont fermées."), "success")
            return redirect(home_url())
    return render_template("auth/password.html", form=form)
