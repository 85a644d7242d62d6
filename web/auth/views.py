"""Account pages: login (password, then the second-factor code), logout, password, second factor."""

from __future__ import annotations

import base64
import datetime as dt
import io
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from models import ApiToken, User, utcnow
from services import accounts, password_reset
from services.errors import ServiceError, ValidationError
from web import requests as request_hooks
from web.auth import HOME
from web.auth.forms import (
    CodeForm,
    ForgotForm,
    LoginForm,
    LogoutForm,
    NewPasswordForm,
    PasswordForm,
    TokenForm,
    TokenRevokeForm,
    TotpDisableForm,
)
from web.config import public_url
from web.db import get_session
from web.extensions import limiter

bp = Blueprint("auth", __name__)

# How long the password step stays valid while the code is awaited.
PENDING_SECONDS = 5 * 60


def _safe_next(target: str | None) -> str | None:
    """Only a local path: `?next=` must never send someone to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def home_url() -> str:
    """The home page of the logged-in user's role."""
    return url_for(HOME[current_user.role])


def _login_account_key() -> str:
    """Rate-limit key of the account a login names (the same for every spelling of the address)."""
    return "login-account:" + accounts.email_key(request.form.get("email") or "")[:254]


def _code_account_key() -> str:
    """Rate-limit key of the account whose code is being typed."""
    pending = session.get("pending_login") or {}
    return "login-code:" + str(pending.get("user", "")).split(":")[0]


def _open_session(user: User, next_url: str | None):  # type: ignore[no-untyped-def]
    """Start a fresh session for the user (nothing of the anonymous one is kept)."""
    session.clear()
    login_user(user)
    now = request_hooks.clock()
    session["started_at"] = now
    session["seen_at"] = now
    if accounts.needs_totp_enrolment(user):
        return redirect(url_for("auth.totp_setup"))
    return redirect(_safe_next(next_url) or home_url())


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit("10 per minute;100 per hour", methods=["POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"], key_func=_login_account_key)
def login():  # type: ignore[no-untyped-def]
    """Log in with e-mail and password (then the second-factor code, when there is one)."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    if form.validate_on_submit():
        db = get_session()
        user = accounts.authenticate(db, form.email.data or "", form.password.data or "")
        db.commit()
        if user is None:
            # One answer for an unknown address, a wrong password and a locked account.
            flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
        elif accounts.has_totp(user):
            session.clear()
            session["pending_login"] = {
                "user": user.get_id(),
                "at": request_hooks.clock(),
                "next": _safe_next(request.args.get("next")),
            }
            return redirect(url_for("auth.login_code"))
        else:
            return _open_session(user, request.args.get("next"))
    return render_template("auth/login.html", form=form)


def _pending_user() -> User | None:
    """The user who passed the password step in this browser a moment ago, if any."""
    pending = session.get("pending_login")
    if not isinstance(pending, dict):
        return None
    if request_hooks.clock() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop("pending_login", None)
        return None
    return accounts.load_session_user(get_session(), str(pending.get("user", "")))


@bp.route("/connexion/code", methods=["GET", "POST"])
@limiter.limit("10 per minute;100 per hour", methods=["POST"])
@limiter.limit("5 per minute;30 per hour", methods=["POST"], key_func=_code_account_key)
def login_code():  # type: ignore[no-untyped-def]
    """Second step of the login: the code of the authenticator app."""
    if current_user.is_authenticated:
        return redirect(home_url())
    user = _pending_user()
    if user is None:
        flash(_("Votre connexion a expiré : saisissez à nouveau vos identifiants."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        db = get_session()
        ok = accounts.verify_totp(db, user, form.code.data or "")
        db.commit()
        if ok:
            next_url = session["pending_login"].get("next")
            return _open_session(user, next_url)
        if accounts.is_locked(user):
            session.pop("pending_login", None)
            flash(_("Adresse e-mail ou mot de passe incorrect."), "error")
            return redirect(url_for("auth.login"))
        form.code.errors.append(_("Code incorrect."))
    return render_template("auth/code.html", form=form)


def _forgot_account_key() -> str:
    """Rate-limit key of the address a reset is asked for (the same for every spelling)."""
    return "forgot-account:" + accounts.email_key(request.form.get("email") or "")[:254]


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit("5 per minute;20 per hour", methods=["POST"])
@limiter.limit("3 per hour", methods=["POST"], key_func=_forgot_account_key)
def forgot():  # type: ignore[no-untyped-def]
    """Ask for a reset link: the same answer whether the address has an account or not."""
    form = ForgotForm()
    if form.validate_on_submit():
        db = get_session()
        secret = current_app.config["SECRET_KEY"]
        password_reset.request_reset(
            db, form.email.data or "", secret_key=secret,
            link_for=lambda token: public_url().rstrip("/") + url_for("auth.reset", token=token))
        db.commit()
        flash(_("Si un compte actif existe pour cette adresse, un e-mail vient de lui être envoyé avec un lien "
                "valable %(hours)d heure.", hours=password_reset.RESET_HOURS), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/mot-de-passe-oublie/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def reset(token: str):  # type: ignore[no-untyped-def]
    """Choose a new password from a reset link."""
    return _new_password(token, "reset")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def invitation(token: str):  # type: ignore[no-untyped-def]
    """Choose one's first password from an invitation."""
    return _new_password(token, "invitation")


