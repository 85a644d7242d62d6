"""The `passerelle` command line, as the contract lists it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import models
from models import Household, Organisation, Unit, User
from tests.conftest import PASSWORD
from tests.helpers import scratch_database
from web.cli import main


@pytest.fixture
def cli_db(database_url, tmp_path, monkeypatch):
    """A migrated scratch database named by DATABASE_URL, as an operator would have."""
    with scratch_database(database_url, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("PASSERELLE_INSTANCE_PATH", str(tmp_path))
        engine = sa.create_engine(url)
        models.Base.metadata.create_all(engine)
        yield engine
        engine.dispose()


def run(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=input)


def test_every_command_has_help():
    for name in ("demo", "serve", "create-organisation", "create-user", "create-token"):
        result = run(name, "--help")
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output
    assert run("db", "upgrade", "--help").exit_code == 0


def test_create_organisation_user_and_token(cli_db):
    r = run("create-organisation", "--kind", "landlord", "--name", "Habitat Test",
            "--departments", "59,62")
    assert r.exit_code == 0, r.output
    r = run("create-user", "--email", "Agent@Habitat.example", "--role", "landlord",
            "--organisation", "Habitat Test", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["create-token", "--email", "agent@habitat.example"])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip()
    assert token.startswith("pst_") and "\n" not in token
    with cli_db.connect() as conn:
        org = conn.execute(sa.select(Organisation)).one()
        assert org.departments == ["59", "62"]
        assert conn.execute(sa.select(User.email)).scalar() == "agent@habitat.example"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create-organisation", "--kind", "bank", "--name", "X"], "--kind"),
        (["create-organisation", "--kind", "landlord", "--name", "X", "--departments", "59,XX"],
         "XX"),
        (["create-user", "--email", "a@b.example", "--role", "landlord", "--organisation",
          "Nope", "--password-stdin"], "Nope"),
        (["create-token", "--email", "nobody@b.example"], "--email"),
        (["serve", "--port", "0"], "--port"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(cli_db, args, message):
    result = run(*args, input=PASSWORD + "\n")
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_weak_password_is_refused_and_nothing_written(cli_db):
    run("create-organisation", "--kind", "association", "--name", "Asso")
    r = run("create-user", "--email", "r@asso.example", "--role", "association",
            "--organisation", "Asso", "--password-stdin", input="short\n")
    assert r.exit_code == 2
    assert "12" in r.output
    with cli_db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(User)).scalar() == 0


def test_role_must_fit_organisation(cli_db):
    run("create-organisation", "--kind", "association", "--name", "Asso")
    r = run("create-user", "--email", "r@asso.example", "--role", "landlord",
            "--organisation", "Asso", "--password-stdin", input=PASSWORD + "\n")
    assert r.exit_code == 2
    assert "--organisation" in r.output


def test_demo_loads_once_and_prints_accounts(database_url, tmp_path, monkeypatch):
    with scratch_database(database_url, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("PASSERELLE_INSTANCE_PATH", str(tmp_path))
        first = run("demo", "--no-serve")
        assert first.exit_code == 0, first.output
        assert "Demo data loaded." in first.output
        second = run("demo", "--no-serve")
        assert "already there" in second.output
        from services.demo import ACCOUNTS

        for account in ACCOUNTS:
            assert account.email in first.output and account.password in first.output
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            units = conn.execute(sa.select(Unit.status, Unit.department, Unit.landlord_id)).all()
            households = conn.execute(sa.select(Household.status, Household.association_id)).all()
        engine.dispose()
        # 150 homes and 3 emergency places (one sheltering a woman); 250 households and the
        # file of the caretaker's referral the association took on.
        assert len(units) == 153 and len(households) == 251
        assert "Emergency places: 3 (1 sheltering a woman in danger); referrals by the caretaker: 2." in first.output
        assert {u.department for u in units} == {"59", "62", "80", "75", "93"}
        assert len({u.landlord_id for u in units}) == 3
        assert len({h.association_id for h in households}) == 3
        assert sum(u.status in ("published", "proposed", "allocated") for u in units) >= 120
        # A first round was played: every audience has something to look at.
        assert "A first match was run and released" in first.output
        assert sum(u.status == "allocated" for u in units) >= 5
        assert sum(h.status == "housed" for h in households) >= 5
        assert sum(h.status == "proposed" for h in households) >= 5
        assert sum(h.status in ("active", "proposed", "housed") for h in households) >= 200


def test_ceilings_load_is_all_or_nothing_and_show_prints_the_table(cli_db, tmp_path):
    from models import IncomeCeiling

    shown = run("ceilings", "show", "--date", "2026-06-01")
    assert shown.exit_code == 0, shown.output
    assert "2026,PLUS,paris,26920,40233,52740,62968,74919,84304,9394" in shown.output
    lines = shown.output.strip().splitlines()
    good = tmp_path / "plafonds-2027.csv"
    good.write_text("\n".join([lines[0], *(line.replace("2026,", "2027,", 1) for line in lines[1:])]) + "\n")
    bad = tmp_path / "mauvais.csv"
    bad.write_text("\n".join([lines[0], *(line.replace("2026,", "2027,", 1) for line in lines[1:4]),
                              "2027,PLUS,lyon,1,2,3,4,5,6,7"]) + "\n")
    result = run("ceilings", "load", str(bad))
    assert result.exit_code == 2
    assert "ligne 5, champ zone : « lyon » inconnue" in result.output
    assert "rien n'a été chargé" in result.output
    with cli_db.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(IncomeCeiling)) == 0
    result = run("ceilings", "load", str(good), "--source", "arrêté du 20 décembre 2026")
    assert result.exit_code == 0, result.output
    with cli_db.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(IncomeCeiling)) == 9
        assert conn.scalar(sa.select(IncomeCeiling.source).limit(1)) == "arrêté du 20 décembre 2026"
    assert "2027,PLUS,paris,26920" in run("ceilings", "show", "--date", "2027-03-01").output
