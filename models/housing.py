"""Units offered by landlords and households supported by associations.

Field names are those of the matching contract (`shared/contract/matching-instance.md`).
A household has no name, no birth date and no current address: the association's own
`reference` identifies her. Where she must never be housed is encrypted at rest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import Organisation, _in
from models.base import Base, EncryptedJSON, UTCDateTime, new_public_id, utcnow

MAX_STAY_DAYS = 730
# "IS NOT NULL" because a CHECK whose value is NULL passes: without it, a place with no
# maximum stay would get through on SQLite.
TEMPORARY_RULE = ("(temporary AND max_stay_days IS NOT NULL AND max_stay_days BETWEEN 1 AND "
                  f"{MAX_STAY_DAYS}) OR (NOT temporary AND max_stay_days IS NULL)")
UNIT_STATUSES = ("draft", "published", "proposed", "allocated", "withdrawn")
HOUSEHOLD_STATUSES = ("draft", "active", "proposed", "housed", "withdrawn")
# The deferred group of a household's encrypted columns (zones, preferred points, notes).
PROTECTED = "protected"
FINANCINGS = ("PLAI", "PLUS", "PLS", "PLI")
PRIORITY_CATEGORIES = (
    "violence",  # victim of violence within the couple or the family
    "dalo",  # recognised priority under the enforceable right to housing
    "disability",
    "homeless",
    "unfit_housing",
    "overcrowding",
    "eviction",
    # Still living under the same roof as the violent partner: her rehousing is a move out
    # of a shared home ("décohabitation"), which conventions count.
    "shared_home",
)

Money = sa.Numeric(10, 2)


class Unit(Base):
    """A social housing unit a landlord offers through the platform."""

    __tablename__ = "units"
    __table_args__ = (
        sa.UniqueConstraint("landlord_id", "reference"),
        sa.CheckConstraint(_in("status", UNIT_STATUSES), name="status"),
        # A place for a stay has its maximum stay; a permanent home has none.
        sa.CheckConstraint(TEMPORARY_RULE, name="max_stay"),
        sa.CheckConstraint(
            f"financing IS NULL OR {_in('financing', FINANCINGS)}", name="financing"
        ),
        sa.CheckConstraint("length(commune) = 5", name="commune_code"),
        sa.CheckConstraint("rooms >= 1 AND rooms <= 20", name="rooms_range"),
        sa.CheckConstraint("surface_m2 IS NULL OR surface_m2 > 0", name="surface_positive"),
        sa.CheckConstraint("floor >= -5 AND floor <= 80", name="floor_range"),
        sa.CheckConstraint("rent >= 0 AND charges >= 0", name="money_positive"),
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name="lat_lon_together"),
        sa.CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat_range"),
        sa.CheckConstraint("lon IS NULL OR (lon >= -180 AND lon <= 180)", name="lon_range"),
        sa.CheckConstraint("location_uncertainty_km >= 0", name="uncertainty_positive"),
        sa.Index("ix_units_department_status", "department", "status"),
        # The landlord's lists and counts by status.
        sa.Index("ix_units_landlord_status", "landlord_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("U-")
    )
    landlord_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    reference: so.Mapped[str] = so.mapped_column(sa.String(80))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="draft")
    commune: so.Mapped[str] = so.mapped_column(sa.String(5))
    department: so.Mapped[str] = so.mapped_column(sa.String(3))
    lat: so.Mapped[float | None]
    lon: so.Mapped[float | None]
    location_uncertainty_km: so.Mapped[float] = so.mapped_column(default=0.0)
    rooms: so.Mapped[int]
    surface_m2: so.Mapped[float | None]
    floor: so.Mapped[int] = so.mapped_column(default=0)
    elevator: so.Mapped[bool] = so.mapped_column(default=False)
    wheelchair_accessible: so.Mapped[bool] = so.mapped_column(default=False)
    rent: so.Mapped[Decimal] = so.mapped_column(Money)
    charges: so.Mapped[Decimal] = so.mapped_column(Money, default=Decimal("0"))
    financing: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    in_qpv: so.Mapped[bool] = so.mapped_column(default=False)
    # An emergency or temporary place ("mise à l'abri"): never a permanent home, sheltered
    # in for at most `max_stay_days` (models.shelter), counted apart by the conventions.
    temporary: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    max_stay_days: so.Mapped[int | None]
    available_from: so.Mapped[dt.date]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )
    published_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    allocated_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    landlord: so.Mapped[Organisation] = so.relationship()

    def __repr__(self) -> str:
        return f"<Unit {self.public_id} T{self.rooms} {self.commune} {self.status}>"


class Household(Base):
    """A household an association supports, described only by what matching needs."""

    __tablename__ = "households"
    __table_args__ = (
        sa.UniqueConstraint("association_id", "reference"),
        sa.CheckConstraint(_in("status", HOUSEHOLD_STATUSES), name="status"),
        sa.CheckConstraint("adults >= 1 AND adults <= 10", name="adults_range"),
        sa.CheckConstraint("children >= 0 AND children <= 15", name="children_range"),
        sa.CheckConstraint(
            "monthly_income >= 0 AND housing_allowance >= 0", name="money_positive"
        ),
        sa.CheckConstraint(
            "reference_income IS NULL OR reference_income >= 0", name="reference_income"
        ),
        sa.CheckConstraint("urgency >= 0 AND urgency <= 3", name="urgency_range"),
        # Nobody is matched without having agreed to it.
        sa.CheckConstraint(
            "status IN ('draft', 'withdrawn') OR consent_recorded_on IS NOT NULL",
            name="consent_before_activation",
        ),
        sa.Index("ix_households_association_status", "association_id", "status"),
        # The coordination's lists by status, most urgent first; the purge of closed files.
        sa.Index("ix_households_status_urgency", "status", "urgency"),
        sa.Index("ix_households_status_closed_at", "status", "closed_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    public_id: so.Mapped[str] = so.mapped_column(
        sa.String(32), unique=True, default=lambda: new_public_id("H-")
    )
    association_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    reference: so.Mapped[str] = so.mapped_column(sa.String(80))
    status: so.Mapped[str] = so.mapped_column(sa.String(20), default="draft")
    adults: so.Mapped[int] = so.mapped_column(default=1)
    children: so.Mapped[int] = so.mapped_column(default=0)
    monthly_income: so.Mapped[Decimal] = so.mapped_column(Money)
    housing_allowance: so.Mapped[Decimal] = so.mapped_column(Money, default=Decimal("0"))
    reference_income: so.Mapped[int | None]
    needs_wheelchair_access: so.Mapped[bool] = so.mapped_column(default=False)
    needs_no_stairs: so.Mapped[bool] = so.mapped_column(default=False)
    urgency: so.Mapped[int] = so.mapped_column(default=1)
    priority_categories: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    requested_on: so.Mapped[dt.date]
    ready_from: so.Mapped[dt.date]
    # Where she looks: {"communes": [...], "departments": [...]}. Not secret by itself,
    # but shown only to her association and coordinators.
    search_area: so.Mapped[dict[str, list[str]]] = so.mapped_column(sa.JSON, default=dict)
    # Where she must never be housed: encrypted at rest, never shown to a landlord. The
    # encrypted columns are loaded (and decrypted) only where they are read: a list, a run's
    # review or a landlord's page never hold them in memory (`undefer_group(PROTECTED)`
    # where a list does need them).
    exclusion_zones: so.Mapped[list[dict[str, Any]]] = so.mapped_column(
        EncryptedJSON, default=list, deferred=True, deferred_group=PROTECTED
    )
    preferred_points: so.Mapped[list[dict[str, Any]]] = so.mapped_column(
        EncryptedJSON, default=list, deferred=True, deferred_group=PROTECTED
    )
    notes: so.Mapped[str | None] = so.mapped_column(EncryptedJSON, deferred=True, deferred_group=PROTECTED)
    # She is a tenant of a social landlord now (a move out of a home shared with the aggressor,
    # a transfer): ``{"landlord": code, "commune": INSEE or null, "unit": public id or null}``.
    # Encrypted and association-only like her zones: it says where she lives. Her current
    # unit is never proposed to her (services.households.current_unit); the zones around it
    # are added to her exclusion zones when it is recorded.
    current_home: so.Mapped[dict[str, Any] | None] = so.mapped_column(
        EncryptedJSON, deferred=True, deferred_group=PROTECTED)
    # How many exclusion zones she has, in clear: a coordinator is told that her zones exist
    # and are checked without the zones themselves being read (kept by `_count_zones` below;
    # NULL for a row written before the count existed whose zones could not be decrypted).
    exclusion_zone_count: so.Mapped[int | None] = so.mapped_column(default=0)
    consent_recorded_on: so.Mapped[dt.date | None]
    activated_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    closed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    association: so.Mapped[Organisation] = so.relationship()

    @property
    def persons(self) -> int:
        return self.adults + self.children

    def __repr__(self) -> str:
        return f"<Household {self.public_id} {self.status}>"


@sa.event.listens_for(Household.exclusion_zones, "set")
def _count_zones(target: Household, value: Any, _old: Any, _initiator: Any) -> None:
    """Every write of her zones (constructor, form, API, import) keeps their count."""
    target.exclusion_zone_count = len(value or [])
