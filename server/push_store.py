"""One push as one transaction: lock, load, decide (``push.py``), write, notify.

A handful of statements whatever the push size (up to 1,000 changes):

1. lock every touched target that exists, ``ORDER BY uid FOR UPDATE`` — one stable
   order for every push, so concurrent pushes queue instead of deadlocking;
2. load change ids already recorded (duplicates) and their targets;
3. one conflict query for every (target, base_version, field group) of the push;
4. write: new targets (``INSERT .. ON CONFLICT (uid) DO NOTHING``, in uid order),
   updated targets, audit rows — each one statement over a JSON record set;
5. ``pg_notify`` in the same transaction, so long-polls wake when it commits.

Two pushes creating the same new uid: the later insert waits for the earlier one and
then inserts nothing; the push is then retried from the start, now finding the target
locked and existing (so its create is ``converged`` or ``rejected``).
"""

from __future__ import annotations

import asyncio
import random
from uuid import UUID

from psycopg import AsyncConnection, errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from protocol.wire import PushRequest, Result

from .push import ConflictKey, Decider, Plan, field_group
from .records import TARGET_COLUMNS, Target, target_from_row

NOTIFY_CHANNEL = "pipetrack_changes"
_ATTEMPTS = 6


class _RaceLost(Exception):
    """Another push created one of our new targets first; start again."""


async def push(pool: AsyncConnectionPool, request: PushRequest, user: str) -> list[Result]:
    """Decide and write one push; retries whole transactions lost to a race."""
    for attempt in range(_ATTEMPTS):
        try:
            async with pool.connection() as conn, conn.transaction():
                plan = await _push_once(conn, request, user)
            return plan.results
        except (_RaceLost, errors.UniqueViolation, errors.DeadlockDetected):
            if attempt == _ATTEMPTS - 1:
                raise
            await asyncio.sleep(random.uniform(0.001, 0.02) * (attempt + 1))
    raise AssertionError("unreachable")


async def _push_once(conn: AsyncConnection, request: PushRequest, user: str) -> Plan:
    changes = request.changes
    cur = await conn.execute("SELECT now()")
    (now,) = await cur.fetchone()
    uids = sorted({c.target for c in changes})
    targets = await _load_targets(conn, uids, lock=True)
    seen = await _seen(conn, [c.change_id for c in changes])
    missing = sorted(set(seen.values()) - targets.keys())
    if missing:  # duplicates recorded on targets this push does not name
        targets.update(await _load_targets(conn, missing, lock=False))
    conflicts = await _conflicts(conn, request, targets)
    decider = Decider(user=user, now=now, targets=targets, seen=seen, conflicts=conflicts)
    plan = decider.decide_all(changes)
    if plan.audit:
        ids = {uid: t.id for uid, t in targets.items()}
        ids.update(await _insert_created(conn, plan))
        await _update_targets(conn, plan)
        await _insert_audit(conn, plan, ids, request.device_id, user, now)
        await conn.execute("SELECT pg_notify(%s, '')", (NOTIFY_CHANNEL,))
    return plan


async def _load_targets(conn: AsyncConnection, uids: list[UUID], *, lock: bool) -> dict:
    sql = f"SELECT {TARGET_COLUMNS} FROM targets t WHERE t.uid = ANY(%s) ORDER BY t.uid"
    cur = await conn.execute(sql + (" FOR UPDATE" if lock else ""), (uids,))
    return {row[1]: target_from_row(row) for row in await cur.fetchall()}


async def _seen(conn: AsyncConnection, change_ids: list[UUID]) -> dict[UUID, UUID]:
    cur = await conn.execute(
        "SELECT a.change_id, t.uid FROM audit_log a JOIN targets t ON t.id = a.target_id"
        " WHERE a.change_id = ANY(%s)",
        (change_ids,),
    )
    return dict(await cur.fetchall())


