"""Starting every device's pull over: a new epoch for the database.

A pull cursor carries the database's epoch (``server_meta``) and positions in its
transaction ids (``pull.py``). After the database is restored from a physical backup or
to a point in time, transaction ids continue from that point: once they pass a device's
cursor, the cursor would be taken as current and the rows written between would never
reach that device. A new epoch makes the server refuse every cursor issued before it,
and each device pulls everything again from the start.
"""

from __future__ import annotations

import psycopg

from .push_store import NOTIFY_CHANNEL

_NEW_EPOCH = """
UPDATE server_meta SET value = replace(gen_random_uuid()::text, '-', '')
WHERE key = 'epoch' RETURNING value
"""


def reset_cursors(database_url: str) -> str:
    """Give the database a new epoch (and wake parked long-polls); returns it."""
    with psycopg.connect(database_url) as conn:
        (epoch,) = conn.execute(_NEW_EPOCH).fetchone() or (None,)
        if epoch is None:
            raise RuntimeError("server_meta has no epoch: the migrations did not run")
        conn.execute("SELECT pg_notify(%s, '')", (NOTIFY_CHANNEL,))
    return epoch
