"""The physical limits the sync benchmarks are measured against, straight in PostgreSQL.

- :func:`set_based_push`: a push's database work with nothing else around it — the
  changes copied in, the server's decisions on status changes (``server/push.py``:
  duplicates, converged changes, per-field conflicts, a conflict blocking the target's
  later changes; tests/bench/test_limits.py holds them equal), versions numbered per
  target, audit rows inserted and targets updated: one transaction, a handful of
  set-based statements, one connection. What the benchmark never sends is not checked
  (creates, edits, unknown targets, a base version ahead of the server's).
- :func:`copy_out`: ``COPY (SELECT ...) TO STDOUT`` of the rows a full pull delivers.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from protocol.wire import Change

from .harness import now

_INCOMING = """
CREATE TEMP TABLE incoming (ord int, change_id uuid, target uuid, base bigint, status text,
                            changed_at timestamptz, note text) ON COMMIT DROP
"""

_LOCK = """
SELECT t.id FROM targets t WHERE t.uid IN (SELECT DISTINCT target FROM incoming)
ORDER BY t.uid FOR UPDATE
"""

_APPLY = """
WITH checked AS (
    SELECT i.*, t.id AS target_id, t.version AS cur_version, t.pipeline_status AS cur_status,
           EXISTS (SELECT 1 FROM audit_log d WHERE d.change_id = i.change_id) AS dup,
           EXISTS (SELECT 1 FROM audit_log a WHERE a.target_id = t.id AND a.version > i.base
                   AND a.device_id <> %(device)s AND a.touches_status) AS conflict
    FROM incoming i JOIN targets t ON t.uid = i.target
), live AS (
    -- the target's status before each change, through the changes not already recorded
    SELECT c.*, coalesce(lag(c.status) OVER (PARTITION BY c.target_id ORDER BY c.ord),
                         c.cur_status) AS before
    FROM checked c WHERE NOT c.dup
), held AS (
    -- a change asking for the status the target has converges: neither conflict nor write
    SELECT l.*, l.status IS NOT DISTINCT FROM l.before AS converged,
           bool_or(l.conflict AND l.status IS DISTINCT FROM l.before)
               OVER (PARTITION BY l.target_id ORDER BY l.ord) AS blocked
    FROM live l
), numbered AS (
    SELECT h.*, h.cur_version + row_number() OVER w AS version,
           coalesce(lag(h.status) OVER w, h.cur_status) AS old_status
    FROM held h WHERE NOT h.blocked AND NOT h.converged
    WINDOW w AS (PARTITION BY h.target_id ORDER BY h.ord)
), ins AS (
    INSERT INTO audit_log (target_id, target_uid, change_id, op, old_status, new_status,
                           touches_status, touches_details, version, change_timestamp,
                           recorded_at, changed_by, device_id, note)
    SELECT target_id, target, change_id, 'set_status', old_status, status, true, false, version,
           least(changed_at, now()), now(), %(user)s, %(device)s, note
    FROM numbered ORDER BY ord
    RETURNING target_id, version, new_status, change_timestamp
)
UPDATE targets t
SET pipeline_status = l.new_status, version = l.version,
    status_changed_at = l.change_timestamp, status_changed_by = %(user)s,
    last_updated = now(), updated_by = %(user)s, xid = pg_current_xact_id()
FROM (SELECT DISTINCT ON (target_id) * FROM ins ORDER BY target_id, version DESC) AS l
WHERE t.id = l.target_id
"""


def set_based_push(
    database_url: str, changes: Sequence[Change], device: str, user: str, *, all_new: bool = True
) -> float:
    """Apply ``changes`` (status changes) set-based in one transaction; seconds taken
    (connecting excluded). ``all_new``: check that every change became an audit row
    (the benchmark's changes have neither duplicates nor conflicts)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT 1")
        start = now()
        with conn.transaction():
            conn.execute(_INCOMING)
            with conn.cursor().copy(
                "COPY incoming (ord, change_id, target, base, status, changed_at, note) FROM STDIN"
            ) as copy:
                for ord_, c in enumerate(changes):
                    copy.write_row(
                        (
                            ord_,
                            c.change_id,
                            c.target,
                            c.base_version,
                            c.status,
                            c.changed_at,
                            c.note,
                        )
                    )
            conn.execute(_LOCK).fetchall()
            conn.execute(_APPLY, {"device": device, "user": user})
            conn.execute("SELECT pg_notify('pipetrack_changes', '')")
        seconds = now() - start
        (written,) = conn.execute(
            "SELECT count(*) FROM audit_log WHERE device_id = %s", (device,)
        ).fetchone()
    if all_new and written != len(changes):
        raise RuntimeError(f"baseline wrote {written} audit rows for {len(changes)} changes")
    return seconds


#: What a full pull reads: every target, every audit row with its target's uid.
PULL_QUERIES = (
    "SELECT t.uid, t.name, t.description, t.markets, t.pipeline_status, t.version,"
    " t.status_changed_at, t.status_changed_by, t.created_at, t.last_updated, t.updated_by,"
    " t.xid, t.id FROM targets t ORDER BY t.xid, t.id",
    "SELECT a.id, a.change_id, t.uid, a.op, a.old_status, a.new_status, a.change_timestamp,"
    " a.recorded_at, a.changed_by, a.device_id, a.note, a.version, a.xid"
    " FROM audit_log a JOIN targets t ON t.id = a.target_id ORDER BY a.xid, a.id",
)


def copy_out(database_url: str) -> tuple[float, int]:
    """``COPY (pull query) TO STDOUT`` of both tables, every byte read by the client;
    (seconds, bytes)."""
    size = 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT 1")
        start = now()
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for query in PULL_QUERIES:
                with conn.cursor().copy(f"COPY ({query}) TO STDOUT") as copy:
                    for block in copy:
                        size += len(block)
        return now() - start, size
