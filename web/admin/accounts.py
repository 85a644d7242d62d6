"""Admin pages: the audit trail, and user accounts (enable, disable, role, second factor, lock)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from models import Organisation
from services import accounts, audit, password_reset
from services.errors import ServiceError
from services.paging import Page
from web.admin import bp
from web.admin.forms import (
    OUTCOME_LABELS,
    ROLE_LABELS,
    ActionForm,
    ActiveForm,
    AuditSearchForm,
    InviteForm,
    RoleForm,
    UserSearchForm,
)
from web.config import public_url
from web.db import get_session

PER_PAGE = 50


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _actor():  # type: ignore[no-untyped-def]
    return get_session().merge(current_user._get_current_object())  # type: ignore[attr-defined]


@bp.route("/journal")
def audit_log():  # type: ignore[no-untyped-def]
    """Search the audit trail: action, author, object, outcome, dates; newest first, paged."""
    db = get_session()
    form = AuditSearchForm(request.args)
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    if form.validate():
        page = audit.search(
            db, action=form.action.data, actor_email=form.actor.data, object_id=form.object_id.data,
            outcome=form.outcome.data or None, since=form.since.data, until=form.until.data,
            page=_page(), per_page=PER_PAGE,
        )
    else:
        page = Page(items=[], page=1, per_page=PER_PAGE, total=0)
    return render_template("admin/audit.html", form=form, page=page, filters=filters,
                           actions=audit.actions(db), outcome_labels=OUTCOME_LABELS, role_labels=ROLE_LABELS)


@bp.route("/comptes")
def users():  # type: ignore[no-untyped-def]
    """Every account, searchable by e-mail and role."""
    form = UserSearchForm(request.args)
    form.validate()
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    page = accounts.list_users(get_session(), query=form.q.data, role=form.role.data or None,
                               page=_page(), per_page=PER_PAGE)
    return render_template("admin/users.html", form=form, page=page, filters=filters, role_labels=ROLE_LABELS,
                           has_totp=accounts.has_totp, is_locked=accounts.is_locked)


@bp.route("/comptes/inviter", methods=["GET", "POST"])
def user_invite():  # type: ignore[no-untyped-def]
    """Open an account: its owner receives an e-mail to choose her password (nobody else knows it)."""
    db = get_session()
    form = InviteForm()
    organisations = list(db.scalars(sa.select(Organisation).order_by(Organisation.kind, Organisation.name)))
    form.organisation.choices = [("", _("— aucune —"))] + [(str(o.id), f"{o.name} ({o.kind})") for o in organisations]
    if form.validate_on_submit():
        chosen = next((o for o in organisations if str(o.id) == form.organisation.data), None)
        try:
            user = password_reset.invite(
                db, email=form.email.data or "", role=form.role.data or "", organisation=chosen, actor=_actor(),
                secret_key=current_app.config["SECRET_KEY"],
                link_for=lambda token: public_url().rstrip("/") + url_for("auth.invitation", token=token))
        except ServiceError as exc:
            db.rollback()
            getattr(form, exc.field or "email", form.email).errors.append(str(exc.message))
        else:
            db.commit()
            flash(_("Invitation envoyée à %(email)s (valable %(days)d jours).", email=user.email,
                    days=password_reset.INVITATION_DAYS), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/invite.html", form=form)


def _user_or_404(user_id: int):  # type: ignore[no-untyped-def]
    try:
        return accounts.get_user(get_session(), user_id)
    except ServiceError:
        abort(404)


@bp.route("/comptes/<int:user_id>")
def user_detail(user_id: int):  # type: ignore[no-untyped-def]
    """One account and what an admin may do with it."""
    user = _user_or_404(user_id)
    role_form = RoleForm(role=user.role)
    return render_template(
        "admin/user.html", user=user, role_form=role_form, active_form=ActiveForm(active="0" if user.active else "1"),
        action_form=ActionForm(), role_labels=ROLE_LABELS, has_totp=accounts.has_totp(user),
        locked=accounts.is_locked(user), is_self=user.id == current_user.id,
    )


def _apply(user_id: int, change, done: str):  # type: ignore[no-untyped-def]
    """Run one audited change on an account, then come back to its page with the outcome."""
    db = get_session()
    user = _user_or_404(user_id)
    try:
        change(db, user)
    except ServiceError as exc:
        db.rollback()
        flash(str(exc.message), "error")
    else:
        db.commit()
        flash(done, "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.route("/comptes/<int:user_id>/activation", methods=["POST"])
def user_set_active(user_id: int):  # type: ignore[no-untyped-def]
    """Enable or disable an account (disabling ends its sessions and API tokens at once)."""
    form = ActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        abort(400)
    active = form.active.data == "1"
    return _apply(user_id, lambda db, user: accounts.set_active(db, user, active, actor=_actor()),
                  _("Compte activé.") if active else _("Compte désactivé : ses sessions sont fermées."))


@bp.route("/comptes/<int:user_id>/role", methods=["POST"])
def user_set_role(user_id: int):  # type: ignore[no-untyped-def]
    """Give an account another role fitting its organisation (its sessions end)."""
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    return _apply(user_id, lambda db, user: accounts.change_role(db, user, form.role.data, actor=_actor()),
                  _("Rôle changé : les sessions de ce compte sont fermées."))


@bp.route("/comptes/<int:user_id>/double-authentification", methods=["POST"])
def user_reset_totp(user_id: int):  # type: ignore[no-untyped-def]
    """Remove an account's second factor (lost phone): it enrols again at its next login."""
    if not ActionForm().validate_on_submit():
        abort(400)
    return _apply(user_id, lambda db, user: accounts.reset_totp(db, user, actor=_actor()),
                  _("Double authentification réinitialisée."))


@bp.route("/comptes/<int:user_id>/deverrouillage", methods=["POST"])
def user_unlock(user_id: int):  # type: ignore[no-untyped-def]
    """Lift the temporary lock that repeated failures put on an account."""
    if not ActionForm().validate_on_submit():
        abort(400)
    return _apply(user_id, lambda db, user: accounts.unlock(db, user, actor=_actor()), _("Compte déverrouillé."))
