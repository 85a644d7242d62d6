"""`passerelle backup` / `restore`: a consistent snapshot under writes, restored whole, on both engines."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so
from click.testing import CliRunner

import models
from models import Household, Organisation, crypto
from tests import factories
from tests.conftest import DATA_KEY
from tests.helpers import scratch_database
from web.cli import main
from web.db import create_engine


@pytest.fixture
def databases(database_url, tmp_path, monkeypatch):
    """Two fresh databases of the suite's engine: the live one (with the schema) and an empty one."""
    with scratch_database(database_url, tmp_path) as live, scratch_database(database_url, tmp_path) as fresh:
        engine = create_engine(live)
        models.Base.metadata.create_all(engine)
        monkeypatch.setenv("PASSERELLE_INSTANCE_PATH", str(tmp_path))
        # The commands build the app: it must use the suite's key, not make one of its own.
        monkeypatch.setenv("PASSERELLE_DATA_KEY", DATA_KEY)
        monkeypatch.setenv("SECRET_KEY", "test-secret-key")
        crypto.configure(DATA_KEY)
        yield engine, live, fresh
        engine.dispose()


def cli(url: str, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})


def _names(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = list(conn.scalars(sa.select(Organisation.name).order_by(Organisation.id)))
    engine.dispose()
    return names


class Writer(threading.Thread):
    """Inserts one organisation per transaction, and remembers what was committed, in order."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.committed: list[str] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                with so.Session(self.engine) as session:
                    name = f"Writer {n:05d}"
                    session.add(Organisation(kind="landlord", name=name, code=f"W-{n:05d}", departments=["59"]))
                    session.commit()
                self.committed.append(name)
                n += 1
        except BaseException as exc:  # reported by the test
            self.error = exc


def test_backup_under_writes_restores_a_consistent_snapshot(databases, tmp_path):
    engine, live, fresh = databases
    with so.Session(engine) as session:
        association = factories.create_organisation(session, "association", name="Solidarité Femmes Test")
        household = factories.create_household(session, association=association, reference="DOS-777")
        for n in range(300):  # enough pages that the copy takes a moment
            factories.create_unit(session, reference=f"LOG-{n:04d}")
        session.commit()
        zones = household.exclusion_zones

    writer = Writer(engine)
    writer.start()
    while len(writer.committed) < 20:
        time.sleep(0.01)
    committed_before = list(writer.committed)
    result = cli(live, "backup", str(tmp_path / "passerelle.backup"))
    committed_after = list(writer.committed)
    writer.stop.set()
    writer.join(10)
    assert writer.error is None
    assert result.exit_code == 0, result.output
    assert "PASSERELLE_DATA_KEY" in result.output  # the operator is told the key is not in it
    assert len(committed_after) > len(committed_before), "the writer must run during the backup"

    result = cli(fresh, "restore", str(tmp_path / "passerelle.backup"))
    assert result.exit_code == 0, result.output

    restored = [name for name in _names(fresh) if name.startswith("Writer ")]
    # Everything committed before the backup started is there...
    assert restored[: len(committed_before)] == committed_before
    # ...and the rest is a snapshot: exactly the first rows the writer committed, no gap, nothing torn.
    assert restored == writer.committed[: len(restored)]
    assert len(restored) <= len(committed_after)

    restored_engine = create_engine(fresh)
    with so.Session(restored_engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(models.Unit)) == 300
        copy = session.scalars(sa.select(Household).where(Household.reference == "DOS-777")).one()
        assert copy.exclusion_zones == zones  # still readable with the same data key
    with restored_engine.connect() as conn:
        raw = conn.scalar(sa.text("SELECT exclusion_zones FROM households"))
    restored_engine.dispose()
    assert "50.7236" not in raw  # and still encrypted inside the backup


def test_restore_refuses_a_database_that_is_not_empty_unless_forced(databases, tmp_path):
    engine, live, _fresh = databases
    with so.Session(engine) as session:
        factories.create_organisation(session, "landlord", name="Bailleur sauvegardé")
        session.commit()
    backup_file = str(tmp_path / "passerelle.backup")
    assert cli(live, "backup", backup_file).exit_code == 0
    with so.Session(engine) as session:
        factories.create_organisation(session, "landlord", name="Créé après la sauvegarde")
        session.commit()
    engine.dispose()

    result = cli(live, "restore", backup_file)
    assert result.exit_code == 1
    assert "--force" in result.output
    assert "Créé après la sauvegarde" in _names(live)  # nothing was touched

    result = cli(live, "restore", "--force", backup_file)
    assert result.exit_code == 0, result.output
    assert _names(live) == ["Bailleur sauvegardé"]


def test_restore_refuses_a_file_that_is_not_a_backup(databases, tmp_path):
    _engine, _live, fresh = databases
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    result = cli(fresh, "restore", str(bogus))
    assert result.exit_code == 1
    assert "n'est pas une sauvegarde" in result.output


def test_backup_file_is_private(databases, tmp_path):
    _engine, live, _fresh = databases
    target = tmp_path / "private.backup"
    assert cli(live, "backup", str(target)).exit_code == 0
    assert target.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".*.partial"))
