"""Income ceilings: `passerelle ceilings load FILE` (a new year's table), `passerelle ceilings show`."""

from __future__ import annotations

import datetime as dt
import os

import click
from flask.cli import with_appcontext

from services.errors import ValidationError
from web.db import get_session


@click.group("ceilings")
def ceilings_group() -> None:
    """Income ceilings of social housing (PLAI, PLUS, PLS by zone and household category)."""


@ceilings_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default=None,
              help="Where the figures come from (the arrêté) [default: the file's name].")
@with_appcontext
def load(file: str, source: str | None) -> None:
    """Load a year's table from a CSV file: all of it or nothing (exit 2 and every error)."""
    from services import ceilings

    try:
        with open(file, encoding="utf-8-sig") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        raise click.BadParameter("le fichier n'est pas en UTF-8", param_hint="FILE") from exc
    db = get_session()
    try:
        year = ceilings.load_csv(db, text, source=source or os.path.basename(file))
    except ValidationError as exc:
        db.rollback()
        for message in exc.errors.get("file", []):
            click.echo(f"erreur : {message}", err=True)
        click.echo("rien n'a été chargé.", err=True)
        raise SystemExit(2) from exc
    db.commit()
    click.echo(f"plafonds de ressources {year} chargés (PLAI, PLUS, PLS ; paris, idf, other).")


@ceilings_group.command("show")
@click.option("--date", "on", default=None, help="The date the table is in force on [default: today].")
@with_appcontext
def show(on: str | None) -> None:
    """Print the table in force (loaded, else shipped) as a CSV file `load` reads."""
    from services import ceilings, clock

    day = dt.date.fromisoformat(on) if on else clock.today()
    table = ceilings.table_for(get_session(), day)
    click.echo(",".join(ceilings.HEADER))
    for (financing, zone), amounts in sorted(table.rows.items()):
        click.echo(",".join([str(table.year), financing, zone, *(str(a) for a in amounts)]))


commands = [ceilings_group]
