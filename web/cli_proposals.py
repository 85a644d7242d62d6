"""Periodic commands of the proposals' life: `passerelle expire-proposals`, `passerelle send-outbox`.

The job queue runs both on a schedule (web/jobs.py: expiry every night, the outbox every
minute); cron can run the commands instead. Each is safe to run twice at once: expiry is a
conditional update, and a sent e-mail is marked as such in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def expire_overdue(app: Flask, today: dt.date | None = None) -> int:
    """Expire every overdue proposal, one transaction each (also the nightly job)."""
    from services import proposals

    db = app.extensions["db"].sessionmaker()
    base_url = str(app.config["PUBLIC_URL"])
    count = 0
    try:
        # One transaction per proposal: never many units locked at once while people decide.
        for proposal_id in proposals.overdue(db, today=today):
            count += proposals.expire(db, proposal_id, base_url=base_url)
            db.commit()
    finally:
        db.close()
    return count


def send_queued(app: Flask) -> tuple[int, int]:
    """Send the queued e-mails (also the every-minute job); returns (sent, failed)."""
    from services import notifications

    config = app.config
    sender = notifications.smtp_sender(config) if config.get("MAIL_SERVER") else notifications.log_sender
    db = app.extensions["db"].sessionmaker()
    try:
        sent, failed = notifications.send_outbox(db, sender)
        db.commit()
    finally:
        if isinstance(sender, notifications.SmtpSender):
            sender.close()  # one SMTP connection for the whole batch
        db.close()
    return sent, failed


@click.command("expire-proposals")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Pretend today is this date (YYYY-MM-DD); default: today in Paris.")
@with_appcontext
def expire_proposals(today: dt.datetime | None) -> None:
    """Expire the pending proposals whose reply deadline has passed (silence is a refusal)."""
    count = expire_overdue(current_app._get_current_object(),  # type: ignore[attr-defined]
                           today.date() if today else None)
    click.echo(f"{count} proposal(s) expired.")


@click.command("send-outbox")
@with_appcontext
def send_outbox() -> None:
    """Send the queued e-mails through MAIL_SERVER, or write them to the log if it is not set."""
    sent, failed = send_queued(current_app._get_current_object())  # type: ignore[attr-defined]
    click.echo(f"{sent} e-mail(s) sent, {failed} failed.")
    if failed:
        raise SystemExit(1)


commands = [expire_proposals, send_outbox]
