"""What each side of a proposal may see of the other: two explicit allow-lists.

A landlord sees an anonymised profile of the household (`LandlordProfile`): her size,
an income band, the rent burden this unit would mean for her, her needs, and how to reach
her association. Never the household's id or reference, where she must not live, where
she looks, her notes, her exact income or the date of her request. Nothing in a profile
links two proposals of the same household: each carries only its own proposal's id.

An association sees the unit (`UnitDescription`): its commune (the household must know
where it is), size, floor, rent and availability. Never the landlord's reference or notes,
nor the unit's coordinates.

The page and the API both go through these dataclasses; the API's schemas list exactly
their fields (`PROFILE_FIELDS`, `UNIT_FIELDS`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask_babel import get_locale, gettext

from matching import geo
from models import Household, Proposal, Unit

INCOME_BAND_WIDTH = 500
INCOME_BAND_TOP = 3000


def _euros(amount: int) -> str:
    # Grouped in the reader's language: "1 000" (no-break space) in French, "1,000" in English.
    locale = str(get_locale() or "fr")
    return format_decimal(amount, format="#,##0", locale=locale).replace("\u202f", "\u00a0")


def income_band(monthly_income: Decimal | float) -> str:
    """A 500 € wide band of monthly income ("1 000–1 499 €/mois"), never the amount itself.

    Said in the current language (the reader's: profiles are built for the page or the API
    answer that shows them).
    """
    income = int(monthly_income)
    low = income // INCOME_BAND_WIDTH * INCOME_BAND_WIDTH
    band: str  # flask_babel has no type hints: its gettext is Any
    if income >= INCOME_BAND_TOP:
        band = gettext("%(amount)s\u00a0€/mois et plus", amount=_euros(INCOME_BAND_TOP))
    elif low == 0:
        band = gettext("moins de %(amount)s\u00a0€/mois", amount=_euros(INCOME_BAND_WIDTH))
    else:
        band = gettext("%(low)s–%(high)s\u00a0€/mois", low=_euros(low), high=_euros(low + INCOME_BAND_WIDTH - 1))
    return band


def rent_burden(unit: Unit, household: Household) -> int | None:
    """(rent + charges − housing allowance) / income, as a whole percentage.

    None when the household has no income (the burden is then not a ratio); 0 when the
    allowance covers everything.
    """
    net = Decimal(unit.rent) + Decimal(unit.charges) - Decimal(household.housing_allowance)
    if net <= 0:
        return 0
    if household.monthly_income <= 0:
        return None
    return int((net * 100 / Decimal(household.monthly_income)).quantize(Decimal("1")))


@dataclass(frozen=True)
class LandlordProfile:
    """The anonymised household a landlord's commission examines, for one proposal."""

    proposal_id: str
    persons: int
    adults: int
    children: int
    income_band: str
    rent_burden_percent: int | None
    needs_wheelchair_access: bool
    needs_no_stairs: bool
    association_name: str
    association_email: str | None
    association_phone: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILE_FIELDS = tuple(f.name for f in fields(LandlordProfile))


def landlord_profile(proposal: Proposal) -> LandlordProfile:
    """What the landlord of `proposal.unit` may see of its household, and nothing more."""
    household, unit = proposal.household, proposal.unit
    association = household.association
    return LandlordProfile(
        proposal_id=proposal.public_id,
        persons=household.persons,
        adults=household.adults,
        children=household.children,
        income_band=income_band(household.monthly_income),
        rent_burden_percent=rent_burden(unit, household),
        needs_wheelchair_access=household.needs_wheelchair_access,
        needs_no_stairs=household.needs_no_stairs,
        association_name=association.name,
        association_email=association.contact_email,
        association_phone=association.contact_phone,
    )


@dataclass(frozen=True)
class UnitDescription:
    """The unit an association's household is offered, as the association may see it."""

    proposal_id: str
    landlord_name: str
    landlord_email: str | None
    landlord_phone: str | None
    commune: str
    commune_name: str
    department: str
    typology: str
    rooms: int
    surface_m2: float | None
    floor: int
    elevator: bool
    wheelchair_accessible: bool
    rent: Decimal
    charges: Decimal
    rent_burden_percent: int | None
    financing: str | None
    in_qpv: bool
    available_from: dt.date

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


UNIT_FIELDS = tuple(f.name for f in fields(UnitDescription))


def unit_description(proposal: Proposal) -> UnitDescription:
    """What the association of `proposal.household` may see of the unit offered."""
    unit, household = proposal.unit, proposal.household
    place = geo.commune(unit.commune)
    return UnitDescription(
        proposal_id=proposal.public_id,
        landlord_name=unit.landlord.name,
        landlord_email=unit.landlord.contact_email,
        landlord_phone=unit.landlord.contact_phone,
        commune=unit.commune,
        commune_name=place.name if place else unit.commune,
        department=unit.department,
        typology=f"T{unit.rooms}",
        rooms=unit.rooms,
        surface_m2=unit.surface_m2,
        floor=unit.floor,
        elevator=unit.elevator,
        wheelchair_accessible=unit.wheelchair_accessible,
        rent=unit.rent,
        charges=unit.charges,
        rent_burden_percent=rent_burden(unit, household),
        financing=unit.financing,
        in_qpv=unit.in_qpv,
        available_from=unit.available_from,
    )
