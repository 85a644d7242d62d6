"""The notifications page, the same for every audience that receives notifications."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from services import notifications
from web.badges import notifications_badge
from web.db import get_session


class ReadForm(FlaskForm):
    """Mark every notification read: only the CSRF token."""


def add_notification_pages(bp: Blueprint) -> None:
    """Register `/notifications` and `/notifications/lues` on an audience's blueprint."""

    @bp.route("/notifications")
    def notifications_page():  # type: ignore[no-untyped-def]
        """The user's and her organisation's notifications, newest first."""
        badge = notifications_badge()  # the navigation's count, taken once for the page
        items = notifications.for_user(get_session(), current_user)
        return render_template("notifications.html", proposals_endpoint=f"{request.blueprint}.proposals",
                               items=items, households=notifications.households_named(get_session(), current_user,
                                                                                     items),
                               unread=badge.unread if badge else 0, form=ReadForm())

    @bp.route("/notifications/lues", methods=["POST"])
    def notifications_read():  # type: ignore[no-untyped-def]
        """Mark the notifications read."""
        if ReadForm().validate_on_submit():
            notifications.mark_all_read(get_session(), current_user)
            get_session().commit()
        return redirect(url_for(".notifications_page"), 303)