async def _conflicts(
    conn: AsyncConnection, request: PushRequest, targets: dict[UUID, Target]
) -> set[ConflictKey]:
    """Which (target, base, group) have another device's change to that group after base."""
    keys = {
        (c.target, c.base_version, field_group(c))
        for c in request.changes
        if c.target in targets and field_group(c) and isinstance(c.base_version, int)
    }
    if not keys:
        return set()
    rows = [{"uid": str(u), "base": b, "grp": g} for u, b, g in keys]
    cur = await conn.execute(
        "SELECT q.uid, q.base, q.grp FROM jsonb_to_recordset(%s) AS q(uid uuid, base bigint,"
        " grp text) JOIN targets t ON t.uid = q.uid WHERE EXISTS (SELECT 1 FROM audit_log a"
        " WHERE a.target_id = t.id AND a.version > q.base AND a.device_id <> %s"
        " AND CASE q.grp WHEN 'status' THEN a.touches_status ELSE a.touches_details END)",
        (Jsonb(rows), request.device_id),
    )
    return {(uid, base, grp) for uid, base, grp in await cur.fetchall()}


_TARGET_RECORD = (
    "r(uid uuid, name text, description text, markets text[], status text, version bigint,"
    " status_changed_at timestamptz, status_changed_by text, created_at timestamptz,"
    " last_updated timestamptz, updated_by text)"
)


def _target_json(t: Target) -> dict:
    return {
        "uid": str(t.uid),
        "name": t.name,
        "description": t.description,
        "markets": list(t.markets),
        "status": t.status,
        "version": t.version,
        "status_changed_at": _iso(t.status_changed_at),
        "status_changed_by": t.status_changed_by,
        "created_at": _iso(t.created_at),
        "last_updated": _iso(t.last_updated),
        "updated_by": t.updated_by,
    }


async def _insert_created(conn: AsyncConnection, plan: Plan) -> dict[UUID, int]:
    if not plan.created:
        return {}
    rows = [_target_json(plan.created[uid]) for uid in sorted(plan.created)]
    cur = await conn.execute(
        "INSERT INTO targets (uid, name, description, markets, pipeline_status, version,"
        " status_changed_at, status_changed_by, created_at, last_updated, updated_by)"
        " SELECT r.uid, r.name, r.description, r.markets, r.status, r.version,"
        " r.status_changed_at, r.status_changed_by, r.created_at, r.last_updated, r.updated_by"
        f" FROM jsonb_to_recordset(%s) AS {_TARGET_RECORD} ORDER BY r.uid"
        " ON CONFLICT (uid) DO NOTHING RETURNING uid, id",
        (Jsonb(rows),),
    )
    ids = dict(await cur.fetchall())
    if len(ids) != len(rows):
        raise _RaceLost()
    return ids


async def _update_targets(conn: AsyncConnection, plan: Plan) -> None:
    if not plan.updated:
        return
    rows = [_target_json(t) for t in plan.updated.values()]
    await conn.execute(
        "UPDATE targets t SET name = r.name, description = r.description,"
        " markets = r.markets, pipeline_status = r.status, version = r.version,"
        " status_changed_at = r.status_changed_at, status_changed_by = r.status_changed_by,"
        " last_updated = r.last_updated, updated_by = r.updated_by,"
        " xid = pg_current_xact_id()"
        f" FROM jsonb_to_recordset(%s) AS {_TARGET_RECORD} WHERE t.uid = r.uid",
        (Jsonb(rows),),
    )


async def _insert_audit(
    conn: AsyncConnection, plan: Plan, ids: dict[UUID, int], device_id: str, user: str, now
) -> None:
    rows = [
        {
            "target_id": ids[a.target],
            "change_id": str(a.change.change_id),
            "op": a.change.op,
            "old_status": a.old_status,
            "new_status": a.new_status,
            "touches_status": a.touches_status,
            "touches_details": a.touches_details,
            "version": a.version,
            "change_timestamp": _iso(a.change_timestamp),
            "note": a.note,
            "ord": ord_,
        }
        for ord_, a in enumerate(plan.audit)
    ]
    await conn.execute(
        "INSERT INTO audit_log (target_id, change_id, op, old_status, new_status,"
        " touches_status, touches_details, version, change_timestamp, recorded_at,"
        " changed_by, device_id, note)"
        " SELECT r.target_id, r.change_id, r.op, r.old_status, r.new_status,"
        " r.touches_status, r.touches_details, r.version, r.change_timestamp, %s, %s, %s,"
        " r.note FROM jsonb_to_recordset(%s) AS r(target_id int, change_id uuid, op text,"
        " old_status text, new_status text, touches_status boolean, touches_details boolean,"
        " version bigint, change_timestamp timestamptz, note text, ord int) ORDER BY r.ord",
        (now, user, device_id, Jsonb(rows)),
    )


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None
