"""Writing the audit trail: one row per action, no personal data, chained by hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import AuditEvent, User, utcnow
from services.paging import MAX_PAGE, Page

# Arbitrary constant naming the audit trail's advisory lock on PostgreSQL ("audit" in ASCII).
AUDIT_LOCK_KEY = 0x6175646974

# Set by the web layer (and the worker) so that every event names its request.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


# -- the key --------------------------------------------------------------------------------
#
# Each row's hash is an HMAC-SHA256 under PASSERELLE_AUDIT_KEY, a key kept apart from the
# database: someone who can write the database but has not the key can no longer delete rows
# and recompute the hashes after them (a plain SHA-256 chain let them, and `verify` said intact).
# Several comma-separated keys may be given: the first seals new rows, all verify (rotation).
# Each row names the key that sealed it by a fingerprint (`key_id`), never the key itself.

_keys: dict[str, bytes] = {}  # key_id -> key, the sealing key first
_SEALING: list[str] = []


# The row migration 0010 seals after the rows written before the key; its object_id is the
# last of them ("legacy until id N"), its prev_hash their last hash.
KEY_INTRODUCED = "audit.key_introduced"


class AuditKeyError(RuntimeError):
    """No audit key is configured, so no row can be sealed."""


def key_id(key: bytes) -> str:
    """The fingerprint a row keeps of the key that sealed it (reveals nothing of the key)."""
    return hmac.new(key, b"passerelle audit key id", hashlib.sha256).hexdigest()[:16]


def configure(keys: str) -> None:
    """Install the audit key(s) for this process (the first one seals new rows)."""
    parts = [k.strip().encode() for k in (keys or "").split(",") if k.strip()]
    if not parts:
        raise AuditKeyError("PASSERELLE_AUDIT_KEY is empty")
    _keys.clear()
    _keys.update((key_id(k), k) for k in parts)
    _SEALING[:] = [key_id(parts[0])]


def _sealing_key() -> tuple[str, bytes]:
    if not _SEALING:
        raise AuditKeyError("no audit key configured: call services.audit.configure() first")
    return _SEALING[0], _keys[_SEALING[0]]


def _payload(prev_hash: str | None, event: AuditEvent) -> bytes:
    # The actor and organisation as they were when the row was written (their snapshot), not the
    # foreign keys: those become NULL when a user is deleted, which would break the chain.
    return json.dumps(
        [
            prev_hash,
            event.at.isoformat(),
            event.actor_ref,
            event.actor_role,
            event.organisation_ref,
            event.action,
            event.object_type,
            event.object_id,
            event.request_id,
            event.outcome,
            event.key_id,
        ],
        separators=(",", ":"),
    ).encode()


def _digest(prev_hash: str | None, event: AuditEvent, key: bytes) -> str:
    """The row's seal: HMAC-SHA256 of the previous hash and its own fields."""
    return hmac.new(key, _payload(prev_hash, event), hashlib.sha256).hexdigest()


