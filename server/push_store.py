"""One push as one transaction: lock, load, decide (``push.py``), write, notify.

A handful of statements whatever the push size (up to 1,000 changes):

1. lock every touched target that exists, ``ORDER BY uid FOR UPDATE`` — one stable
   order for every push, so concurrent pushes queue instead of deadlocking;
2. one query for the facts: the server clock, change ids already recorded
   (duplicates) and, for every (target, base_version, field group) of the push,
   whether another device changed that group after that base (conflicts);
3. one statement writing everything over JSON record sets: new targets
   (``INSERT .. ON CONFLICT (uid) DO NOTHING``, in uid order), updated targets, audit
   rows, and ``pg_notify`` (delivered when the transaction commits, waking long-polls).

Two pushes creating the same new uid: the later insert waits for the earlier one and
then inserts nothing; the push is then retried from the start, now finding the target
locked and existing (so its create is ``converged`` or ``rejected``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic_core import to_json

from protocol.wire import CURSOR_HEADER, PushRequest

from .auth import Revoked, token_valid
from .pull import BadCursor, Cursor, StaleCursor, check
from .push import Decider, Plan, field_group
from .records import TARGET_COLUMNS, target_from_row

log = logging.getLogger("pipetrack.server")

NOTIFY_CHANNEL = "pipetrack_changes"
_ATTEMPTS = 6


class _RaceLost(Exception):
    """Another push created one of our new targets first; start again."""


async def push(
    pool: AsyncConnectionPool,
    request: PushRequest,
    user: str,
    token: str,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """Decide and write one push; retries whole transactions lost to a race. ``token``:
    the hash of the request's token, checked again in the transaction (Revoked);
    ``cursor``: the device's pull cursor, when it sent one (see
    :class:`~server.pull.StaleCursor`; BadCursor, before anything is asked of the
    database, when it is no cursor at all)."""
    position = None if cursor is None else _header_cursor(cursor)
    for attempt in range(_ATTEMPTS):
        try:
            # pipeline mode: statements that need no answer in between go in one trip
            async with pool.connection() as conn, conn.pipeline(), conn.transaction():
                plan = await _push_once(conn, request, user, token, position)
            return plan.results
        except (_RaceLost, errors.UniqueViolation, errors.DeadlockDetected) as err:
            if attempt == _ATTEMPTS - 1:
                raise
            log.info("push retried after %s", type(err).__name__.strip("_"))
            await asyncio.sleep(random.uniform(0.001, 0.02) * (attempt + 1))
    raise AssertionError("unreachable")


def _header_cursor(text: str) -> Cursor:
    """The push's cursor header read; BadCursor (400) when it is no cursor at all (a 409,
    StaleCursor, is for a cursor of another database: this one restored since)."""
    try:
        return Cursor.decode(text)
    except BadCursor:
        raise BadCursor(
            f"the {CURSOR_HEADER} header is malformed: it is not a cursor this server"
            " gave out (send the cursor of the device's last pull, or none)"
        ) from None


async def _push_once(
    conn: AsyncConnection, request: PushRequest, user: str, token: str, cursor: Cursor | None
) -> Plan:
    changes = request.changes
    locked = await conn.execute(_LOCK_SQL, (sorted({c.target for c in changes}),))
    facts = await _facts(conn, request, token, cursor)
    targets = {row[1]: target_from_row(row) for row in await locked.fetchall()}
    now, seen, conflicts = await facts
    missing = sorted(set(seen.values()) - targets.keys())
    if missing:  # duplicates recorded on targets this push does not name
        targets.update(await _load_targets(conn, missing, lock=False))
    decider = Decider(user=user, now=now, targets=targets, seen=seen, conflicts=conflicts)
    plan = decider.decide_all(changes)
    if plan.audit:
        await _write(conn, plan, targets, request.device_id, user, now)
    return plan


_TARGETS_SQL = f"SELECT {TARGET_COLUMNS} FROM targets t WHERE t.uid = ANY(%s) ORDER BY t.uid"
_LOCK_SQL = _TARGETS_SQL + " FOR UPDATE"


async def _load_targets(conn: AsyncConnection, uids: list[UUID], *, lock: bool) -> dict:
    cur = await conn.execute(_LOCK_SQL if lock else _TARGETS_SQL, (uids,))
    return {row[1]: target_from_row(row) for row in await cur.fetchall()}


# A record set is estimated at 100 rows whatever it holds, so a join of one with
# targets scans the whole table; the redundant ``t.uid = ANY(array)`` gives the planner
# the real count and the uid index. The change ids go binary (``%b``): psycopg dumps a
# list as text in Python, 1,000 UUIDs ~5 ms, binary ~0.7 ms. The token is checked once
# the targets are locked (what the push reads was committed by then), and its user's
# row held to the commit: a revocation waits, so no push of that token lands after it.
_FACTS_SQL = """
SELECT now(),
  (SELECT value FROM server_meta WHERE key = 'epoch'),
  pg_snapshot_xmax(pg_current_snapshot())::text::numeric,
  (SELECT coalesce(jsonb_agg(jsonb_build_array(a.change_id, t.uid)), '[]')
     FROM audit_log a JOIN targets t ON t.id = a.target_id
    WHERE a.change_id = ANY(%(change_ids)b::uuid[])),
  (SELECT coalesce(jsonb_agg(jsonb_build_array(q.uid, q.base, q.grp)), '[]')
     FROM jsonb_to_recordset(%(keys)s) AS q(uid uuid, base bigint, grp text)
     JOIN targets t ON t.uid = q.uid AND t.uid = ANY(%(uids)s::uuid[])
    WHERE EXISTS (SELECT 1 FROM audit_log a
                   WHERE a.target_id = t.id AND a.version > q.base
                     AND a.device_id <> %(device)s
                     AND CASE q.grp WHEN 'status' THEN a.touches_status
                                    ELSE a.touches_details END)),
  """ + token_valid("%(token)s", hold=True)


async def _facts(conn: AsyncConnection, request: PushRequest, token: str, cursor: Cursor | None):
    """Sends the facts query; returns an awaitable of (the server clock, change ids
    already recorded -> their target, the (target, base_version, field group) that
    another device changed after that base). The awaitable raises Revoked when the
    token (hash ``token``) is no longer an enabled user's, StaleCursor when ``cursor``
    (the device's pull cursor) is not one of this database's."""
    keys = {
        (str(c.target), c.base_version, field_group(c))
        for c in request.changes
        if field_group(c) and isinstance(c.base_version, int)
    }
    params = {
        "change_ids": [c.change_id for c in request.changes],
        "keys": Jsonb([{"uid": u, "base": b, "grp": g} for u, b, g in keys]),
        "device": request.device_id,
        "uids": sorted({u for u, _, _ in keys}),
        "token": token,
    }
    cur = await conn.execute(_FACTS_SQL, params)

    async def answer():
        now, epoch, xmax, seen, conflicts, allowed = await cur.fetchone()
        if not allowed:
            raise Revoked()
        if cursor is not None:
            try:
                check(cursor, epoch, int(xmax))
            except BadCursor as err:
                raise StaleCursor(
                    f"{err}: this server's database was restored since this device last"
                    " pulled; pull again, then push"
                ) from None
        return (
            now,
            {UUID(change_id): UUID(uid) for change_id, uid in seen},
            {(UUID(uid), base, grp) for uid, base, grp in conflicts},
        )

    return answer()


_TARGET_RECORD = (
    "r(uid uuid, name text, description text, markets text[], status text, version bigint,"
    " status_changed_at timestamptz, status_changed_by text, created_at timestamptz,"
    " last_updated timestamptz, updated_by text)"
)

#: The audit rows' columns (the keys of ``Plan.audit``'s rows) and their types: sent as
#: one binary array each (parsing as much JSON cost PostgreSQL ~10 ms per 1,000 rows).
_AUDIT_COLUMNS = {
    "target": "uuid",
    "change_id": "uuid",
    "op": "text",
    "old_status": "text",
    "new_status": "text",
    "touches_status": "boolean",
    "touches_details": "boolean",
    "version": "bigint",
    "change_timestamp": "timestamptz",
    "note": "text",
}
_AUDIT_ARRAYS = ", ".join(f"%(audit_{name})b::{kind}[]" for name, kind in _AUDIT_COLUMNS.items())

# New targets, updated targets, audit rows and the NOTIFY in one statement. New targets
# go in uid order (concurrent pushes creating the same uids wait in one order).
_WRITE_SQL = f"""
WITH created AS (
  INSERT INTO targets (uid, name, description, markets, pipeline_status, version,
                       status_changed_at, status_changed_by, created_at, last_updated,
                       updated_by)
  SELECT r.uid, r.name, r.description, r.markets, r.status, r.version, r.status_changed_at,
         r.status_changed_by, r.created_at, r.last_updated, r.updated_by
    FROM jsonb_to_recordset(%(created)s) AS {_TARGET_RECORD}
   ORDER BY r.uid
  ON CONFLICT (uid) DO NOTHING
  RETURNING uid, id
), updated AS (
  UPDATE targets t
     SET name = r.name, description = r.description, markets = r.markets,
         pipeline_status = r.status, version = r.version,
         status_changed_at = r.status_changed_at, status_changed_by = r.status_changed_by,
         last_updated = r.last_updated, updated_by = r.updated_by,
         xid = pg_current_xact_id()
    FROM jsonb_to_recordset(%(updated)s) AS {_TARGET_RECORD}
   WHERE t.uid = r.uid AND t.uid = ANY(%(updated_uids)s::uuid[])  -- see _FACTS_SQL
  RETURNING t.id
), ids AS (
  SELECT uid, id FROM created
  UNION ALL
  SELECT uid, id FROM jsonb_to_recordset(%(existing)s) AS e(uid uuid, id int)
), audit AS (
  INSERT INTO audit_log (target_id, target_uid, change_id, op, old_status, new_status,
                         touches_status, touches_details, version, change_timestamp,
                         recorded_at, changed_by, device_id, note)
  SELECT ids.id, ids.uid, r.change_id, r.op, r.old_status, r.new_status, r.touches_status,
         r.touches_details, r.version, r.change_timestamp, %(now)s, %(user)s, %(device)s,
         r.note
    FROM unnest({_AUDIT_ARRAYS}) WITH ORDINALITY
         AS r(target, change_id, op, old_status, new_status, touches_status, touches_details,
              version, change_timestamp, note, ord)
    JOIN ids ON ids.uid = r.target
   ORDER BY r.ord
  RETURNING 1
)
SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM audit),
       pg_notify(%(channel)s, '')
"""


def _jsonb(values: list) -> Jsonb:
    """Record sets as JSON, dumped by pydantic_core (UUIDs and datetimes as
    they are; several times faster than json.dumps of converted values)."""
    return Jsonb(values, dumps=lambda obj: to_json(obj).decode())


async def _write(
    conn: AsyncConnection, plan: Plan, targets: dict, device_id: str, user: str, now
) -> None:
    params = {
        "created": _jsonb([plan.created[uid] for uid in sorted(plan.created)]),
        "updated": _jsonb(list(plan.updated.values())),
        "updated_uids": list(plan.updated),
        "existing": _jsonb([{"uid": uid, "id": t.id} for uid, t in targets.items()]),
        **{f"audit_{name}": [a[name] for a in plan.audit] for name in _AUDIT_COLUMNS},
        "now": now,
        "user": user,
        "device": device_id,
        "channel": NOTIFY_CHANNEL,
    }
    created, audited, _ = await (await conn.execute(_WRITE_SQL, params)).fetchone()
    if created != len(plan.created) or audited != len(plan.audit):
        raise _RaceLost()  # another push created one of our new uids first
