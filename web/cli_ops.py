"""Operators' commands: `passerelle backup FILE` and `passerelle restore FILE [--force]`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from services import backup as backups
from services.errors import ServiceError


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(file: str) -> None:
    """Write a consistent snapshot of DATABASE_URL into FILE (the data key is not in it)."""
    try:
        backups.backup(current_app.config["DATABASE_URL"], file)
    except (ServiceError, backups.BackupError) as exc:
        raise click.ClickException(str(getattr(exc, "message", exc))) from exc
    click.echo(_("Sauvegarde écrite dans %(file)s. La clé de données (PASSERELLE_DATA_KEY) n'y est pas : "
                 "conservez-la à part.", file=file), err=True)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the tables of a database that is not empty.")
@with_appcontext
def restore(file: str, force: bool) -> None:
    """Load a backup FILE into DATABASE_URL (refuses a non-empty database without --force)."""
    db = current_app.extensions["db"]
    db.dispose()  # no pooled connection of ours stands in the way
    try:
        backups.restore(current_app.config["DATABASE_URL"], file, force=force)
    except (ServiceError, backups.BackupError) as exc:
        raise click.ClickException(str(getattr(exc, "message", exc))) from exc
    click.echo(_("Sauvegarde %(file)s restaurée.", file=file), err=True)


commands = [backup, restore]
