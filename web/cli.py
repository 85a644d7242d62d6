"""The `passerelle` command line: demo, serve, db, organisations, users, tokens, ceilings."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from models.accounts import ROLES
from services.errors import ServiceError
from web import cli_ceilings, cli_ops, cli_proposals, cli_security
from web.db import get_db, get_session


def _create_app() -> Any:
    from web import create_app

    app = create_app()
    # Close the pool when the command ends, not when the interpreter collects it.
    click.get_current_context().call_on_close(app.extensions["db"].dispose)
    return app


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Passerelle: rehousing people in danger in social housing."""


@contextmanager
def refusing_bad_input(param: str | None = None) -> Iterator[None]:
    """Turn a refused request into a clear message and exit status 2, nothing written."""
    try:
        yield
    except ServiceError as exc:
        get_session().rollback()
        hint = f"--{(param or exc.field or '').replace('_', '-')}" if (param or exc.field) else None
        raise click.BadParameter(str(exc.message), param_hint=hint) from exc


def _departments(_ctx: Any, _param: Any, value: str | None) -> list[str]:
    from matching.geo import departments

    if not value:
        return []
    codes = [code.strip().upper() for code in value.split(",") if code.strip()]
    unknown = [code for code in codes if code not in departments()]
    if unknown:
        raise click.BadParameter(f"unknown department code(s): {', '.join(unknown)}")
    return codes


@click.command("create-organisation")
@click.option("--kind", required=True,
              type=click.Choice(["landlord", "association", "committee", "coordinator"]))
@click.option("--name", required=True, help="The organisation's name, unique.")
@click.option("--departments", callback=_departments, help="Departments covered, e.g. 59,62.")
@with_appcontext
def create_organisation(kind: str, name: str, departments: list[str]) -> None:
    """Add a landlord, association, committee or coordination team."""
    from services import accounts

    db = get_session()
    with refusing_bad_input():
        org = accounts.create_organisation(db, kind=kind, name=name, departments=departments)
    db.commit()
    click.echo(f"{org.kind} {org.name!r} created ({org.code}).")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--role", required=True,
              type=click.Choice(ROLES))
@click.option("--organisation", required=True, help="Name of the user's organisation.")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line).")
@with_appcontext
def create_user(email: str, role: str, organisation: str, password_stdin: bool) -> None:
    """Add a user to an organisation; the password is read from standard input."""
    from services import accounts

    if not password_stdin:
        raise click.UsageError("--password-stdin is required: passwords never go on the command line")
    password = sys.stdin.readline().rstrip("\r\n")
    db = get_session()
    with refusing_bad_input():
        org = accounts.get_organisation_by_name(db, organisation)
        user = accounts.create_user(db, email=email, role=role, password=password,
                                    organisation=org)
    db.commit()
    click.echo(f"user {user.email} ({user.role}) created in {org.name!r}.", err=True)


@click.command("create-token")
@click.option("--email", required=True)
@with_appcontext
def create_token(email: str) -> None:
    """Print a new API token for a user on standard output, and nothing else."""
    from services import accounts

    db = get_session()
    with refusing_bad_input("email"):
        user = accounts.get_user_by_email(db, email)
        if not user.active:
            raise click.BadParameter("this account is disabled", param_hint="--email")
        token = accounts.create_token(db, user, lifetime_days=int(current_app.config["TOKEN_LIFETIME_DAYS"]))
    db.commit()
    click.echo(token)


def _serve(host: str, port: int, *, before: Callable[[], None] | None = None) -> None:
    from werkzeug.serving import run_simple

    from web import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if before:
        before()
    # On the embedded default (no REDIS_URL) this process also runs the background jobs.
    consumer = jobs.start_embedded_consumer(app)
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if consumer is not None:
            jobs.stop_consumer(consumer)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the app (development server; production uses gunicorn 'web:create_app()')."""
    _serve(host, port)


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Prepare the database and stop.")
@with_appcontext
def demo(port: int, no_serve: bool) -> None:
    """Create the database if needed, load the demo data once, print the accounts, serve."""
    from services import demo as demo_data
    from web.migrations import upgrade_to_head

    if current_app.config["PASSERELLE_ENV"] == "production":
        # Its passwords and second-factor secrets are published: never on a real instance.
        raise click.UsageError(demo_data.PRODUCTION_REFUSAL)
    if current_app.config["PUBLIC_URL"] == current_app.config["DEVELOPMENT_PUBLIC_URL"]:
        current_app.config["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    upgrade_to_head()
    db = get_session()
    created = demo_data.load(db)
    db.commit()
    if created:
        counts = demo_data.play_first_round(db, get_db().sessionmaker)
        db.commit()
        click.echo("A first match was run and released; decisions so far: "
                   + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")
        around = demo_data.play_before_and_after(db)
        db.commit()
        click.echo(f"Emergency places: {around['places']} ({around['sheltered']} sheltering a woman in danger); "
                   f"referrals by the caretaker: {around['referrals']}.")
    click.echo("Demo data " + ("loaded." if created else "already there."))
    click.echo("\nDemo accounts (e-mail / password [/ second-factor secret for an authenticator app]):")
    for account in demo_data.ACCOUNTS:
        secret = f"  TOTP {account.totp_secret}" if account.totp_secret else ""
        click.echo(f"  {account.role:<12} {account.email:<36} {account.password}{secret}")
    if not no_serve:
        click.echo(f"\nServing on http://127.0.0.1:{port}/  (Ctrl+C to stop)")
        _serve("127.0.0.1", port)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Jobs run at the same time (threads).")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also run the scheduled housekeeping: proposal expiry, e-mails, stale runs.")
@with_appcontext
def worker(workers: int, periodic: bool) -> None:
    """Run background jobs (match runs) until interrupted; needed only when REDIS_URL is set."""
    from web import jobs

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("REDIS_URL"):
        click.echo("REDIS_URL is not set: using the instance folder's queue "
                   "(serve and demo already run their own worker).", err=True)
    jobs.run_consumer_forever(app, workers, periodic=periodic)


commands = [create_organisation, create_user, create_token, serve, demo, worker]
commands += cli_ops.commands  # backup, restore
commands += cli_proposals.commands  # expire-proposals, send-outbox
commands += cli_security.commands  # audit verify, purge
commands += cli_ceilings.commands  # ceilings load, ceilings show
