"""Income ceilings of social housing loaded for a year (`passerelle ceilings load FILE`).

One row per financing and zone of a year: the annual ceilings of household categories
1..6 and the amount per person past 6. A year without rows uses the table shipped with
the code (services/data/income_ceilings.json): this table only holds what an operator
loaded, so the defaults never need a migration to change.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.accounts import _in
from models.base import Base, UTCDateTime, utcnow

CEILING_FINANCINGS = ("PLAI", "PLUS", "PLS")
CEILING_ZONES = ("paris", "idf", "other")


class IncomeCeiling(Base):
    """The ceilings of one financing in one zone for one year."""

    __tablename__ = "income_ceilings"
    __table_args__ = (
        sa.UniqueConstraint("year", "financing", "zone"),
        sa.CheckConstraint(_in("financing", CEILING_FINANCINGS), name="financing"),
        sa.CheckConstraint(_in("zone", CEILING_ZONES), name="zone"),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
        sa.CheckConstraint(
            "category_1 >= 0 AND category_2 >= 0 AND category_3 >= 0 AND category_4 >= 0 "
            "AND category_5 >= 0 AND category_6 >= 0 AND per_extra_person >= 0",
            name="amounts_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    year: so.Mapped[int]
    financing: so.Mapped[str] = so.mapped_column(sa.String(8))
    zone: so.Mapped[str] = so.mapped_column(sa.String(8))
    category_1: so.Mapped[int]
    category_2: so.Mapped[int]
    category_3: so.Mapped[int]
    category_4: so.Mapped[int]
    category_5: so.Mapped[int]
    category_6: so.Mapped[int]
    per_extra_person: so.Mapped[int]
    # Where the figures come from (the arrêté, a file name): shown with the table.
    source: so.Mapped[str] = so.mapped_column(sa.String(300))
    loaded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    @property
    def amounts(self) -> tuple[int, ...]:
        """Categories 1..6, then the amount per extra person (matching's ceilings row)."""
        return (self.category_1, self.category_2, self.category_3, self.category_4,
                self.category_5, self.category_6, self.per_extra_person)
