"""Filling a database for the benchmarks through the platform's own paths (no raw SQL).

Units go through the landlords' spreadsheet import (`services.units.import_units`, 5,000
rows a file at most) and are then published; households through
`services.households.create_household` and `activate_household`, exactly as the pages
and the API store them. The data comes from the solver's generator (`python -m matching
generate`): real communes, realistic sizes, incomes, rents and exclusion zones.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy.orm as so

from models import Organisation, User, utcnow
from services import accounts, households, units

IMPORT_ROWS = 5000  # the import's own limit per file
CSV_FIELDS = ("reference", "commune", "lat", "lon", "location_uncertainty_km", "rooms", "surface_m2", "floor",
              "elevator", "wheelchair_accessible", "rent", "charges", "financing", "in_qpv", "available_from")


@dataclass
class Seeded:
    """What a seed created, by organisation."""

    landlords: list[Organisation] = field(default_factory=list)
    associations: list[Organisation] = field(default_factory=list)
    units: int = 0
    households: int = 0
    seconds: float = 0.0


def generated(households_n: int, units_n: int, seed: int, departments: Iterable[str]) -> dict[str, Any]:
    """A synthetic instance as the contract's JSON dict (what `python -m matching generate` writes)."""
    from matching.generate import generate
    from matching.io import instance_to_dict

    return instance_to_dict(generate(households_n, units_n, seed=seed, departments=tuple(departments),
                                     as_of=dt.date.today(), locked=0, forbidden=0))


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        values = []
        for name in CSV_FIELDS:
            value = row.get(name)
            if isinstance(value, bool):
                value = "oui" if value else "non"
            values.append("" if value is None else value)
        writer.writerow(values)
    return out.getvalue().encode()


def import_units(session: so.Session, landlord: Organisation, raw_units: list[dict[str, Any]],
                 prefix: str) -> int:
    """Import units with the spreadsheet path, then publish them; returns how many."""
    today = dt.date.today()
    rows = []
    for n, raw in enumerate(raw_units, 1):
        row = dict(raw, reference=f"{prefix}-{n:06d}")
        row["available_from"] = max(today, dt.date.fromisoformat(raw["available_from"])).isoformat()
        rows.append(row)
    count = 0
    for start in range(0, len(rows), IMPORT_ROWS):
        summary = units.import_units(session, landlord, f"{prefix}-{start}.csv", _csv(rows[start:start + IMPORT_ROWS]))
        for unit in summary.units:
            units.publish_unit(session, unit)
        count += summary.count
        session.commit()
    return count


def create_households(session: so.Session, association: Organisation, raw_households: list[dict[str, Any]],
                      prefix: str, commit_every: int = 1000) -> int:
    """Create and activate households through the service, as an association would."""
    today = dt.date.today()
    for n, raw in enumerate(raw_households, 1):
        data = {k: v for k, v in raw.items() if k not in ("id", "association")}
        data["reference"] = f"{prefix}-{n:06d}"
        household = households.create_household(session, association, data, actor=None)
        consent = min(today, dt.date.fromisoformat(raw["requested_on"]) + dt.timedelta(days=3))
        households.activate_household(session, household, actor=None,
                                      data={"consent_recorded_on": consent.isoformat()})
        if n % commit_every == 0:
            session.commit()
    session.commit()
    return len(raw_households)


def seed(session: so.Session, *, households_n: int, units_n: int, departments: list[str], seed_value: int = 2026,
         landlords_n: int = 3, associations_n: int = 3, progress: Any = None) -> Seeded:
    """Organisations, then units (by import) and households (by the service) spread over them."""
    started = time.perf_counter()
    out = Seeded()
    for i in range(landlords_n):
        out.landlords.append(accounts.create_organisation(
            session, kind="landlord", name=f"Bailleur bench {i + 1}", departments=departments,
            contact_email=f"contact@bailleur{i + 1}.bench"))
    for i in range(associations_n):
        out.associations.append(accounts.create_organisation(
            session, kind="association", name=f"Association bench {i + 1}", departments=departments,
            contact_email=f"contact@association{i + 1}.bench"))
    session.commit()
    instance = generated(households_n, units_n, seed_value, departments)
    for i, landlord in enumerate(out.landlords):
        share = instance["units"][i::landlords_n]
        out.units += import_units(session, landlord, share, f"L{i + 1}")
        if progress:
            progress(f"units: {out.units}/{units_n}")
    for i, association in enumerate(out.associations):
        share = instance["households"][i::associations_n]
        out.households += create_households(session, association, share, f"A{i + 1}")
        if progress:
            progress(f"households: {out.households}/{households_n}")
    out.seconds = time.perf_counter() - started
    return out


def create_account(session: so.Session, *, email: str, role: str, organisation: Organisation, password: str,
                   totp_secret: str | None = None) -> User:
    """A user (enrolled in the second factor with a known secret when given)."""
    user = accounts.create_user(session, email=email, role=role, password=password, organisation=organisation)
    if totp_secret:
        user.totp_secret = totp_secret
        user.totp_confirmed_at = utcnow()
    session.flush()
    return user
