"""Periodic commands of the proposals' life: `passerelle expire-proposals`, `passerelle send-outbox`.

Run both from cron (or a systemd timer), e.g. expiry every night after midnight (Paris
time) and the outbox every minute. Each is safe to run twice at once: expiry is a
conditional update, and a sent e-mail is marked as such in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext

from web.db import get_session


@click.command("expire-proposals")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD); default: today in Paris.")
@with_appcontext
def expire_proposals(today: dt.datetime | None) -> None:
    """Expire the pending proposals whose reply deadline has passed (silence is a refusal)."""
    from services import proposals

    db = get_session()
    base_url = current_app.config.get("PUBLIC_URL") or ""
    count = 0
    # One transaction per proposal: never many units locked at once while people decide.
    for proposal_id in proposals.overdue(db, today=today.date() if today else None):
        count += proposals.expire(db, proposal_id, base_url=base_url)
        db.commit()
    click.echo(f"{count} proposal(s) expired.")


@click.command("send-outbox")
@with_appcontext
def send_outbox() -> None:
    """Send the queued e-mails through MAIL_SERVER, or write them to the log if it is not set."""
    from services import notifications

    config = current_app.config
    sender = notifications.smtp_sender(config) if config.get("MAIL_SERVER") else notifications.log_sender
    db = get_session()
    sent, failed = notifications.send_outbox(db, sender)
    db.commit()
    click.echo(f"{sent} e-mail(s) sent, {failed} failed.")
    if failed:
        raise SystemExit(1)


commands = [expire_proposals, send_outbox]
