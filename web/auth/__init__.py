"""Login, logout, password change, and the role guard each audience's blueprint uses."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort
from flask_login import current_user

# Where each role lands after login.
HOME = {
    "landlord": "landlords.index",
    "association": "associations.index",
    "coordinator": "coordinators.index",
    "committee": "committee.index",
    "admin": "admin.index",
    "referrer": "landlords.referrals",
}


def guard(bp: Blueprint, *roles: str) -> None:
    """Let only these roles into every view of the blueprint (checked once, before each)."""

    def _check() -> None:
        if not current_user.is_authenticated:
            from flask import current_app

            abort(current_app.login_manager.unauthorized())  # type: ignore[attr-defined]
        if current_user.role not in roles:
            # Another audience's pages do not exist for this user.
            abort(404)

    bp.before_request(_check)


def role_required(*roles: str) -> Callable[[Blueprint], None]:
    """Decorator form of `guard`, for a blueprint object."""
    return lambda bp: guard(bp, *roles)
