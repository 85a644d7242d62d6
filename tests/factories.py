"""Factory functions with defaults: each returns a flushed object (Indico style)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import sqlalchemy.orm as so

from models import Household, MatchRun, Organisation, Proposal, Unit, User
from services import accounts

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)

KIND_OF_ROLE = {"landlord": "landlord", "association": "association", "committee": "committee",
                "coordinator": "coordinator", "admin": "coordinator", "referrer": "landlord"}


def create_organisation(db: so.Session, kind: str = "landlord", **kw: Any) -> Organisation:
    n = next(_seq)
    kw.setdefault("name", f"{kind.title()} {n}")
    kw.setdefault("departments", ["59", "62"])
    kw.setdefault("contact_email", f"contact{n}@example.org")
    return accounts.create_organisation(db, kind=kind, **kw)


def create_user(db: so.Session, role: str = "landlord", organisation: Organisation | None = None,
                password: str = PASSWORD, **kw: Any) -> User:
    if organisation is None:
        organisation = create_organisation(db, KIND_OF_ROLE[role])
    kw.setdefault("email", f"{role}{next(_seq)}@example.org")
    return accounts.create_user(db, role=role, organisation=organisation, password=password, **kw)


def create_unit(db: so.Session, landlord: Organisation | None = None, **kw: Any) -> Unit:
    if landlord is None:
        landlord = create_organisation(db, "landlord")
    values: dict[str, Any] = dict(
        reference=f"LOG-{next(_seq):04d}", commune="59350", department="59",
        lat=50.6292, lon=3.0573, rooms=3, surface_m2=64.0, floor=2, elevator=True,
        wheelchair_accessible=False, rent=Decimal("412.50"), charges=Decimal("85.00"),
        financing="PLUS", in_qpv=False, available_from=dt.date(2026, 12, 1), status="published",
    )
    values.update(kw)
    unit = Unit(landlord=landlord, **values)
    db.add(unit)
    db.flush()
    return unit


def create_household(db: so.Session, association: Organisation | None = None,
                     **kw: Any) -> Household:
    if association is None:
        association = create_organisation(db, "association")
    values: dict[str, Any] = dict(
        reference=f"DOS-{next(_seq):04d}", adults=1, children=2,
        monthly_income=Decimal("1380.00"), housing_allowance=Decimal("262.00"),
        urgency=2, priority_categories=["violence"], requested_on=dt.date(2026, 5, 14),
        ready_from=dt.date(2026, 11, 1), search_area={"communes": [], "departments": ["59"]},
        exclusion_zones=[{"lat": 50.7236, "lon": 3.1610, "radius_km": 10.0}],
        preferred_points=[], status="active", consent_recorded_on=dt.date(2026, 11, 2),
    )
    values.update(kw)
    household = Household(association=association, **values)
    db.add(household)
    db.flush()
    return household


def create_run(db: so.Session, **kw: Any) -> MatchRun:
    values: dict[str, Any] = dict(departments=["59", "62"], status="released",
                                  released_at=dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC))
    values.update(kw)
    run = MatchRun(**values)
    db.add(run)
    db.flush()
    return run


def create_proposal(db: so.Session, unit: Unit | None = None, household: Household | None = None,
                    run: MatchRun | None = None, rank: int = 1, status: str = "pending",
                    **kw: Any) -> Proposal:
    """A proposal as a release leaves it: pending, a deadline, unit and household `proposed`."""
    unit = unit or create_unit(db)
    household = household or create_household(db)
    values: dict[str, Any] = dict(score=1000.0, components={"urgency": 1000.0},
                                  deadline=dt.date.today() + dt.timedelta(days=10))
    values.update(kw)
    proposal = Proposal(run=run or create_run(db), unit=unit, household=household, rank=rank,
                        status=status, **values)
    db.add(proposal)
    if status not in ("review", "dropped"):
        for record, free in ((unit, "published"), (household, "active")):
            if record.status == free:
                record.status = "proposed"
    db.flush()
    return proposal


def create_token(db: so.Session, user: User, **kw: Any) -> str:
    """An API token for the user; a role that requires a second factor is given one first."""
    if accounts.needs_totp_enrolment(user):
        import pyotp

        user.totp_secret = pyotp.random_base32()
        user.totp_confirmed_at = dt.datetime.now(dt.UTC)
        db.flush()
    return accounts.create_token(db, user, **kw)
