"""The pull: an opaque, gap-free cursor over targets and audit_log, and the long-poll.

Every row carries ``xid``, the id (xid8) of the transaction that last wrote it. A row's
*key* is ``(xid, id)``; rows are read in key order. A transaction's xid is assigned at
its first write, so a transaction can commit after another whose xid is larger: a
cursor "everything up to key K" alone would skip its rows.

Cursor state: ``K`` per table (the last key delivered) and ``X`` (the xids that were
still in progress, and so invisible, when the cursor was made, and are <= K's xid).

Invariant: every row whose key is <= K and whose xid is not in X has been delivered
(in its then-current state; a later write gives the row a new, larger key).

A pull (in one REPEATABLE READ snapshot) therefore reads the visible rows with
``key > K``, plus those with ``xid in X`` (now committed, or still invisible), in key
order. Rows of X are delivered whole (a push writes at most 1,000 of each, so a page
may exceed ``limit`` by that much in this rare case); rows after K fill the rest of
``limit``. The new K is the last key delivered; the new X is the snapshot's
in-progress list (``pg_snapshot_xip``) cut at the new K's xid. An xid
that is not in progress now and not in X either committed (so its rows were visible
to this or an earlier pull) or will be assigned later, larger than any visible xid
(``>= pg_snapshot_xmax``, so > K). Hence nothing is skipped; a row is delivered again
only when it was written again. Each full page moves K forward, so ``more`` ends.

A page also carries the current state of each target its history names that the
page's new targets cursor has not passed yet (see ``_referenced_targets``), so a client
never gets history for a target it does not know. (A target whose key is <= the new K
was delivered, in the state the snapshot sees, by this page or an earlier one: it is
visible, so its xid is in no X.)

Each row keeps its wire JSON in its ``wire`` column, written with the row (migration
0002_wire_json.sql); the page is those texts joined, never parsed or re-serialised.

The cursor also carries the database's epoch (``server_meta``): a cursor from another
database is refused with 400, as is one ahead of this database's xid horizon.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import time
from dataclasses import dataclass

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from .auth import Revoked, token_valid
from .listener import Notifier

Key = tuple[int, int]
_START: Key = (0, 0)
#: While long-polling, look again at least this often even without a notification.
_RECHECK_S = 5.0


class BadCursor(ValueError):
    pass


class StaleCursor(BadCursor):
    """A push sent with a cursor this database does not know (its device pulled from
    another database: this one was restored from a backup since). Its base versions may
    name versions this database lost or gave again: 409, nothing decided, pull again."""


@dataclass(frozen=True)
class Cursor:
    epoch: str
    targets: Key = _START
    audit: Key = _START
    pending: tuple[int, ...] = ()

    def encode(self) -> str:
        pending = ",".join(map(str, self.pending))
        raw = f"1|{self.epoch}|{_key(self.targets)}|{_key(self.audit)}|{pending}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise BadCursor("the cursor is not one this server gave out") from None
        match = _CURSOR.fullmatch(raw)
        if match is None:
            raise BadCursor("the cursor is not one this server gave out")
        epoch, tx, ti, ax, ai, pending = match.groups()
        xids = tuple(int(x) for x in pending.split(",")) if pending else ()
        return cls(epoch, (int(tx), int(ti)), (int(ax), int(ai)), xids)


_CURSOR = re.compile(r"1\|([0-9a-f]{32})\|(\d{1,20})\.(\d{1,20})\|(\d{1,20})\.(\d{1,20})\|([\d,]*)")


def _key(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


# With the token's check in the page's snapshot: a revocation committed before anything
# the page could hold is seen by it.
_SNAPSHOT_SQL = (
    "SELECT (SELECT value FROM server_meta WHERE key = 'epoch'),"
    " pg_snapshot_xmax(s)::text::numeric, ARRAY(SELECT pg_snapshot_xip(s)::text::numeric),"
    f" {token_valid('{token}')} FROM pg_current_snapshot() AS s"
)


def _page_sql(table: str, alias: str, named: str = "") -> tuple[str, str]:
    """(rows of the pending xids, rows after key K) — see the module docstring — each
    folded into one row: (rows read, the first ``keep`` rows' wire JSON joined by commas,
    the last one's key as [xid, id], and with ``named`` an array of that column of them).
    One value to fetch instead of a row each; every aggregate cheap per row (no uuid
    text, no numeric)."""
    key = f"({alias}.xid, {alias}.id)"
    order = f" ORDER BY {alias}.xid, {alias}.id"
    extra = f", {alias}.{named} AS named" if named else ""
    rows = (
        f"SELECT {alias}.wire AS j, {alias}.xid, {alias}.id{extra},"
        f" row_number() OVER ({order}) AS rn FROM {table} {alias} WHERE "
    )
    kept = " FILTER (WHERE p.rn <= %(keep)s)"
    # The aggregates read the sorted subquery in its order (no join above it: see
    # PostgreSQL's "Aggregate Expressions"); an ORDER BY in them would sort again.
    fold = (
        f"SELECT count(*), string_agg(p.j, ','){kept},"
        f" max(ARRAY[p.xid::text::int8, p.id]){kept}"
        + (f", array_agg(p.named){kept}" if named else "")
        + " FROM ({}) AS p"
    )
    pending = (
        f"{alias}.xid = ANY(%(pending)s::text[]::xid8[])"
        f" AND {key} <= (%(kx)s::text::xid8, %(ki)s)" + order
    )
    after = f"{key} > (%(kx)s::text::xid8, %(ki)s)" + order + " LIMIT %(n)s"
    return fold.format(rows + pending), fold.format(rows + after)


_TARGETS_SQL = _page_sql("targets", "t")
#: History rows also name their targets (ids), for :func:`_referenced_targets`.
_AUDIT_SQL = _page_sql("audit_log", "a", named="target_id")
_ALL = 2**62


@dataclass(frozen=True)
class Rows:
    """Rows of one table delivered by a page: their wire JSON (comma-joined, None when
    there are none), the last one's key and (history rows) their targets' ids."""

    json: str | None
    last: Key | None
    named: list[int]


@dataclass(frozen=True)
class Page:
    """One pull answer: the rows' wire JSON, as PostgreSQL wrote it, in comma-joined
    pieces (an empty list: no rows)."""

    targets: list[str]
    history: list[str]
    cursor: str
    more: bool

    def json(self) -> bytes:
        """The :class:`protocol.wire.PullResponse` JSON of this page."""
        more = "true" if self.more else "false"
        return (
            f'{{"targets":[{",".join(self.targets)}],"history":[{",".join(self.history)}],'
            f'"cursor":"{self.cursor}","more":{more}}}'
        ).encode()


async def pull_once(conn: AsyncConnection, cursor: Cursor | None, limit: int, token: str) -> Page:
    """One page after ``cursor``; Revoked when the token (hash ``token``) no longer is an
    enabled user's."""
    async with _snapshot(conn, token) as (epoch, xmax, in_progress, allowed):
        if not allowed:
            raise Revoked()
        if cursor is None:
            cursor = Cursor(epoch)
        check(cursor, epoch, int(xmax))
        targets, more_t = await _page(conn, _TARGETS_SQL, cursor.targets, cursor, limit)
        audit, more_a = await _page(conn, _AUDIT_SQL, cursor.audit, cursor, limit)
        k_t = _last_key(targets, cursor.targets)
        referenced = await _referenced_targets(conn, audit, k_t)
    k_a = _last_key(audit, cursor.audit)
    horizon = max(k_t[0], k_a[0])
    pending = tuple(sorted(int(x) for x in in_progress if int(x) <= horizon))
    return Page(
        targets=[r.json for r in targets if r.json] + referenced,
        history=[r.json for r in audit if r.json],
        cursor=Cursor(epoch, k_t, k_a, pending).encode(),
        more=more_t or more_a,
    )


@contextlib.asynccontextmanager
async def _snapshot(conn: AsyncConnection, token: str):
    """A REPEATABLE READ, READ ONLY transaction for the block, begun by the statement
    that reads its snapshot (one round trip, not three: parameterless statements go
    by the simple query protocol, which takes several, so the token's hash goes in as
    a literal); yields that snapshot's row."""
    cur = await conn.execute(_SNAPSHOT_QUERY.format(token=sql.Literal(token)))
    try:
        cur.nextset()
        row = await cur.fetchone()
        yield row
    except BaseException:
        await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


_BEGIN_SQL = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
_SNAPSHOT_QUERY = sql.SQL(_BEGIN_SQL + _SNAPSHOT_SQL)


def check(cursor: Cursor, epoch: str, xmax: int) -> None:
    """BadCursor unless ``cursor`` was given out by this database (its ``epoch``) and is
    not ahead of its xid horizon ``xmax``."""
    if cursor.epoch != epoch:
        raise BadCursor("the cursor is from another server database; pull again from the start")
    if max(cursor.targets[0], cursor.audit[0], *cursor.pending, 0) >= xmax:
        raise BadCursor("the cursor is ahead of this server database; pull again from the start")


async def _page(
    conn: AsyncConnection, sql: tuple[str, str], key: Key, cursor: Cursor, limit: int
) -> tuple[list[Rows], bool]:
    """Rows of the pending xids (all of them: a late transaction is delivered whole,
    so the pending set can be recomputed from the snapshot), then rows after K up to
    ``limit`` in all; and whether more rows after K remain."""
    params = {"kx": str(key[0]), "ki": key[1], "pending": [str(x) for x in cursor.pending]}
    parts: list[Rows] = []
    room = limit
    if cursor.pending:
        count, part = await _rows(conn, sql[0], {**params, "keep": _ALL})
        parts.append(part)
        room = max(limit - count, 0)
    count, part = await _rows(conn, sql[1], {**params, "n": room + 1, "keep": room})
    parts.append(part)
    return parts, count > room


async def _rows(conn: AsyncConnection, sql: str, params: dict) -> tuple[int, Rows]:
    """(rows read, the kept rows) of one folded query of :func:`_page_sql`."""
    count, text, last, *named = await (await conn.execute(sql, params)).fetchone()
    key = (int(last[0]), int(last[1])) if last else None
    return count, Rows(text, key, (named[0] or []) if named else [])


async def _referenced_targets(conn: AsyncConnection, audit: list[Rows], key: Key) -> list[str]:
    """The current state of every target the page's history names that the new targets
    cursor ``key`` has not passed: the two tables page independently, so a target
    changed late would otherwise reach a fresh device pages after its first history
    entries, and a client cannot record history of a target it does not know. Sent
    again later in its own place (clients apply a state only when its version is newer).
    (The page's own targets are never among them: their keys are all <= ``key``.)"""
    named = {i for r in audit for i in r.named}
    if not named:
        return []
    params = {"ids": sorted(named), "kx": str(key[0]), "ki": key[1]}
    (text,) = await (await conn.execute(_REFERENCED_SQL, params)).fetchone()
    return [text] if text else []


_REFERENCED_SQL = (
    "SELECT string_agg(t.wire, ',' ORDER BY t.id) FROM targets t"
    " WHERE t.id = ANY(%(ids)s::int[]) AND (t.xid, t.id) > (%(kx)s::text::xid8, %(ki)s)"
)


def _last_key(parts: list[Rows], default: Key) -> Key:
    return max([default, *(p.last for p in parts if p.last is not None)])


async def pull(
    pool: AsyncConnectionPool,
    notifier: Notifier,
    cursor: Cursor | None,
    limit: int,
    wait: float,
    token: str,
) -> Page:
    """Pull; with ``wait`` > 0 and nothing new, wait (up to ``wait`` s) for a commit.
    Every read checks the token (hash ``token``) again: a long-poll parked before its
    token was revoked raises Revoked when it wakes, instead of answering what woke it."""
    deadline = time.monotonic() + wait
    while True:
        woken = notifier.waiter()
        async with pool.connection() as conn:
            response = await pull_once(conn, cursor, limit, token)
        remaining = deadline - time.monotonic()
        if response.targets or response.history or remaining <= 0 or notifier.closing:
            return response
        cursor = Cursor.decode(response.cursor)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken.wait(), timeout=min(remaining, _RECHECK_S))
