"""Paging a query: the same pages for HTML lists and API lists."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so

T = TypeVar("T")
MAX_PER_PAGE = 200
# Beyond this a page number is nonsense, and its OFFSET would overflow the database's integers.
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and where it stands among all of them."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def paginate(session: so.Session, stmt: sa.Select[Any], page: int = 1, per_page: int = 25) -> Page[Any]:
    """Run `stmt` (which must have a stable ORDER BY) for one page, and count all rows."""
    page = max(1, min(page, MAX_PAGE))
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    # Counted on the first column alone: the count names none of the entity's other columns
    # (its encrypted ones among them). Not for a DISTINCT statement.
    counted = stmt.order_by(None).with_only_columns(stmt.selected_columns[0], maintain_column_froms=True)
    total = session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    items = list(session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)
