"""The associations' activity month by month (issue 17): referrals received, households
supported, households rehoused, from the platform's events; suppressed for the committee,
unsuppressed for the association's own rows, never another association's."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from models import Referral, crypto
from services import activity
from services.stats import SHOWN
from tests import factories
from tests.conftest import DATA_KEY
from tests.services.test_stats import build_quarter_world, paris

DEPS = ["59", "62"]


@pytest.fixture(autouse=True)
def _data_key():
    crypto.configure(DATA_KEY)


def _refer(db, world, association, at, department="59"):
    db.add(Referral(landlord_id=world.l59.id, association_id=association.id,
                    landlord_reference=f"R-{association.id}-{at.isoformat()}", department=department,
                    consent_on=at.date(), created_at=at))
    db.flush()


def _world(db):
    world, parts = build_quarter_world(db)
    for day in range(1, 7):
        _refer(db, world, world.a1, paris(2026, 3, day, 10))
    _refer(db, world, world.a2, paris(2026, 3, 9, 10), department="62")
    return world, parts


def _row(table, association):
    return next(r for r in table.rows if r.key == f"org:{association.id}")


def test_the_committee_reads_each_association_by_month_small_counts_hidden(app, db):
    world, _parts = _world(db)
    with app.test_request_context("/"):
        referrals, supported, rehoused = activity.tables(db, 2026, DEPS)
    lille, arras = _row(rehoused, world.a1), _row(rehoused, world.a2)
    # Six rehoused in Lille's files in November (the five of the summer and the January one).
    assert [c.value for c in lille.cells[:12]] == [0] * 10 + [6, 0] and lille.cells[12].value == 6
    assert lille.cells[12].status == SHOWN
    # Six referrals in March to Lille, one to Arras: Arras's is hidden, and so is one more of
    # March's column so that the total does not give it away.
    assert _row(referrals, world.a1).cells[2].value == 6
    assert _row(referrals, world.a2).cells[2].status != SHOWN
    march = [r.cells[2] for r in referrals.rows]
    assert sum(1 for c in march if c.status != SHOWN) >= 2
    # Arras supports its two November households in November and December: fewer than 5, hidden.
    assert [c.status == SHOWN for c in _row(supported, world.a2).cells[10:12]] == [False, False]
    # The year counts each household once: Lille supported 6 + 5 + 1 = 12 households in 2026.
    assert _row(supported, world.a1).cells[12].value == 12
    assert _row(supported, world.a2).cells[12].status != SHOWN and arras.cells[12].value == 0


def test_an_association_reads_its_own_counts_and_nobody_elses(app, db, client, login_as):
    world, _parts = _world(db)
    db.commit()
    login_as("association", organisation=world.a2)
    page = client.get("/association/activite?year=2026").get_data(as_text=True)
    assert "Asso Lille" not in page and "Orientations reçues des bailleurs" in page
    rows = list(csv.reader(io.StringIO(client.get("/association/activite.csv?year=2026").data.decode("utf-8-sig")),
                           delimiter=";"))
    figures = {(r[0], r[2]): r[3] for r in rows[1:]}
    # Its own two households supported in November: shown as they are, to it alone.
    assert figures[("Ménages accompagnés (dossier actif dans le mois)", "nov.")] == "2"
    assert figures[("Orientations reçues des bailleurs", "2026")] == "1"
    assert {r[1] for r in rows[1:]} == {"Votre association"}


def test_the_committee_page_and_its_csv(app, db, client, login_as):
    world, _parts = _world(db)
    committee = factories.create_organisation(db, "committee", departments=DEPS)
    db.commit()
    login_as("committee", organisation=committee)
    page = client.get("/comite/activite?year=2026").get_data(as_text=True)
    assert "Asso Lille" in page and "Orientations reçues des bailleurs" in page
    r = client.get("/comite/activite.csv?year=2026")
    assert r.status_code == 200 and 'filename="activite-2026-59-62.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig")), delimiter=";"))
    assert ("Ménages relogés (premier bail signé)", "Asso Lille", "2026", "6") in {tuple(x) for x in rows}
    assert ("Orientations reçues des bailleurs", "Asso Arras", "mars", "1") not in {tuple(x) for x in rows}


def test_months_cover_the_year_in_paris_time(app):
    with app.test_request_context("/"):
        periods = activity.months(2026)
    assert periods[0].label == "janv."
    assert periods[0].start == dt.date(2026, 1, 1) and periods[11].end == dt.date(2027, 1, 1)
    assert all(a.end == b.start for a, b in zip(periods, periods[1:], strict=False))
