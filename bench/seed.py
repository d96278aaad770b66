"""The server's tables seeded by SQL (generate_series), and the plan of status changes.

Seeded rows follow server/migrations/ (the wire JSON is filled by its triggers).
Target ``i`` (1-based) has the uid ``md5('bench-target-' || i)::uuid`` in every
database, so two databases seeded alike hold the same targets (the push baseline
replays the daemon's changes on a twin). A target with ``history`` audit rows was
created (version 1, status Cold) and then moved through ``STATUSES`` once per further
version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from hashlib import md5

import psycopg

STATUSES = ("Cold", "Active", "Hot", "Closed", "Passed")
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")

_STATUS_ARRAY = "ARRAY[" + ", ".join(f"'{s}'" for s in STATUSES) + "]"
_WORD_ARRAY = "ARRAY[" + ", ".join(f"'{w}'" for w in WORDS) + "]"

_TARGETS_SQL = f"""
INSERT INTO targets (uid, name, description, pipeline_status, markets, version,
                     status_changed_at, status_changed_by, created_at, last_updated, updated_by)
SELECT md5('bench-target-' || i)::uuid,
       format('Target %%s %%s', lpad(i::text, 6, '0'), ({_WORD_ARRAY})[1 + i %% {len(WORDS)}]),
       'seeded by the benchmark',
       ({_STATUS_ARRAY})[1 + (%(history)s - 1) %% {len(STATUSES)}],
       ARRAY['market-' || (i %% 20)],
       %(history)s,
       now() - interval '10 days', 'seed', now() - interval '400 days', now(), 'seed'
FROM generate_series(1, %(n)s) AS i
"""

_AUDIT_SQL = f"""
INSERT INTO audit_log (target_id, target_uid, change_id, op, old_status, new_status,
                       touches_status, touches_details, version, change_timestamp,
                       recorded_at, changed_by, device_id, note)
SELECT t.id, t.uid, md5('bench-change-' || t.id || '-' || v)::uuid,
       CASE WHEN v = 1 THEN 'create' ELSE 'set_status' END,
       CASE WHEN v = 1 THEN NULL ELSE ({_STATUS_ARRAY})[1 + (v - 2) %% {len(STATUSES)}] END,
       ({_STATUS_ARRAY})[1 + (v - 1) %% {len(STATUSES)}],
       true, v = 1, v,
       now() - interval '10 days', now(), 'seed', 'seed-device', NULL
FROM targets t CROSS JOIN generate_series(1, %(history)s) AS v
"""


def target_uid(i: int) -> str:
    """The uid of seeded target ``i`` (as ``md5('bench-target-' || i)::uuid``)."""
    return str(uuid.UUID(md5(f"bench-target-{i}".encode()).hexdigest()))


def seed_server(database_url: str, targets: int, history: int = 1) -> None:
    """``targets`` targets with ``history`` audit rows each, in one transaction."""
    with psycopg.connect(database_url) as conn:
        conn.execute(_TARGETS_SQL, {"n": targets, "history": history})
        conn.execute(_AUDIT_SQL, {"history": history})
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE targets")
        conn.execute("VACUUM ANALYZE audit_log")


def change_plan(
    uids: Sequence[str], per_target: int, start: dict[str, str | None]
) -> Iterator[tuple[str, str]]:
    """(uid, status) for ``per_target`` rounds over ``uids``, from the statuses ``start``:
    every change really changes the status (the store writes nothing for a no-op)."""
    current = dict(start)
    for _ in range(per_target):
        for uid in uids:
            was = current[uid]
            current[uid] = STATUSES[(STATUSES.index(was) + 1) % len(STATUSES) if was else 0]
            yield uid, current[uid]
