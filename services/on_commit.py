"""The one home of "do this once the transaction is committed": job enqueues, e-mail sending.

A job queued before its rows are committed can start before they exist (or after they were
rolled back); an e-mail sent before the commit announces what may never happen. So code
that makes such a side effect registers it on the session with `on_commit(session, func)`;
the callbacks run, in order, once the session's outermost transaction has committed and
whoever owns the commit point calls `run_committed(session)` (the web layer does it after
every request's view, the CLI after its command). A rollback drops the callbacks
registered since the last commit, so a failed request leaves nothing behind.

A callback that fails raises from `run_committed`, after the others have run: its caller
decides the answer (e.g. 503 when the job queue is down); what it must undo, it undoes
itself in a transaction of its own (the request's is over).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

_PENDING = "on_commit.pending"
_READY = "on_commit.ready"


def on_commit(session: so.Session, func: Callable[[], Any]) -> None:
    """Run `func` once this session's current transaction is committed (never if rolled back)."""
    session.info.setdefault(_PENDING, []).append(func)


def run_committed(session: so.Session) -> None:
    """Run the callbacks of the transactions committed so far; re-raise the first failure."""
    ready: list[Callable[[], Any]] = session.info.pop(_READY, [])
    first: BaseException | None = None
    for func in ready:
        try:
            func()
        except Exception as exc:  # noqa: BLE001 - the others still run; the first is re-raised
            first = first or exc
    if first is not None:
        raise first


def has_pending(session: so.Session) -> bool:
    """Callbacks waiting for a commit (tests, and to catch a commit point that forgot them)."""
    return bool(session.info.get(_PENDING))


@sa.event.listens_for(so.Session, "after_commit")
def _committed(session: so.Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction around it may still roll back
    pending = session.info.pop(_PENDING, [])
    if pending:
        session.info.setdefault(_READY, []).extend(pending)


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _rolled_back(session: so.Session, previous: so.SessionTransaction) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(_PENDING, None)
