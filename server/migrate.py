"""Plain SQL migrations (``server/migrations/NNNN_name.sql``), applied in order.

Every process applies them at start; ``pg_advisory_lock`` makes concurrent starts wait
for each other, so each file runs exactly once, in its own transaction.
"""

from __future__ import annotations

import re
from importlib import resources

import psycopg

from .cursors import notice_a_copy

#: Arbitrary constant naming pipetrack's migration lock among advisory locks.
MIGRATION_LOCK_KEY = 0x70697065_74726163  # "pipetrac"

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every packaged migration, in version order."""
    found = []
    for entry in resources.files("server").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {[n for _, n, _ in found]}")
    return found


def apply_migrations(database_url: str, through: int | None = None) -> list[str]:
    """Apply every migration the database lacks (``through``: only those up to that
    version, e.g. to test an upgrade); returns the names applied now. Then, a database
    restored from another gets a new epoch (:func:`cursors.notice_a_copy`)."""
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in migration_files():
                if version in done or (through is not None and version > through):
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (version, name),
                    )
                applied_now.append(name)
            notice_a_copy(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    return applied_now
