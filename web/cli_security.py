"""Commands of security and privacy: `passerelle audit verify`, `passerelle purge`."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from web.db import get_session


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option("--checkpoints", "checkpoints_file", type=click.File("r", encoding="utf-8", errors="replace"),
              default=None, help="A log file (or - for standard input) holding the lines of the "
                                 "audit_checkpoint job: a trail ending before one of them was cut.")
@with_appcontext
def audit_verify(checkpoints_file: TextIO | None) -> None:
    """Check the keyed chain of the audit trail (and its checkpoints): exit 0 intact, or exit 1."""
    from services import audit

    checkpoints = audit.read_checkpoints(checkpoints_file) if checkpoints_file else []
    verdict = audit.check(get_session(), checkpoints)
    if verdict.intact:
        click.echo(_("Journal d'audit intact : %(rows)d ligne(s) jusqu'au n° %(head)s, "
                     "%(checkpoints)d point(s) de contrôle concordant(s).",
                     rows=verdict.rows, head=verdict.head_id or 0, checkpoints=verdict.checkpoints))
        if not checkpoints:
            click.echo(_("Sans point de contrôle (--checkpoints), la suppression des dernières lignes "
                         "ne se verrait pas."), err=True)
        return
    click.echo(_("Journal d'audit ROMPU à partir du n° %(id)d.", id=verdict.first_broken_id), err=True)
    for found in verdict.breaks:
        click.echo(_explain(found))
    sys.exit(1)


def _explain(found: Any) -> str:
    """One line per break, naming its first row."""
    messages = {
        "broken": _("n° %(id)d : cette ligne ne découle pas de la précédente (modifiée, ou des lignes "
                    "supprimées avant elle)."),
        "unknown_key": _("n° %(id)d : ligne scellée avec la clé %(key)s, qui n'est pas configurée "
                         "(PASSERELLE_AUDIT_KEY erronée, ou changée sans garder l'ancienne après la nouvelle)."),
        "legacy_after_key": _("n° %(id)d : ligne sans clé que ne ferme pas la borne scellée à la mise à jour 0010 "
                              "(écrite hors de l'application, ou réécrite sans la clé)."),
        "truncated": _("n° %(id)d : les lignes à partir de celle-ci ont disparu, un point de contrôle les a vues "
                       "(fin du journal supprimée)."),
        "checkpoint_mismatch": _("n° %(id)d : cette ligne n'a plus l'empreinte qu'un point de contrôle a vue "
                                 "(réécrite ou supprimée)."),
        "checkpoint_forged": _("n° %(id)d : la signature du point de contrôle de cette ligne est fausse "
                               "(ligne de journal falsifiée)."),
        "checkpoint_unknown_key": _("n° %(id)d : point de contrôle signé avec la clé %(key)s, qui n'est pas "
                                    "configurée (PASSERELLE_AUDIT_KEY erronée ou changée)."),
    }
    return messages[found.kind] % {"id": found.row_id, "key": found.key_id}


@click.command("purge")
@click.option("--older-than-months", type=click.IntRange(1, 1200), default=None,
              help="Erase households closed (withdrawn or housed) for longer than this "
                   "[default: PURGE_AFTER_MONTHS, 12].")
@click.option("--dry-run", is_flag=True, help="Only count what would be erased.")
@with_appcontext
def purge(older_than_months: int | None, dry_run: bool) -> None:
    """Erase households closed for too long, with their proposals; the audit trail stays.

    A rehoused household's file stays while her follow-up needs it (a checkpoint due, a
    convention covering her rehousing: FOLLOWUP_GRACE_MONTHS, services.privacy)."""
    from services import privacy

    months = older_than_months or int(current_app.config.get("PURGE_AFTER_MONTHS")
                                      or privacy.DEFAULT_PURGE_AFTER_MONTHS)
    grace = int(current_app.config.get("FOLLOWUP_GRACE_MONTHS") or privacy.DEFAULT_FOLLOWUP_GRACE_MONTHS)
    db = get_session()
    if dry_run:
        count = len(privacy.households_to_purge(db, months, followup_grace_months=grace))
        click.echo(f"{count} household(s) closed for more than {months} months would be erased.")
        return
    erased = privacy.purge(db, months, followup_grace_months=grace)
    db.commit()
    click.echo(f"{len(erased)} household(s) closed for more than {months} months erased.")


commands = [audit_group, purge]
