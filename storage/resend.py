"""Changes the server lost: sent again after its database was restored.

When the server refuses our pull cursor its database was restored or replaced
(``pull.PULL_AGAIN``): everything is pulled again from the start, its whole history
included. Our own changes the server still holds come back with it; one that does not
come back was pushed after the point the database was restored to, and is gone there.

- :func:`mark` (with the refused cursor): every change of ours the server had confirmed
  is marked unconfirmed (its ``server_version`` negated); the pull's history upsert
  confirms again each one the server sends.
- :func:`resend` (when that pull reaches the end): each change still unconfirmed is
  queued again, under its own change id, on top of the server's state now, when that
  state is older than the change (the server's status was set before it was made);
  a later status the server holds (a teammate's, after the restore) is left alone, as a
  later change wins. A target with changes of ours queued already keeps them: the
  newest change of ours is one of those. What is not sent again reads as before.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .schema import time_from_text
from .view import refresh_many

_FLIP = "UPDATE audit SET server_version = -server_version WHERE origin = 'local' AND "
_MARK_SQL = _FLIP + "server_version > 0"
_UNMARK_SQL = _FLIP + "server_version < 0"
_LOST_SQL = """
SELECT a.change_id, a.target, a.new_status, a.changed_at, a.note,
       t.server_version, t.server_status_changed_at
FROM audit AS a JOIN targets AS t ON t.uid = a.target
WHERE a.origin = 'local' AND a.server_version < 0
  AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.target = a.target)
ORDER BY a.id
"""
_QUEUE_SQL = (
    "INSERT INTO outbox (change_id, target, op, base_version, status, changed_at, note)"
    " VALUES (?, ?, 'set_status', ?, ?, ?, ?)"
)
_PENDING_SQL = "UPDATE audit SET server_version = NULL WHERE change_id = ?"


def mark(ctx: Ctx) -> None:
    ctx.db.cursor().execute(_MARK_SQL)


def resend(ctx: Ctx) -> int:
    """Queue again what the server lost (module doc); how many changes. In the caller's
    transaction."""
    cursor = ctx.db.cursor()
    again: list[tuple[Any, ...]] = []
    for change_id, uid, status, at, note, version, server_at in cursor.execute(_LOST_SQL):
        if server_at is None or time_from_text(at) > time_from_text(server_at):
            again.append((change_id, uid, version or 0, status, at, note))
    if again:
        cursor.executemany(_QUEUE_SQL, again)
        cursor.executemany(_PENDING_SQL, [(row[0],) for row in again])
        t = ctx.m.target
        refresh_many(ctx, list(t.select().where(t.uid.in_({row[1] for row in again}))))
    cursor.execute(_UNMARK_SQL)
    return len(again)
