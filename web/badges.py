"""The unread-notifications badge in the navigation of every signed-in page.

Templates call `notifications_badge()`: the count is taken only when a page draws its
navigation (never for htmx fragments or JSON), once per request at most, and never for an
anonymous visitor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, url_for
from flask_login import current_user

from services import notifications
from web import access
from web.auth import HOME
from web.db import get_session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotificationsBadge:
    """How many notifications the user has not read, and the page that lists them."""

    unread: int
    url: str


def notifications_badge() -> NotificationsBadge | None:
    """The current user's badge; None when anonymous or when her audience has no notifications page."""
    if "notifications_badge" not in g:
        g.notifications_badge = _count()
    badge: NotificationsBadge | None = g.notifications_badge
    return badge


def _count() -> NotificationsBadge | None:
    if not current_user.is_authenticated:
        return None
    # Each audience's pages live on the blueprint of its home page.
    home = HOME.get(current_user.role)
    endpoint = f"{home.rsplit('.', 1)[0]}.notifications_page" if home else ""
    if endpoint not in current_app.view_functions or not access.allowed(endpoint, "GET", current_user.role):
        return None  # a referrer's home is on the landlords' blueprint, their notifications are not hers
    session = get_session()
    try:
        # Reading must not flush whatever the view left pending (a form shown again, say).
        with session.no_autoflush:
            unread = notifications.unread_count(session, current_user)
    except sa.exc.SQLAlchemyError:
        # An error page must still show, even when the database is what failed.
        log.warning("unread notifications not counted", exc_info=True)
        return None
    return NotificationsBadge(unread=unread, url=url_for(endpoint))


def init_app(app: Flask) -> None:
    """Offer `notifications_badge()` to every template."""

    @app.context_processor
    def _badges() -> dict[str, Any]:
        return {"notifications_badge": notifications_badge}
