"""Reading the server's truth straight from its PostgreSQL database (what the audit holds,
what each target is), and the server's own log (how many requests it answered 5xx)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class AuditRow:
    change_id: str
    target: str
    op: str
    old_status: str | None
    new_status: str | None
    version: int
    changed_by: str
    device_id: str
    change_timestamp: datetime
    recorded_at: datetime
    note: str | None


def audit_rows(database_url: str, device_id: str | None = None) -> list[AuditRow]:
    """The server's audit rows (of one device), by target and version."""
    query = (
        "SELECT a.change_id::text, t.uid::text, a.op, a.old_status, a.new_status, a.version,"
        " a.changed_by, a.device_id, a.change_timestamp, a.recorded_at, a.note"
        " FROM audit_log a JOIN targets t ON t.id = a.target_id"
    )
    params: tuple[Any, ...] = ()
    if device_id is not None:
        query += " WHERE a.device_id = %s"
        params = (device_id,)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(query + " ORDER BY t.uid, a.version", params).fetchall()
    return [AuditRow(*row) for row in rows]


@dataclass(frozen=True)
class ServerTarget:
    uid: str
    name: str
    description: str
    markets: tuple[str, ...]
    status: str | None
    version: int
    status_changed_at: datetime | None = None


def server_targets(database_url: str) -> dict[str, ServerTarget]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT uid::text, name, description, markets, pipeline_status, version,"
            " status_changed_at FROM targets"
        ).fetchall()
    return {
        uid: ServerTarget(uid, name, description, tuple(markets), status, version, since)
        for uid, name, description, markets, status, version, since in rows
    }


def row_counts(database_url: str) -> dict[str, int]:
    """How many rows each table a request could write holds (to prove nothing was)."""
    with psycopg.connect(database_url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("targets", "audit_log", "users")
        }


_ACCESS = re.compile(r'"[A-Z]+ [^"]*HTTP/[\d.]+" (\d{3})')


def answered(log_text: str) -> dict[int, int]:
    """Status code -> how many requests uvicorn's access log shows answered with it."""
    counts: dict[int, int] = {}
    for match in _ACCESS.finditer(log_text):
        code = int(match.group(1))
        counts[code] = counts.get(code, 0) + 1
    return counts


def server_errors(log_text: str) -> tuple[int, int]:
    """(internal errors: 5xx other than 503, 503 "database unavailable") in a server log;
    a traceback logged without an access line counts as an internal error too."""
    codes = answered(log_text)
    unavailable = codes.get(503, 0)
    internal = sum(n for code, n in codes.items() if code >= 500 and code != 503)
    return max(internal, log_text.count("Traceback")), unavailable