def _new_password(token: str, purpose: str):  # type: ignore[no-untyped-def]
    db = get_session()
    secret = current_app.config["SECRET_KEY"]
    if password_reset.user_for_token(db, token, secret, purpose) is None:
        return render_template("auth/link_invalid.html", message=password_reset.INVALID_LINK), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.set_password(db, token, form.password.data or "", secret_key=secret, purpose=purpose)
        except ValidationError as exc:
            db.rollback()
            form.password.errors.append(str(exc.message))
        else:
            db.commit()
            if current_user.is_authenticated:  # someone else's session in this browser ends here
                logout_user()
            session.clear()
            flash(_("Mot de passe enregistré : connectez-vous avec lui."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/new_password.html", form=form, purpose=purpose)


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


def _qr_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data URI, made on the server (no script, no third party)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@bp.route("/compte/double-authentification", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"])
def totp_setup():  # type: ignore[no-untyped-def]
    """Set up (or, where optional, turn off) the second factor: a code from an authenticator app."""
    db = get_session()
    user = db.merge(current_user._get_current_object())  # type: ignore[attr-defined]
    required = user.role in accounts.TOTP_REQUIRED_ROLES
    if accounts.has_totp(user):
        form = TotpDisableForm()
        if not required and form.validate_on_submit():
            try:
                accounts.disable_totp(db, user, form.code.data or "")
            except ServiceError as exc:
                db.rollback()
                form.code.errors.append(str(exc.message))
            else:
                db.commit()
                flash(_("Double authentification désactivée."), "success")
                return redirect(url_for("auth.totp_setup"))
        return render_template("auth/totp.html", enrolled=True, required=required, form=form)

    secret = accounts.start_totp_enrolment(db, user)
    db.commit()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            accounts.confirm_totp_enrolment(db, user, form.code.data or "")
        except ServiceError as exc:
            db.commit()  # the failed attempt stays in the audit trail
            form.code.errors.append(str(exc.message))
        else:
            db.commit()
            flash(_("Double authentification activée."), "success")
            return redirect(url_for(HOME[user.role]))
    return render_template(
        "auth/totp.html", enrolled=False, required=required, form=form,
        secret=_grouped(secret), qr=_qr_data_uri(accounts.totp_uri(user, secret)),
        issuer=accounts.TOTP_ISSUER, account=user.email,
    )


def _token_state(token: ApiToken, now: dt.datetime) -> str:
    """ "revoked", "expired" or "active": what the list shows for a token."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


@bp.route("/compte/jetons-api", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"])
def tokens():  # type: ignore[no-untyped-def]
    """One's API tokens: the list (live, expired, revoked), and a new one with the lifetime chosen.

    The new token is shown once, in the answer to the POST itself: only its hash is kept, and
    it never goes through the session or a redirect.
    """
    db = get_session()
    user = db.merge(current_user._get_current_object())  # type: ignore[attr-defined]
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        try:
            new_token = accounts.create_token(db, user, lifetime_days=int(form.lifetime.data or 0))
        except ServiceError as exc:
            db.rollback()
            flash(str(exc.message), "error")
        else:
            db.commit()
    now = utcnow()
    rows = [(t, _token_state(t, now)) for t in accounts.list_tokens(db, user)]
    return render_template("auth/tokens.html", form=form, tokens=rows, new_token=new_token)


@bp.route("/compte/jetons-api/<int:token_id>/revoquer", methods=["GET", "POST"])
@login_required
def token_revoke(token_id: int):  # type: ignore[no-untyped-def]
    """Revoke one of one's tokens, after a confirmation page (another user's token: 404)."""
    db = get_session()
    user = db.merge(current_user._get_current_object())  # type: ignore[attr-defined]
    token = next((t for t in accounts.list_tokens(db, user) if t.id == token_id), None)
    if token is None:
        abort(404)
    form = TokenRevokeForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        accounts.revoke_token(db, user, token_id)
        db.commit()
        flash(_("Jeton %(prefix)s… révoqué : il ne donne plus accès à l'API.", prefix=token.prefix), "success")
        return redirect(url_for("auth.tokens"))
    return render_template("auth/token_revoke.html", token=token, form=form,
                           state=_token_state(token, utcnow()))
