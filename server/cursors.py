"""Starting every device's pull over: a new epoch for the database.

A pull cursor carries the database's epoch (``server_meta``) and positions in its
transaction ids (``pull.py``). A database restored from a backup holds the epoch of the
one it was copied from, and transaction ids that do not follow the devices' cursors: a
cursor taken as current would skip what the restore changed. A new epoch makes the
server refuse every cursor issued before it, and each device pulls everything again.

- A restore into a new database (``pg_restore``, ``CREATE DATABASE ... TEMPLATE``) is
  noticed by itself: the database's OID is recorded, and a process that starts on a
  database whose OID differs gives it a new epoch (:func:`notice_a_copy`, at every
  start, after the migrations).
- A restore that keeps the database's OID (a physical backup, a point-in-time recovery)
  is not: ``pipetrack admin reset-cursors`` (:func:`reset_cursors`) does it.
"""

from __future__ import annotations

import logging

import psycopg

from .push_store import NOTIFY_CHANNEL

log = logging.getLogger("pipetrack.server")

_NEW_EPOCH = """
UPDATE server_meta SET value = replace(gen_random_uuid()::text, '-', '')
WHERE key = 'epoch' RETURNING value
"""
_RECORDED_OID = "SELECT value FROM server_meta WHERE key = 'database_oid' FOR UPDATE"
_OID = "SELECT oid::text FROM pg_database WHERE datname = current_database()"
_RECORD_OID = """
INSERT INTO server_meta (key, value) VALUES ('database_oid', %s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""


def new_epoch(conn: psycopg.Connection) -> str:
    """A new epoch, in ``conn``'s transaction; parked long-polls are woken (on commit)
    to find their cursors refused."""
    (epoch,) = conn.execute(_NEW_EPOCH).fetchone() or (None,)
    if epoch is None:
        raise RuntimeError("server_meta has no epoch: the migrations did not run")
    conn.execute("SELECT pg_notify(%s, '')", (NOTIFY_CHANNEL,))
    return epoch


def reset_cursors(database_url: str) -> str:
    """Give the database a new epoch now; returns it."""
    with psycopg.connect(database_url) as conn:
        return new_epoch(conn)


def notice_a_copy(conn: psycopg.Connection) -> bool:
    """Record the database's OID; when another was recorded, this database is a copy of
    that one (a restore): a new epoch. Whether it was. Writes nothing at an ordinary
    start (the OID recorded is this one)."""
    with conn.transaction():
        row = conn.execute(_RECORDED_OID).fetchone()
        (oid,) = conn.execute(_OID).fetchone()
        if row is not None and row[0] == oid:
            return False
        conn.execute(_RECORD_OID, (oid,))
        if row is None:  # the first start since it is recorded
            return False
        new_epoch(conn)
    log.warning(
        "this database is a copy of another (a restore?): its OID was %s, now %s; every"
        " device pulls everything again from the start",
        row[0],
        oid,
    )
    return True
