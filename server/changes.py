"""Who changed what, and when, as the server recorded it: ``pipetrack admin changes``.

The audit log read directly, newest first, for an admin asked "who moved Acme to
Passed?" or "what did carol's laptop send yesterday?" (the API's history needs a
user's token, and the push log lines give only counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from protocol import InvalidInput
from protocol.fold import fold_key

from .users import find_user


@dataclass(frozen=True)
class Change:
    changed_at: datetime  # as the device dated it (never after it was recorded)
    recorded_at: datetime
    user: str
    device: str
    target: str  # its uid
    name: str  # the target's name now
    op: str
    old_status: str | None
    new_status: str | None
    note: str | None
    version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "changed_at": self.changed_at.isoformat().replace("+00:00", "Z"),
            "recorded_at": self.recorded_at.isoformat().replace("+00:00", "Z"),
            "user": self.user,
            "device": self.device,
            "target": self.target,
            "name": self.name,
            "op": self.op,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "note": self.note,
            "version": self.version,
        }


_SQL = """
SELECT a.change_timestamp, a.recorded_at, a.changed_by, a.device_id, t.uid::text, t.name,
       a.op, a.old_status, a.new_status, a.note, a.version
FROM audit_log a JOIN targets t ON t.id = a.target_id
WHERE (%(target)s::int IS NULL OR a.target_id = %(target)s)
  AND (%(user)s::text IS NULL OR lower(a.changed_by) = lower(%(user)s))
  AND (%(since)s::timestamptz IS NULL OR a.change_timestamp >= %(since)s)
ORDER BY a.change_timestamp DESC, a.id DESC
LIMIT %(limit)s
"""
#: A target by its uid, a uid prefix of 4+ hex characters, or its name in any case.
_TARGET_SQL = """
SELECT id, uid::text, name FROM targets
WHERE uid::text = lower(%(ref)s)
   OR (%(prefix)s AND left(uid::text, length(%(ref)s)) = lower(%(ref)s))
   OR lower(name) = lower(%(ref)s)
ORDER BY name LIMIT 11
"""
#: Every target's name, for a name typed without its accents or in part.
_NAMES_SQL = "SELECT id, uid::text, name FROM targets ORDER BY name"
_UID_PREFIX = re.compile(r"^[0-9a-f-]+$")


def read_changes(
    database_url: str,
    *,
    target: str | None = None,
    user: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[Change]:
    """The changes recorded, newest first as their devices dated them, of ``target``
    (uid, prefix or name) and by ``user`` (any case) since ``since``, at most
    ``limit``. InvalidInput when ``target`` names no target, or several."""
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        target_id = None if target is None else _target(conn, target)
        if user is not None:
            user = _user(conn, user)
        rows = conn.execute(
            _SQL, {"target": target_id, "user": user, "since": since, "limit": limit}
        ).fetchall()
    return [Change(*row) for row in rows]


def _user(conn: psycopg.Connection, name: str) -> str:
    """The user ``name`` means, as ``disable-user`` finds one (a mistyped name said "no
    changes recorded that match", as for a user who changed nothing); a name only the
    audit still has (a user a restore took away) is taken as it is."""
    try:
        return find_user(conn, name)[1]
    except InvalidInput:
        known = "SELECT 1 FROM audit_log WHERE lower(changed_by) = lower(%s) LIMIT 1"
        if conn.execute(known, (name.strip(),)).fetchone() is None:
            raise
        return name.strip()


def _target(conn: psycopg.Connection, ref: str) -> int:
    """A target as the laptop's TARGET is read: a uid, a prefix of 4+, a name in any case
    (accents optional); else a name it is part of, when only one has it."""
    typed = ref.strip()
    prefix = len(typed) >= 4 and bool(_UID_PREFIX.match(typed.lower()))
    found = conn.execute(_TARGET_SQL, {"ref": typed, "prefix": prefix}).fetchall()
    if not found:
        key = fold_key(typed)
        names = conn.execute(_NAMES_SQL).fetchall()
        found = [row for row in names if fold_key(row[2]) == key]
        found = found or [row for row in names if key in fold_key(row[2])]
    if not found:
        short = " (a uid prefix needs 4 characters)" if _UID_PREFIX.match(typed.lower()) else ""
        raise InvalidInput(
            "target", f"no target matches {ref!r}{short}: give a uid, a uid prefix or a name"
        )
    if len(found) > 1:
        named = ", ".join(f"{uid[:8]} {name!r}" for _, uid, name in found[:10])
        raise InvalidInput("target", f"{ref!r} matches several targets: {named}; give a uid")
    return found[0][0]
