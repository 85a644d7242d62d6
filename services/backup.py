"""Backing up and restoring the whole database, online, as one consistent snapshot.

- PostgreSQL: `pg_dump --format=custom` (one repeatable-read transaction: a snapshot even
  while the platform writes) and `pg_restore --single-transaction` (all or nothing).
- SQLite: the online backup API (`sqlite3.Connection.backup`), copying every page in one
  step under a read transaction, so writers never leave it half-done.

A backup holds every household's data; the sensitive fields stay encrypted in it, and the
data key (`PASSERELLE_DATA_KEY`) is deliberately NOT in it: keep the key apart (another
vault, another medium), or the backup cannot be read — and a thief with both could.

These functions work on a database URL, not on a session: they copy the database from
outside, as an operator would.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from services.errors import Conflict, ValidationError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """The backup or restore tool failed; the message says how."""


def engine_of(url: str) -> str:
    """`sqlite` or `postgresql`, from a database URL."""
    backend = sa.make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValidationError(_l("Base de données non prise en charge : %(backend)s.", backend=backend))
    return backend


def backup(url: str, path: str | os.PathLike[str]) -> Path:
    """Write a consistent snapshot of the database at `url` into the file `path`."""
    target = Path(path)
    # Written beside the target, then renamed: a crash never leaves a truncated backup
    # under the expected name. Readable by the owner only: it is personal data.
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    try:
        if engine_of(url) == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  "--file", str(partial), _libpq_url(url)], url)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(url: str, path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Load the backup `path` into the database at `url`.

    Refuses a database that already holds tables, unless `force`: then what the backup
    holds replaces them.
    """
    source = Path(path)
    if not source.is_file():
        raise ValidationError(_l("Fichier de sauvegarde introuvable : %(path)s.", path=str(source)))
    kind = engine_of(url)
    with source.open("rb") as f:
        magic = f.read(len(SQLITE_MAGIC))
    expected = SQLITE_MAGIC if kind == "sqlite" else PG_MAGIC
    if not magic.startswith(expected):
        raise ValidationError(_l(
            "Ce fichier n'est pas une sauvegarde %(engine)s de Passerelle.",
            engine="SQLite" if kind == "sqlite" else "PostgreSQL"))
    tables = existing_tables(url)
    if tables and not force:
        raise Conflict(_l(
            "La base de données n'est pas vide (%(count)s tables) : la restauration la remplacerait. "
            "Utilisez --force pour la remplacer.", count=len(tables)))
    if kind == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    else:
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if tables:
            command += ["--clean", "--if-exists"]
        _run([*command, "--dbname", _libpq_url(url), str(source)], url)


def existing_tables(url: str) -> list[str]:
    """The tables the database at `url` holds (none for a fresh database)."""
    if engine_of(url) == "sqlite" and not Path(_sqlite_path(url)).exists():
        return []
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _sqlite_path(url: str) -> str:
    database = sa.make_url(url).database
    if not database or database == ":memory:":
        raise ValidationError(_l("Une base SQLite en mémoire ne peut pas être sauvegardée."))
    return database


def _sqlite_backup(database: str, target: Path) -> None:
    if not Path(database).is_file():
        raise ValidationError(_l("Base de données introuvable : %(path)s.", path=database))
    src = sqlite3.connect(database, timeout=30)
    dst = sqlite3.connect(target)
    try:
        # pages=-1: every page in one step, under one read transaction: a snapshot.
        src.backup(dst, pages=-1)
        # A self-contained file: no WAL beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _sqlite_restore(source: Path, database: str) -> None:
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(database, timeout=30)
    try:
        # The backup API replaces the whole destination in one write transaction.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=WAL")
    finally:
        dst.close()
        src.close()


def _libpq_url(url: str) -> str:
    """The URL as libpq reads it, without the password (given through the environment)."""
    parsed = sa.make_url(url)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run(command: list[str], url: str) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} not found: install the PostgreSQL client tools")
    env = dict(os.environ)
    password = sa.make_url(url).password
    if password:
        env["PGPASSWORD"] = str(password)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed (exit {result.returncode}): {result.stderr.strip()}")
