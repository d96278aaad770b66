"""A new target of ours whose uid the server gives another target: set apart.

The usual cause is an import of a teammate's export (or of a shared lead list) before
the first sync: the row's uid is the team's target, under other details. The server
refuses our create. Until then the store had one row per uid, so the device showed our
refused target where the team's should be: the team's target, its history and its
teammates' changes could not be seen or searched on this device (the demo's own
"Saltmarsh Aquaculture" did not show sam's change).

:func:`set_apart` moves our target, with every change made on it (all waiting behind the
refused create) and their history rows, to a new local uid; it stays refused, for the
user to drop (it was the team's target after all) or to make again as a new one. The uid
then holds the team's target as the server has it, and takes changes as any other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from .context import Ctx
from .schema import Target

#: The targets columns a copy takes over (not the id; not the generated ranks).
_COLUMNS = [f.column_name for f in Target._meta.sorted_fields if f.name != "id"]
_COPIED = ", ".join(
    "?" if c == "uid" else "NULL" if c.startswith("server_") else c for c in _COLUMNS
)
_COPY_SQL = (
    f"INSERT INTO targets ({', '.join(_COLUMNS)}) SELECT {_COPIED} FROM targets WHERE uid = ?"
)
_STATEMENTS = (
    "UPDATE outbox SET target = :new WHERE target = :old",
    "UPDATE audit SET target = :new"
    " WHERE change_id IN (SELECT change_id FROM outbox WHERE target = :new)",
    "INSERT INTO target_markets (uid, market_lc, market)"
    " SELECT :new, market_lc, market FROM target_markets WHERE uid = :old",
    # a snooze is the user's, on their target; the team's starts without one
    "UPDATE targets SET snoozed_until = NULL WHERE uid = :old",
)


#: Names the uid a refused create's target moves to (from the create's change id: the
#: same booking gives the same uid, whoever books it).
_APART = uuid.UUID("5e4b1c8e-2f0a-4f7e-9a51-0c2d6a7b3e19")


def reason(name: str) -> str:
    """A refused create's reason, set apart from the server's target ``name``."""
    return (
        f"the server has another target under this id, {name!r} (shown apart): drop this"
        " one if it is that target, or correct it to make it as a new one"
    )


def set_apart(ctx: Ctx, creates: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Our targets of ``creates`` ((uid, change id) of a refused create, the target's first
    outbox row) moved to new uids; old uid -> new uid. In the caller's transaction; the
    caller refreshes both views (the old uid's is the server's base alone then)."""
    moved: dict[str, str] = {}
    cursor = ctx.db.cursor()
    for old, change_id in creates:
        new = str(uuid.uuid5(_APART, change_id))
        cursor.execute(_COPY_SQL, (new, old))
        for sql in _STATEMENTS:
            cursor.execute(sql, {"new": new, "old": old})
        moved[old] = new
    return moved
