"""Conventions: commitments, and achievements counted from the platform's events."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from models import Commitment, Decision, Proposal
from services import conventions as svc
from services import stats
from services.errors import ValidationError
from services.stats import Quarter
from tests import factories

UTC = dt.UTC


def at(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 10, 0, tzinfo=UTC)


def lease(db, unit, household, when: dt.datetime, origin: str = "request") -> Proposal:  # type: ignore[no-untyped-def]
    """A proposal of that origin whose lease was signed at `when`."""
    run = factories.create_run(db) if origin == "run" else None
    proposal = Proposal(run=run, origin=origin, unit=unit, household=household, rank=1, score=1.0,
                        components={}, status="leased", commission_rank=None)
    db.add(proposal)
    db.flush()
    db.add(Decision(proposal_id=proposal.id, step="lease", outcome="accept", decided_at=when))
    unit.status, household.status = "allocated", "housed"
    db.flush()
    return proposal


@pytest.fixture
def setting(db):  # type: ignore[no-untyped-def]
    coordinator = factories.create_user(db, role="coordinator",
                                        organisation=factories.create_organisation(db, "coordinator",
                                                                                   departments=["59", "62"]))
    landlord = factories.create_organisation(db, "landlord", name="Habitat du Nord")
    association = factories.create_organisation(db, "association", name="Solidarité Femmes Lille")
    convention = svc.create_convention(
        db, user=coordinator, title="Pass'Logement 59 2026", parties="URH Hauts-de-France\nFNSF\nÉtat",
        funders="DREETS", departments="59", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2027, 1, 1))
    return {"coordinator": coordinator, "landlord": landlord, "association": association,
            "convention": convention}


def test_achievements_are_counted_from_events_never_typed(db, setting):
    c, landlord, association = setting["convention"], setting["landlord"], setting["association"]
    for kind, target in (("units_posted", 10), ("rehousings_on_request", 5), ("shared_home_moves", 2),
                         ("emergency_places", 1), ("staff_trained", 8)):
        svc.set_commitment(db, c, organisation_id=landlord.id, year=2026, kind=kind, target=target)
    svc.set_commitment(db, c, organisation_id=association.id, year=2026, kind="rehousings_on_request", target=3)
    # Units: three published in 2026 in the 59 (one temporary), others that must not count.
    units = [factories.create_unit(db, landlord=landlord, published_at=at(2026, 3, n)) for n in (1, 2)]
    factories.create_unit(db, landlord=landlord, published_at=at(2026, 5, 1), temporary=True,
                          max_stay_days=90)
    factories.create_unit(db, landlord=landlord, department="62", commune="62041", published_at=at(2026, 5, 1))
    factories.create_unit(db, landlord=landlord, published_at=at(2025, 12, 1))
    factories.create_unit(db, landlord=landlord, status="draft", published_at=None)
    # Leases: two on request in 2026 (one of a woman leaving a shared home), one from a run
    # for a woman leaving a shared home, one on request in 2025.
    h = [factories.create_household(db, association=association) for _ in range(4)]
    h[1].priority_categories = ["violence", "shared_home"]
    h[2].priority_categories = ["violence", "shared_home"]
    lease(db, units[0], h[0], at(2026, 4, 2))
    lease(db, units[1], h[1], at(2026, 6, 2))
    lease(db, factories.create_unit(db, landlord=landlord, published_at=None), h[2], at(2026, 7, 2), origin="run")
    lease(db, factories.create_unit(db, landlord=landlord, published_at=None), h[3], at(2025, 7, 2))
    svc.record_training(db, c, user=setting["coordinator"], organisation_id=landlord.id,
                        held_on=dt.date(2026, 2, 3), persons=5)
    svc.record_training(db, c, user=setting["coordinator"], organisation_id=landlord.id,
                        held_on=dt.date(2026, 9, 3), persons=3)
    db.flush()
    db.expire_all()

    got = {(r["organisation"].name, r["kind"]): (r["target"], r["achieved"]) for r in svc.progress(db, c, 2026)}
    assert got == {
        ("Habitat du Nord", "units_posted"): (10, 3),
        ("Habitat du Nord", "rehousings_on_request"): (5, 2),
        ("Habitat du Nord", "shared_home_moves"): (2, 2),
        ("Habitat du Nord", "emergency_places"): (1, 1),
        ("Habitat du Nord", "staff_trained"): (8, 8),
        ("Solidarité Femmes Lille", "rehousings_on_request"): (3, 2),
    }
    # The same events counted by quarter: Q2 holds both leases on request.
    q2 = svc.achievements(db, c, Quarter(2026, 2).period())
    assert q2[(landlord.id, "rehousings_on_request")] == 2
    assert q2[(landlord.id, "units_posted")] == 1


def test_commitment_is_changed_not_duplicated(db, setting):
    c, landlord = setting["convention"], setting["landlord"]
    svc.set_commitment(db, c, organisation_id=landlord.id, year=2026, kind="units_posted", target=10)
    svc.set_commitment(db, c, organisation_id=landlord.id, year=2026, kind="units_posted", target=12)
    rows = db.scalars(sa.select(Commitment).where(Commitment.convention_id == c.id)).all()
    assert [(r.kind, r.target) for r in rows] == [("units_posted", 12)]


def test_errors_name_the_record_and_the_field(db, setting):
    c, association = setting["convention"], setting["association"]
    with pytest.raises(ValidationError) as exc:
        svc.set_commitment(db, c, organisation_id=association.id, year=2031, kind="units_posted", target=-1)
    assert set(exc.value.errors) == {"kind", "year", "target"}
    assert "Pass'Logement 59 2026" in str(exc.value.errors["year"][0])
    with pytest.raises(ValidationError) as exc:
        svc.create_convention(db, user=setting["coordinator"], title="Autre", parties="FNSF", funders="",
                              departments="59, 75", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2025, 1, 1))
    assert set(exc.value.errors) == {"departments", "ends_on"}
    assert "75" in str(exc.value.errors["departments"][0])


def test_invariants_hold_in_the_database(db, setting):
    db.add(Commitment(convention_id=setting["convention"].id, organisation_id=setting["landlord"].id,
                      year=2026, kind="units_posted", target=-3))
    with pytest.raises(sa.exc.IntegrityError):
        db.flush()
    db.rollback()


def test_territory_decides_who_manages(db, setting):
    other = factories.create_user(db, role="coordinator",
                                  organisation=factories.create_organisation(db, "coordinator", departments=["75"]))
    assert svc.manages(setting["coordinator"], setting["convention"])
    assert not svc.manages(other, setting["convention"])
    assert svc.list_conventions(db, ["75"]) == []


def test_committee_tables_hide_small_counts_and_what_reveals_them(db, setting, app):
    c = setting["convention"]
    big = factories.create_organisation(db, "landlord", name="Grand Bailleur")
    small = setting["landlord"]
    for org, n in ((big, 7), (small, 3)):
        svc.set_commitment(db, c, organisation_id=org.id, year=2026, kind="units_posted", target=10)
        for day in range(1, n + 1):
            factories.create_unit(db, landlord=org, published_at=at(2026, 11, day))
    with app.test_request_context():
        (table,) = svc.committee_tables(db, c, Quarter(2026, 4))
        cells = {r.label: [stats.display(x, "fr") for x in r.cells] for r in table.rows}
    # Habitat du Nord's 3 is hidden; the total (10) would give it back, so Grand Bailleur's 7 is
    # masked too (its row shows neither), and the share of a hidden count is hidden.
    assert cells["Habitat du Nord"] == ["10", "< 5", "< 5", "—"]
    assert cells["Grand Bailleur"] == ["10", "(s)", "(s)", "—"]
    assert cells["Total"][1:3] == ["10", "10"]


def test_a_woman_moves_out_of_a_shared_home_once(db, setting):
    """Her first lease counts; a second one (after an urgent transfer) is no move out of a shared
    home, as she is one woman rehoused for the committee; the household's other adults do not count."""
    c, landlord = setting["convention"], setting["landlord"]
    svc.set_commitment(db, c, organisation_id=landlord.id, year=2026, kind="shared_home_moves", target=2)
    h = factories.create_household(db, association=setting["association"])
    h.priority_categories, h.adults = ["violence", "shared_home"], 2
    first = lease(db, factories.create_unit(db, landlord=landlord, published_at=None), h, at(2026, 3, 2),
                  origin="run")
    first.status = "transferred"  # an urgent transfer reopened her file (services.transfers)
    db.flush()
    lease(db, factories.create_unit(db, landlord=landlord, published_at=None), h, at(2026, 9, 2), origin="run")
    db.flush()
    (row,) = svc.progress(db, c, 2026)
    assert (row["kind"], row["achieved"]) == ("shared_home_moves", 1)
    assert svc.achievements(db, c, Quarter(2026, 3).period())[(landlord.id, "shared_home_moves")] == 0
