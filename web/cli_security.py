"""Commands of security and privacy: `passerelle audit verify`, `passerelle purge`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from web.db import get_session


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the hash chain of the audit trail: exit 0 "intact", or exit 1 and the broken rows."""
    from services import audit

    broken = audit.verify(get_session())
    if broken:
        click.echo(f"audit trail BROKEN: {len(broken)} row(s) do not follow from the one before.", err=True)
        click.echo("broken row ids: " + " ".join(str(i) for i in broken))
        sys.exit(1)
    click.echo("intact")


@click.command("purge")
@click.option("--older-than-months", type=click.IntRange(1, 1200), default=None,
              help="Erase households closed (withdrawn or housed) for longer than this "
                   "[default: PURGE_AFTER_MONTHS, 12].")
@click.option("--dry-run", is_flag=True, help="Only count what would be erased.")
@with_appcontext
def purge(older_than_months: int | None, dry_run: bool) -> None:
    """Erase households closed for too long, with their proposals; the audit trail stays."""
    from services import privacy

    months = older_than_months or int(current_app.config.get("PURGE_AFTER_MONTHS")
                                      or privacy.DEFAULT_PURGE_AFTER_MONTHS)
    db = get_session()
    if dry_run:
        count = len(privacy.households_to_purge(db, months))
        click.echo(f"{count} household(s) closed for more than {months} months would be erased.")
        return
    erased = privacy.purge(db, months)
    db.commit()
    click.echo(f"{len(erased)} household(s) closed for more than {months} months erased.")


commands = [audit_group, purge]
