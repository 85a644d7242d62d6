"""Counting the SQL statements a piece of code sends: to show that a page's queries do not
grow with its rows (no N+1).

    with count_queries(engine) as queries:
        client.get("/bailleur/logements")
    assert queries.count == 7, queries.report()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

# Transaction bookkeeping of the test harness (savepoints per request), not the page's work.
_BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class Queries:
    """The statements seen, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """One statement per line, shortened, to read in a failed assertion."""
        return "\n".join(f"{n:3d}. {' '.join(s.split())[:160]}" for n, s in enumerate(self.statements, 1))


@contextmanager
def count_queries(target: sa.Engine | sa.Connection, *, bookkeeping: bool = False) -> Iterator[Queries]:
    """Record every statement executed on `target` (an engine, or one connection) inside the block."""
    queries = Queries()

    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if bookkeeping or not statement.lstrip().upper().startswith(_BOOKKEEPING):
            queries.statements.append(statement)

    sa.event.listen(target, "before_cursor_execute", _record)
    try:
        yield queries
    finally:
        sa.event.remove(target, "before_cursor_execute", _record)
