"""Changes the server lost: sent again after its database was restored.

When the server refuses our pull cursor its database was restored or replaced
(``pull.PULL_AGAIN``): everything is pulled again from the start, its whole history
included. Our own changes the server still holds come back with it; one that does not
come back was pushed after the point the database was restored to, and is gone there.

- :func:`mark` (with the refused cursor): every change of ours the server had confirmed
  is marked unconfirmed (its ``server_version`` negated), and every target it had is
  listed as unseen (``pull_unseen``). The pull's history upsert confirms again each
  change the server sends; :func:`seen` strikes each target it sends.
- :func:`resend` (when that pull reaches the end):
  - a target the server did not send, which we created, is created again (under the
    create's own change id, as it is here now), with our later status changes;
  - a target the server did not send, which a teammate created, is theirs to make
    again: it keeps what we knew of it at version 0, so that it is taken as the server
    has it once made again;
  - on the others, each change still unconfirmed is queued again, under its own change
    id, on top of the server's state when that state is older than the change (the
    server's status was set before it was made); where a later status is there (a
    teammate's, after the restore) it is queued on 0, "before the server had it", which
    the server answers as a conflict, for the user to settle (it was left alone, as a
    later change wins, and the user was never told). One of ours confirmed after it
    stands instead. A target with changes of ours queued already keeps them: the newest
    change of ours is one of those.
  - each edit of ours (name, description, markets) the server had applied and lost
    (kept in ``sent_edits``, confirmed by the pull as the audit's rows are) is queued
    again the same way: on the server's version when the server's last change of the
    target is older than ours, else on 0, which a teammate's change of the details since
    makes a conflict; not on a target made again (it is made as it is here) nor on one
    with changes of ours queued already.
  What is not sent again reads as before.
- Before that, every change still waiting here (pending, or held as a conflict) is put
  on the server's version (:func:`_decide_again`): nothing was pushed meanwhile (the
  pusher waits for this pull, and the server refuses a push with a cursor from before
  its restore), so no change was decided on a base the server lost or numbered again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .context import Ctx
from .schema import JSONField, time_from_text, time_or_none
from .view import refresh_many

_JSON = JSONField()  # a create's ``fields`` as the store keeps them (compact JSON)
#: meta key: how many changes were sent again since the store was made (the TUI tells
#: the user when it grows).
RESENT = "resent_total"

_FLIP = "UPDATE audit SET server_version = -server_version WHERE origin = 'local' AND "
_MARK_SQL = _FLIP + "server_version > 0"
_UNMARK_SQL = _FLIP + "server_version < 0"
_UNSEEN_SQL = "INSERT OR IGNORE INTO pull_unseen SELECT uid FROM targets WHERE server_version > 0"
_SEEN_SQL = "DELETE FROM pull_unseen WHERE uid IN (SELECT uid FROM temp.pull_targets)"
_NOT_QUEUED = "NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.target = {uid})"
#: Targets the server lost whose first status change is ours, unconfirmed: we made them.
_OURS_LOST_SQL = f"""
SELECT t.uid, t.name, t.description, t.markets
FROM pull_unseen AS u JOIN targets AS t ON t.uid = u.uid
JOIN audit AS first ON first.id = (SELECT min(a.id) FROM audit AS a WHERE a.target = t.uid)
WHERE first.origin = 'local' AND first.server_version < 0 AND {_NOT_QUEUED.format(uid="t.uid")}
"""
_LOST_SQL = f"""
SELECT a.change_id, a.target, a.new_status, a.changed_at, a.note,
       t.server_version, t.server_status_changed_at, t.server_status,
       EXISTS (SELECT 1 FROM audit AS b WHERE b.target = a.target AND b.origin = 'local'
               AND b.server_version > 0 AND b.id > a.id) AS ours_later
