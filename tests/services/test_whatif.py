"""Unmet needs and what-if: the same numbers as a real solve, only aggregates, small counts hidden."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as so

import matching
from models import MatchRun, Proposal, crypto
from services import runs, stats, whatif
from tests import factories
from tests.conftest import DATA_KEY

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


@pytest.fixture
def market(db):
    """59: six cheap T2, six T3 at 700 € all in; eight households of 3, five of 6 persons.

    At a 30 % rent burden ceiling the T3 are too expensive for the households of 3 (net
    438 € on 1,380 €: 31.7 %), so six of them get a T2 and two wait; at 35 % all eight are
    matched. Nothing fits the households of 6 (no T4).
    """
    landlord = factories.create_organisation(db, "landlord", departments=["59"])
    association = factories.create_organisation(db, "association", departments=["59"])
    coordination = factories.create_organisation(db, "coordinator", departments=["59"])
    committee = factories.create_user(db, "committee")
    for _ in range(6):
        factories.create_unit(db, landlord=landlord, rooms=2, surface_m2=45.0, rent=Decimal("300"),
                              charges=Decimal("50"))
    for _ in range(6):
        factories.create_unit(db, landlord=landlord, rooms=3, surface_m2=64.0, rent=Decimal("600"),
                              charges=Decimal("100"))
    for i in range(8):
        factories.create_household(db, association=association, adults=1, children=2, urgency=3 if i < 5 else 1)
    for _ in range(5):
        factories.create_household(db, association=association, adults=2, children=4, urgency=2,
                                   monthly_income=Decimal("2400"), priority_categories=["violence", "dalo"])
    return dict(coordination=coordination, committee=committee)


def row(table, key):
    return [stats.display(c) for c in table.row_by_key(key).cells]


def test_what_if_matches_a_direct_solve_of_the_same_policy(db, market):
    result = whatif.what_if(db, ["59"], {"max_effort_rate": 0.35}, as_of=AS_OF)
    assert row(result.table, "all") == ["13", "6", "8", "entre +1 et +4"]
    # The same instance solved directly with the same policy.
    built = whatif.snapshot(db, ["59"], {**runs.DEFAULT_POLICY, "max_effort_rate": 0.35}, AS_OF)
    direct = matching.solve(built.instance)
    counts = whatif.matched_counts(built.instance, direct)
    assert counts["all"] == 8
    assert result.table.row_by_key("all").cells[2].value == counts["all"]
    assert result.table.row_by_key("urgency:3").cells[2].value == counts["urgency:3"] == 5
    # Small counts stay hidden: three urgency-1 households, two of them matched before, three after.
    assert row(result.table, "urgency:1")[:3] == ["< 5", "< 5", "< 5"]
    assert row(result.table, "urgency:1")[3] == "—"
    assert result.variant["max_effort_rate"] == 0.35 and result.baseline["max_effort_rate"] == 0.30


def test_what_if_gives_the_numbers_of_a_real_run(db, connection, market, monkeypatch):
    monkeypatch.setattr(runs, "today", lambda: AS_OF)
    user = factories.create_user(db, "coordinator", organisation=market["coordination"])
    run, _ = runs.start_run(db, actor=user, departments=["59"], policy_overrides={"max_effort_rate": 0.35})
    db.commit()
    sessions = so.sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    assert runs.execute_run(sessions, run.id, run.attempt) == "succeeded"
    db.expire_all()
    stored = db.get(MatchRun, run.id)
    rank1 = db.scalar(sa.select(sa.func.count()).select_from(Proposal)
                      .where(Proposal.run_id == run.id, Proposal.rank == 1))
    result = whatif.what_if(db, ["59"], {"max_effort_rate": 0.35}, as_of=AS_OF)
    assert result.table.row_by_key("all").cells[2].value == stored.stats["matched"] == rank1 == 8


def test_what_if_writes_nothing(db, market):
    runs_before = db.scalar(sa.select(sa.func.count()).select_from(MatchRun))
    whatif.what_if(db, ["59"], {"horizon_days": 30, "candidates_per_unit": 2}, as_of=AS_OF)
    assert db.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == runs_before
    assert db.scalar(sa.select(sa.func.count()).select_from(Proposal)) == 0
    assert not db.new and not db.dirty  # nothing for the caller's commit either


def test_what_if_refuses_other_policy_keys_and_bad_values(db, market):
    from services.errors import ValidationError

    with pytest.raises(ValidationError):
        whatif.what_if(db, ["59"], {"occupancy": {}}, as_of=AS_OF)
    with pytest.raises(ValidationError):
        whatif.what_if(db, ["59"], {"candidates_per_unit": 0}, as_of=AS_OF)


def test_unmet_needs_say_what_blocks_households_and_units(db, market):
    needs = whatif.unmet_needs(db, ["59"], as_of=AS_OF)
    # Two households of 3 wait (competition): "< 5"; the five households of 6: size.
    assert row(needs.households, "size:3")[0] == "< 5"
    cols = needs.households.columns
    six = needs.households.row_by_key("size:5+")
    assert six.cells[0].value == 5 and six.cells[cols.index("Taille")].value == 5
    assert stats.display(six.cells[cols.index("Concurrence")]) == "0"
    offer = needs.offer.row_by_key("size:5+")
    assert offer.cells[1].value == "T4+"
    assert [stats.display(c) for c in (offer.cells[3], offer.cells[4])] == ["0", "0"]
    assert any(s.startswith("5 ménages de 5 personnes ou plus attendent : 0 logement(s) T4+") for s in needs.sentences)
    # The six T3 at 700 € received no proposal: too expensive for every household of a fitting size.
    t3 = needs.units.row_by_key("T3")
    assert t3.cells[0].value == 6
    assert t3.cells[needs.units.columns.index("Trop cher pour les ménages")].value == 6
    for table in (needs.households, needs.offer, needs.units):
        for r in table.rows:
            for c in r.cells:
                if c.kind == stats.COUNT and c.status == stats.SHOWN:
                    assert not 1 <= c.value <= 4