def _legacy_digest(prev_hash: str | None, event: AuditEvent) -> str:
    """The plain SHA-256 of the rows written before the key (migration 0010), as then computed.

    The ids are read from the snapshots (copied from the foreign keys at the upgrade), so a user
    deleted since leaves them verifiable.
    """
    payload = json.dumps(
        [
            prev_hash,
            event.at.isoformat(),
            int(event.actor_ref) if event.actor_ref is not None else None,
            event.actor_role,
            int(event.organisation_ref) if event.organisation_ref is not None else None,
            event.action,
            event.object_type,
            event.object_id,
            event.request_id,
            event.outcome,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _chain_head(session: so.Session) -> str | None:
    """The last event's hash, the chain locked until commit (one writer at a time on PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))
    return session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))


# Events wait in the session until its commit: (transaction they were recorded in, event).
_PENDING = "audit_pending"
_COLUMNS = ("at", "actor_id", "actor_ref", "actor_role", "organisation_id", "organisation_ref", "action",
            "object_type", "object_id", "request_id", "outcome", "key_id", "prev_hash", "hash")


def record(
    session: so.Session,
    action: str,
    *,
    actor: User | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: str = "success",
    request_id: str | None = None,
    **_ignored: Any,
) -> None:
    """Append one event to the trail when the caller commits (gone if it rolls back).

    The events are chained at commit time: on PostgreSQL the chain's lock is then held for
    the few statements of the commit, not for the rest of the request (under load, holding
    it from the first audited action to the commit queued every writer behind the slowest).
    """
    record_many(session, action, [object_id], actor=actor, object_type=object_type, outcome=outcome,
                request_id=request_id)


def record_many(
    session: so.Session,
    action: str,
    object_ids: Iterable[str | None],
    *,
    actor: User | None = None,
    object_type: str | None = None,
    outcome: str = "success",
    request_id: str | None = None,
) -> int:
    """Append one event per object when the caller commits; how many."""
    at = utcnow().replace(microsecond=0)
    if not session.in_transaction():
        session.begin()
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending = session.info.setdefault(_PENDING, [])
    count = 0
    for object_id in object_ids:
        pending.append((transaction, AuditEvent(
            at=at,
            actor_id=actor.id if actor else None,
            actor_ref=str(actor.id) if actor else None,
            actor_role=actor.role if actor else None,
            organisation_id=actor.organisation_id if actor else None,
            organisation_ref=str(actor.organisation_id) if actor and actor.organisation_id else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            request_id=request_id or request_id_var.get(),
            outcome=outcome,
        )))
        count += 1
    return count


@sa.event.listens_for(so.Session, "before_commit")
def _write_pending(session: so.Session) -> None:
    """Chain and insert the session's pending events, last statements before the commit."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    kid, key = _sealing_key()  # before the lock: no key, no row, nothing held
    prev_hash = _chain_head(session)
    rows = []
    for _transaction, event in pending:
        event.key_id = kid
        event.prev_hash = prev_hash
        event.hash = prev_hash = _digest(prev_hash, event, key)
        rows.append({c: getattr(event, c) for c in _COLUMNS})
    # One executemany, not one INSERT per event (no ids needed back).
    session.execute(sa.insert(AuditEvent), rows)


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _drop_rolled_back(session: so.Session, previous: so.SessionTransaction) -> None:
    """A savepoint rolled back forgets the events recorded within it."""
    pending = session.info.get(_PENDING)
    if pending and previous.nested:
        session.info[_PENDING] = [(t, e) for t, e in pending if not _within(t, previous)]


@sa.event.listens_for(so.Session, "after_transaction_end")
def _drop_uncommitted(session: so.Session, transaction: so.SessionTransaction) -> None:
    """The session's transaction ended without a commit (rollback, close): nothing to write."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _within(transaction: so.SessionTransaction | None, ancestor: so.SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


# -- verifying ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """Where the trail stops being trustworthy: the first row concerned, and why.

    `kind`: "broken" (the row does not follow from the one before: edited, or rows deleted
    before it), "unknown_key" (sealed with a key not configured: a wrong or rotated
    PASSERELLE_AUDIT_KEY), "legacy_after_key" (an unkeyed row after keyed ones: forged),
    "truncated" (a checkpoint saw rows that are gone), "checkpoint_mismatch" (the row a
    checkpoint saw has another hash now), "checkpoint_forged" (a checkpoint line whose
    signature is wrong), "checkpoint_unknown_key" (signed with a key not configured).
    """

    kind: str
    row_id: int
    key_id: str | None = None


@dataclass
class Verdict:
    """What `check` found: the breaks (empty: intact), the head, the checkpoints used."""

    breaks: list[Break] = field(default_factory=list)
    rows: int = 0
    head_id: int | None = None
    legacy_rows: int = 0
    checkpoints: int = 0

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def first_broken_id(self) -> int | None:
        return min((b.row_id for b in self.breaks), default=None)


def check(session: so.Session, checkpoints: Iterable[Checkpoint] = ()) -> Verdict:
    """Verify the chain row by row with the configured keys, then against the checkpoints.

    Rows written before migration 0010 (no `key_id`) are checked as they were sealed, by plain
    SHA-256; they may only come before the boundary row the upgrade sealed with the key
    (`KEY_INTRODUCED`, naming the last legacy id), whose HMAC covers the last legacy hash: so
    they cannot be rewritten either, and nobody can turn keyed rows into "legacy" ones. One
    break is reported per kind, at its first row: after a break every later row is suspect.
    """
    verdict = Verdict()
    seen: dict[str, Break] = {}

    def found(kind: str, row_id: int, kid: str | None = None) -> None:
        seen.setdefault(kind, Break(kind, row_id, kid))

    prev: str | None = None
    keyed = False
    first_legacy: int | None = None
    last_legacy: int | None = None
    hashes: dict[int, str | None] = {}
    wanted = {c.row_id for c in checkpoints}
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)):
        verdict.rows += 1
        verdict.head_id = event.id
        if event.id in wanted:
            hashes[event.id] = event.hash
        if event.key_id is None:
            verdict.legacy_rows += 1
            if keyed:
                found("legacy_after_key", event.id)
            first_legacy = event.id if first_legacy is None else first_legacy
            last_legacy = event.id
            expected: str | None = _legacy_digest(prev, event)
        else:
            if not keyed and last_legacy is not None and not (
                    event.action == KEY_INTRODUCED and event.object_id == str(last_legacy)):
                # Legacy rows are trusted only when closed by the boundary the upgrade sealed.
                found("legacy_after_key", first_legacy or last_legacy)
            keyed = True
            if event.key_id in _keys:
                expected = _digest(prev, event, _keys[event.key_id])
            else:
                found("unknown_key", event.id, event.key_id)
                expected = event.hash  # cannot tell: the key is what is wrong
        if event.prev_hash != prev or event.hash != expected:
            found("broken", event.id)
        prev = event.hash
    if last_legacy is not None and not keyed:
        # Nothing but unkeyed rows: the sealed boundary is gone, or every row was rewritten
        # without the key by someone who dropped the key ids: none of them can be trusted.
        found("legacy_after_key", first_legacy or last_legacy)
    for cp in checkpoints:
        verdict.checkpoints += 1
        if cp.key_id not in _keys:
            found("checkpoint_unknown_key", cp.row_id, cp.key_id)
            continue
        if not cp.authentic():
            found("checkpoint_forged", cp.row_id)
            continue
        if verdict.head_id is None or verdict.head_id < cp.row_id:
            # The trail ends before a row a checkpoint saw: its tail was cut.
            found("truncated", (verdict.head_id or 0) + 1)
        elif hashes.get(cp.row_id) != cp.hash:
            found("checkpoint_mismatch", cp.row_id)
    verdict.breaks = sorted(seen.values(), key=lambda b: b.row_id)
    return verdict


def seal_legacy(connection: sa.Connection) -> int | None:
    """Close the rows written before the key with a sealed boundary row (migration 0010).

    The rows themselves are not rewritten: re-sealing them would vouch, under the key, for
    whatever a writer may already have changed, and a break they hold stays visible. The
    boundary's HMAC covers their last hash, so from now on they cannot be rewritten either.
    Returns the last legacy id (None: the trail was empty, nothing to close).
    """
    # The declarative stubs type __table__ as any FromClause; a mapped class's is its Table.
    table = cast(sa.Table, AuditEvent.__table__)
    last = connection.execute(sa.select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    if last is None:
        return None
    kid, key = _sealing_key()
    event = AuditEvent(at=utcnow().replace(microsecond=0), action=KEY_INTRODUCED, object_type="audit",
                       object_id=str(last.id), outcome="success", key_id=kid, prev_hash=last.hash)
    event.hash = _digest(last.hash, event, key)
    connection.execute(sa.insert(table).values(
        at=event.at, action=event.action, object_type=event.object_type, object_id=event.object_id,
        outcome=event.outcome, key_id=kid, prev_hash=event.prev_hash, hash=event.hash))
    return int(last.id)


def verify(session: so.Session) -> list[int]:
    """Ids of the first row of each break found (empty: intact); see `check`."""
    return [b.row_id for b in check(session).breaks]


# -- checkpoints: the head anchored outside the database ------------------------------------
#
# A writer without the key cannot forge rows, but she can delete the last ones: nothing after
# them is left to betray it. The periodic job `audit_checkpoint` writes the head (last id, its
# hash) to the application log, signed with the key; `passerelle audit verify --checkpoints`
# reads those lines back, and a trail ending before a logged head was cut. The log lives
# outside the database (and is shipped elsewhere in production), which is the point: stored in
# a table, the checkpoints would be deleted with the rows.

CHECKPOINT_PREFIX = "audit-checkpoint"
# Plain key=value words: the line survives JSON logging (web.logging) and is found in any line.
_CHECKPOINT = re.compile(
    CHECKPOINT_PREFIX + r" id=(?P<id>\d+) hash=(?P<hash>[0-9a-f]{64}) at=(?P<at>\S+) "
    r"key=(?P<key>[0-9a-f]{16}) mac=(?P<mac>[0-9a-f]{64})"
)


@dataclass(frozen=True)
class Checkpoint:
    """The head of the trail at a moment, signed: (last id, its hash, when, which key, HMAC)."""

    row_id: int
    hash: str
    at: str
    key_id: str
    mac: str

    def _message(self) -> bytes:
        # Its own prefix: a checkpoint's signature can never pass for a row's seal.
        return f"checkpoint|{self.row_id}|{self.hash}|{self.at}".encode()

    def authentic(self) -> bool:
        key = _keys.get(self.key_id)
        if key is None:
            return False
        expected = hmac.new(key, self._message(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.mac)

    def line(self) -> str:
        """The line written to the log."""
        return (f"{CHECKPOINT_PREFIX} id={self.row_id} hash={self.hash} at={self.at} "
                f"key={self.key_id} mac={self.mac}")


def checkpoint(session: so.Session) -> Checkpoint | None:
    """The signed head of the trail now (None while the trail is empty)."""
    head = session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc())
                           .limit(1)).first()
    if head is None or head.hash is None:
        return None
    kid, key = _sealing_key()
    at = utcnow().replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned = Checkpoint(head.id, head.hash, at, kid, "")
    mac = hmac.new(key, unsigned._message(), hashlib.sha256).hexdigest()
    return Checkpoint(head.id, head.hash, at, kid, mac)


def read_checkpoints(lines: Iterable[str]) -> list[Checkpoint]:
    """Every checkpoint found in these lines (a log file: other lines are skipped)."""
    found = []
    for line in lines:
        for m in _CHECKPOINT.finditer(line):
            found.append(Checkpoint(int(m["id"]), m["hash"], m["at"], m["key"], m["mac"]))
    return found


def search(
    session: so.Session,
    *,
    action: str | None = None,
    actor_email: str | None = None,
    object_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    outcome: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[Any]:
    """One page of events, newest first, as (event, actor e-mail) rows.

    `action` matches a prefix ("household." finds every household action); `since` and
    `until` are inclusive days (UTC).
    """
    stmt = (
        sa.select(AuditEvent, User.email)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
    )
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if actor_email:
        stmt = stmt.where(User.email == actor_email.strip().lower())
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id.strip())
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    if since:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        stmt = stmt.where(AuditEvent.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
    page = max(1, min(page, MAX_PAGE))
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [tuple(row) for row in session.execute(stmt.limit(per_page).offset((page - 1) * per_page))]
    return Page(items=rows, page=page, per_page=per_page, total=total)


def actions(session: so.Session) -> list[str]:
    """Every action name present in the trail (for the search form)."""
    return list(session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