FROM audit AS a JOIN targets AS t ON t.uid = a.target
WHERE a.origin = 'local' AND a.server_version < 0 AND {_NOT_QUEUED.format(uid="a.target")}
ORDER BY a.id
"""
_QUEUE_SQL = (
    "INSERT INTO outbox (change_id, target, op, base_version, status, fields, changed_at, note)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_PENDING_SQL = "UPDATE audit SET server_version = NULL WHERE change_id = ?"
#: A target created again has no server base: its view starts from itself.
_NO_BASE_SQL = (
    "UPDATE targets SET server_version = NULL, server_name = NULL, server_description = NULL,"
    " server_markets = NULL, server_status = NULL, server_status_changed_at = NULL,"
    " server_status_changed_by = NULL, server_updated_at = NULL WHERE uid = ?"
)


_EDITS_FLIP = "UPDATE sent_edits SET server_version = -server_version WHERE "
#: Our applied edits that the pull from the start has not confirmed, oldest first.
_LOST_EDITS_SQL = f"""
SELECT e.change_id, e.target, e.fields, e.changed_at, t.server_version, t.server_updated_at
FROM sent_edits AS e JOIN targets AS t ON t.uid = e.target
WHERE e.server_version < 0 AND {_NOT_QUEUED.format(uid="e.target")}
ORDER BY e.changed_at
"""


def mark(ctx: Ctx) -> None:
    cursor = ctx.db.cursor()
    cursor.execute(_MARK_SQL)
    cursor.execute(_EDITS_FLIP + "server_version > 0")
    cursor.execute(_UNSEEN_SQL)


def confirm_edits(ctx: Ctx, change_ids: list[str]) -> None:
    """Edits the server sent (a page of the pull from the start): ours among them are
    still there."""
    ctx.db.cursor().execute(
        _EDITS_FLIP + "server_version < 0 AND change_id IN (SELECT value FROM json_each(?))",
        (json.dumps(change_ids),),
    )


def seen(ctx: Ctx) -> None:
    """The targets staged in ``temp.pull_targets`` are on the server."""
    ctx.db.cursor().execute(_SEEN_SQL)


def resend(ctx: Ctx) -> int:
    """Queue again what the server lost (module doc); how many changes. In the caller's
    transaction."""
    cursor = ctx.db.cursor()
    _decide_again(ctx)
    made = {uid: details for uid, *details in cursor.execute(_OURS_LOST_SQL)}
    unseen = {uid for (uid,) in cursor.execute("SELECT uid FROM pull_unseen")}
    cursor.execute("DELETE FROM pull_unseen")
    again: list[tuple[Any, ...]] = []
    created: set[str] = set()
    lost = cursor.execute(_LOST_SQL).fetchall()
    for change_id, uid, status, at, note, version, server_at, server_status, ours_later in lost:
        if uid in made and uid not in created:  # its create: made again as it is here
            created.add(uid)
            again.append((change_id, uid, "create", None, status, _fields(*made[uid]), at, note))
        elif uid in made:  # on a target being created: "before the server has it"
            again.append((change_id, uid, "set_status", 0, status, None, at, note))
        elif uid in unseen or ours_later:  # a teammate's lost target; ours later stands
            continue
        else:  # on 0 where the server's status is later: a teammate's, met as a conflict
            latest = time_or_none(server_at)
            made_at = time_from_text(at)
            if server_status == status and (latest is None or latest >= made_at):
                continue  # the server has it, as of then or later: nothing to ask
            base = base_on(version or 0, latest, made_at)
            again.append((change_id, uid, "set_status", base, status, None, at, note))
    for change_id, uid, fields, at, version, updated_at in cursor.execute(_LOST_EDITS_SQL):
        if uid in made or uid in unseen:  # made again as it is here / a teammate's to make
            continue
        base = base_on(version or 0, time_or_none(updated_at), time_from_text(at))
        again.append((change_id, uid, "edit", base, None, fields, at, None))
    again.sort(key=lambda row: row[6])  # as they were made: an edit among the statuses
    # The teammates' targets the server lost keep what we knew of them, but no longer
    # a version ahead of the server's: made again there (from version 1), each is taken
    # as the server has it. (It was ignored as older than ours, for good.)
    lost = [(uid,) for uid in unseen - made.keys()]
    cursor.executemany("UPDATE targets SET server_version = 0 WHERE uid = ?", lost)
    if again:
        cursor.executemany(_QUEUE_SQL, again)
        cursor.executemany(_PENDING_SQL, [(row[0],) for row in again])
        cursor.executemany(
            "DELETE FROM sent_edits WHERE change_id = ?", [(r[0],) for r in again if r[2] == "edit"]
        )
        cursor.executemany(_NO_BASE_SQL, [(uid,) for uid in made])
        t = ctx.m.target
        refresh_many(ctx, list(t.select().where(t.uid.in_({row[1] for row in again}))))
        ctx.set_meta(RESENT, str(int(ctx.get_meta(RESENT) or 0) + len(again)))
    cursor.execute(_UNMARK_SQL)
    cursor.execute(_EDITS_FLIP + "server_version < 0")
    return len(again)


#: The changes waiting here on targets the server has: every pending one, a conflict (its
#: "theirs" may be gone), and one refused as made on a version the server no longer has.
_WAITING_SQL = """
SELECT o.id, o.target, o.op, o.changed_at, t.server_version, t.server_status_changed_at,
       t.server_updated_at, o.state
FROM outbox AS o JOIN targets AS t ON t.uid = o.target
WHERE o.op != 'create' AND t.server_version IS NOT NULL
  AND t.uid NOT IN (SELECT uid FROM pull_unseen)
  AND (o.state IN ('pending', 'conflict')
       OR (o.state = 'rejected' AND o.base_version > t.server_version))
"""
_DECIDE_AGAIN_SQL = (
    "UPDATE outbox SET base_version = ?, state = 'pending', server_state = NULL,"
    " last_error = NULL WHERE id = ?"
)


def base_on(version: int, latest: datetime | None, changed_at: datetime) -> int:
    """The base to send again a change made at ``changed_at`` whose own base the restored
    server may not have: its ``version`` where the server's latest change of that kind
    (``latest``) is older (ours is the later one), else 0, "before the server had it",
    which the server answers as a conflict where a teammate changed it since."""
    return version if latest is None or changed_at > latest else 0


def _decide_again(ctx: Ctx) -> None:
    """Every change waiting here goes to the server again, on its version: their bases
    were versions from before the restore, which the server may have lost, or given
    again to a teammate's change. As for a lost change (:func:`resend`), the later
    change wins: on the server's version where its last change of that kind (status,
    or details for an edit) is older than ours; else on 0 ("before the server had it"),
    which a teammate's change since makes a conflict, for the user to settle. A
    conflict waiting here is decided again too: what it met may be gone."""
    cursor = ctx.db.cursor()
    again, held = [], set()
    for row_id, uid, op, at, version, status_at, updated_at, state in cursor.execute(_WAITING_SQL):
        latest = status_at if op == "set_status" else updated_at
        again.append((base_on(version, time_or_none(latest), time_from_text(at)), row_id))
        if state != "pending":
            held.add(uid)
    if again:
        cursor.executemany(_DECIDE_AGAIN_SQL, again)
    if held:  # their sync marks: no longer held
        t = ctx.m.target
        refresh_many(ctx, list(t.select().where(t.uid.in_(held))))


def _fields(name: str, description: str, markets: str) -> str:
    return _JSON.db_value(
        {"name": name, "description": description, "markets": _JSON.python_value(markets)}
    )
