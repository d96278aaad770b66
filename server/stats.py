"""What the central database holds and how much it is used: ``pipetrack admin stats``.

One read-only transaction of counts (the audit log is scanned once: seconds at tens of
millions of rows, which an admin command can afford).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from protocol import STATUS_ORDER

#: "Recently", for changes and devices.
RECENT_DAYS = 7


@dataclass(frozen=True)
class Stats:
    targets: int
    #: Targets per pipeline status, in pipeline order; ``none``: no status yet.
    by_status: dict[str, int]
    changes: int  # audit rows
    changes_recent: int  # recorded in the last RECENT_DAYS days
    devices_recent: int  # devices those came from
    users: int
    users_enabled: int
    #: Users seen in the last 24 hours (not since midnight: the name is kept, it is the
    #: key of ``admin stats --json``, which scripts read).
    users_seen_today: int
    database_bytes: int
    postgres_version: str
    migration: str  # the last one applied, without ".sql"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "recent_days": RECENT_DAYS}


_SQL = f"""
SELECT
  (SELECT count(*) FROM targets),
  (SELECT coalesce(json_object_agg(coalesce(pipeline_status, 'none'), n), '{{}}')
     FROM (SELECT pipeline_status, count(*) AS n FROM targets GROUP BY 1) AS s),
  a.changes, a.recent, a.devices,
  (SELECT count(*) FROM users),
  (SELECT count(*) FROM users WHERE NOT disabled),
  (SELECT count(*) FROM users WHERE last_seen_at > now() - interval '1 day'),
  pg_database_size(current_database()),
  current_setting('server_version'),
  (SELECT name FROM schema_migrations ORDER BY version DESC LIMIT 1)
FROM (
  SELECT count(*) AS changes,
         count(*) FILTER (WHERE recorded_at > now() - interval '{RECENT_DAYS} days') AS recent,
         count(DISTINCT device_id)
           FILTER (WHERE recorded_at > now() - interval '{RECENT_DAYS} days') AS devices
  FROM audit_log
) AS a
"""


def read_stats(database_url: str) -> Stats:
    with psycopg.connect(database_url) as conn:
        conn.read_only = True
        row = conn.execute(_SQL).fetchone()
    assert row is not None  # one row, always
    targets, counts, changes, recent, devices, users, enabled, seen, size, version, last = row
    names = [*(str(status) for status in STATUS_ORDER), "none"]
    by_status = {name: counts.get(name, 0) for name in names}
    migration = (last or "none").removesuffix(".sql")
    return Stats(
        targets, by_status, changes, recent, devices, users, enabled, seen, size, version, migration
    )
