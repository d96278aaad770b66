"""Starting every device's pull over: a new epoch for the database.

A pull cursor carries the database's epoch (``server_meta``) and positions in its
transaction ids (``pull.py``). A database restored from a backup holds the epoch of the
one it was copied from, and transaction ids that do not follow the devices' cursors: a
cursor taken as current would skip what the restore changed. A new epoch makes the
server refuse every cursor issued before it, and each device pulls everything again.

- A restore into a new database (``pg_restore``, ``CREATE DATABASE ... TEMPLATE``), or
  a ``pg_restore --clean`` over the same database, is noticed by itself: the OIDs of the
  database and of its ``targets`` table are recorded, and a process that starts on a
  database where either differs gives it a new epoch (:func:`notice_a_copy`, at every
  start, after the migrations). ``--clean`` keeps the database but drops and makes its
  tables again: the new ``targets`` has a new OID, and the ``server_meta`` rows
  restored beside it hold the old one.
- A restore that keeps both OIDs (a physical backup, a point-in-time recovery) is not:
  ``pipetrack admin reset-cursors`` (:func:`reset_cursors`) does it.

A migration that makes the ``targets`` table again (``DROP``/``CREATE``, or a rename of
a new table to it) changes its OID too: the start that applies it would take the
database for a copy (a needless new epoch, every device pulling everything again, and a
false warning). Such a migration must record the new OID in its own transaction:
``UPDATE server_meta SET value = 'targets'::regclass::oid::text WHERE key =
'targets_oid'``.
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
#: What is recorded of the database in ``server_meta``; a copy differs in one of them.
_OID_KEYS = ("database_oid", "targets_oid")
_RECORDED_OIDS = "SELECT key, value FROM server_meta WHERE key = ANY(%s) FOR UPDATE"
_OIDS = """
SELECT (SELECT oid::text FROM pg_database WHERE datname = current_database()),
       'targets'::regclass::oid::text
"""
_RECORD_OID = """
INSERT INTO server_meta (key, value) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""
#: What an admin is told when a restore is noticed (and by ``reset-cursors``).
RESTORE_ADVICE = "every device pulls everything again from the start"
#: ...and about users: the restore brought back the users table of the backup.
USERS_ADVICE = (
    "users and tokens are as they were at the backup: a user disabled or a token replaced"
    " since works again, so repeat every `pipetrack admin disable-user` and `new-token`"
    " done since the backup"
)


def new_epoch(conn: psycopg.Connection) -> str:
    """A new epoch, in ``conn``'s transaction; parked long-polls are woken (on commit)
    to find their cursors refused."""
    (epoch,) = conn.execute(_NEW_EPOCH).fetchone() or (None,)
    if epoch is None:
        raise RuntimeError("server_meta has no epoch: the migrations did not run")
    conn.execute("SELECT pg_notify(%s, '')", (NOTIFY_CHANNEL,))
    return epoch


def reset_cursors(database_url: str) -> str:
    """Give the database a new epoch now; returns it. The OIDs are recorded again (after
    a ``pg_restore --clean`` the next start need not do it again)."""
    with psycopg.connect(database_url) as conn:
        _record(conn, _current_oids(conn))
        return new_epoch(conn)


def _current_oids(conn: psycopg.Connection) -> dict[str, str]:
    return dict(zip(_OID_KEYS, conn.execute(_OIDS).fetchone(), strict=True))


def _record(conn: psycopg.Connection, oids: dict[str, str]) -> None:
    for key, value in oids.items():
        conn.execute(_RECORD_OID, (key, value))


def notice_a_copy(conn: psycopg.Connection, *, running: bool = False) -> bool:
    """Record the OIDs of the database and of its ``targets`` table; when others were
    recorded, this database is a copy (a restore, into a new database or over this one
    with ``--clean``): a new epoch. Whether it was. Writes nothing at an ordinary start
    (the OIDs recorded are these).

    ``running``: the check a running server makes now and then (a restore over its
    database while it serves): it writes only when both OIDs were recorded and one
    differs, never while a restore may be filling ``server_meta`` (its rows not there
    yet: a row written then would make the restore's own fail)."""
    with conn.transaction():
        recorded = dict(conn.execute(_RECORDED_OIDS, (list(_OID_KEYS),)).fetchall())
        now = _current_oids(conn)
        if recorded == now or (running and set(recorded) != set(_OID_KEYS)):
            return False
        _record(conn, now)
        if "database_oid" not in recorded:  # the first start since it is recorded
            return False
        if "targets_oid" not in recorded and recorded["database_oid"] == now["database_oid"]:
            return False  # the first start of a pipetrack that records it: nothing known
        new_epoch(conn)
    labels = {"database_oid": "the database's", "targets_oid": "its targets table's"}
    changed = [
        f"{labels[key]} OID was {recorded[key]}, now {now[key]}"
        for key in _OID_KEYS
        if key in recorded and recorded[key] != now[key]
    ]
    log.warning(
        "this database is a copy of another (a restore%s?): %s; %s; %s",
        " while serve ran" if running else "",
        "; ".join(changed),
        RESTORE_ADVICE,
        USERS_ADVICE,
    )
    return True
