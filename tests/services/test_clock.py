"""One clock: "today" is the territory's calendar day, overseas departments included."""

from __future__ import annotations

import datetime as dt

import pytest

from services import clock
from services import proposals as svc
from tests import factories

# 02:00 UTC on 1 December: 03:00 in Paris and 06:00 in Réunion (1 December), 22:00 on
# 30 November in Guadeloupe.
INSTANT = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def at_instant(monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: INSTANT)


def test_today_is_the_departments_day(at_instant):
    assert clock.today() == clock.today("59") == clock.today("2A") == dt.date(2026, 12, 1)
    assert clock.today("974") == dt.date(2026, 12, 1)
    assert clock.today("971") == clock.today("972") == clock.today("973") == dt.date(2026, 11, 30)
    assert clock.today_for(["971", "972"]) == dt.date(2026, 11, 30)  # one zone: theirs
    assert clock.today_for(["971", "59"]) == dt.date(2026, 12, 1)  # several: Paris's
    assert clock.latest_today() == dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield


def test_a_deadline_passes_at_midnight_where_the_unit_is(db, at_instant):
    deadline = dt.date(2026, 11, 30)
    lille = factories.create_proposal(db, deadline=deadline)
    guadeloupe = factories.create_proposal(
        db, unit=factories.create_unit(db, commune="97101", department="971", lat=None, lon=None),
        deadline=deadline)
    assert svc.overdue(db) == [lille.id]
    # In Pointe-à-Pitre it is still 30 November: her association may still answer.
    association = guadeloupe.household.association
    referent = factories.create_user(db, "association", organisation=association)
    svc.decide(db, referent, guadeloupe.public_id, decision="accept")
    assert guadeloupe.status == "household_accepted"
