"""The status-change write path: plain SQL on the connection's statement cache, no model
instances, and the target's view moved one step (:func:`view.extend_view`) instead of
recomputed from all its outbox rows. What the user waits for after every keystroke.

Callers (``actions``) hold the write transaction and put the fault hooks between the
writes; this module only reads and writes rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from . import query, stagnation
from .context import Ctx
from .errors import NotFound
from .schema import time_from_text, time_text
from .types import TargetView
from .view import extend_view

_ONE_SQL = (
    "SELECT id, uid, status, status_since, updated_at, sync, server_version, name,"
    " description, markets, created_at, snoozed_until FROM targets WHERE uid = ?"
)
#: Many uids in one statement, in the order given; a uid without a target comes back
#: with NULLs (the LEFT JOIN), so a missing one is found without a second query.
_MANY_SQL = (
    "SELECT j.value, t.id, t.status, t.status_since, t.updated_at, t.sync, t.server_version"
    " FROM json_each(?) AS j LEFT JOIN targets AS t ON t.uid = j.value ORDER BY j.key"
)
_AUDIT_SQL = (
    "INSERT INTO audit (change_id, target, old_status, new_status, changed_at, changed_by,"
    " note, origin, batch, old_since) VALUES (?, ?, ?, ?, ?, ?, ?, 'local', ?, ?)"
)
_OUTBOX_SQL = (
    "INSERT INTO outbox (change_id, target, op, base_version, status, changed_at, note,"
    " status_since) VALUES (?, ?, 'set_status', ?, ?, ?, ?, ?)"
)
#: The view columns a status change can move (see :func:`view.extend_view`).
_VIEW_SQL = "UPDATE targets SET status = ?, status_since = ?, updated_at = ?, sync = ? WHERE id = ?"


def missing(uid: str) -> NotFound:
    """The error of an unknown uid, worded like :func:`query.load`'s."""
    return NotFound(f"no target with uid {uid!r}")


@dataclass(slots=True)
class Current:
    """A target row as a status change reads it; after :func:`plan`, its new view.
    The details (name ... snoozed_until) are read for one target only, to hand back its
    :class:`TargetView`; attribute names are those :func:`query.to_view` reads."""

    id: int
    uid: str
    status: str | None
    status_since: datetime
    updated_at: datetime
    sync: str
    server_version: int | None
    name: str = ""
    description: str = ""
    markets: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    snoozed_until: date | None = None

    def view_columns(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "status_since": self.status_since,
            "updated_at": self.updated_at,
            "sync": self.sync,
        }


def read_one(ctx: Ctx, uid: str) -> Current:
    """The target with exactly this uid; NotFound otherwise."""
    found = ctx.db.cursor().execute(_ONE_SQL, (uid,)).fetchall()
    if not found:
        raise missing(uid)
    (row,) = found
    id_, uid_, status, since, updated, sync, version, name, desc, markets, created, snooze = row
    return Current(
        id=id_,
        uid=uid_,
        status=status,
        status_since=time_from_text(since),
        updated_at=time_from_text(updated),
        sync=sync,
        server_version=version,
        name=name,
        description=desc,
        markets=json.loads(markets),
        created_at=time_from_text(created),
        snoozed_until=None if snooze is None else date.fromisoformat(snooze),
    )


def read_many(ctx: Ctx, uids: Sequence[str]) -> list[Current]:
    """The targets of ``uids`` (view columns only), in that order; NotFound names the
    first uid without a target."""
    rows = ctx.db.cursor().execute(_MANY_SQL, (json.dumps(list(uids)),)).fetchall()
    out = []
    for uid, id_, status, since, updated, sync, version in rows:
        if id_ is None:
            raise missing(uid)
        out.append(
            Current(id_, uid, status, time_from_text(since), time_from_text(updated), sync, version)
        )
    return out


@dataclass
class Batch:
    """One status (and note) set on some targets at one moment: the parameters of its
    audit, outbox and view writes, row i of each for target i."""

    change_ids: list[str] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)
    views: list[tuple[Any, ...]] = field(default_factory=list)


def plan(
    ctx: Ctx,
    targets: Sequence[Current],
    new: str | None,
    note: str | None | Sequence[str | None],
    group: str | None = None,
    since: Sequence[datetime | None] | None = None,
) -> Batch:
    """The writes of setting ``new`` on each of ``targets`` now (callers leave out those
    already in ``new``); each target's view moves to its new state in memory too.
    ``note``: one for all, or one per target; ``group``: the bulk change they make up;
    ``since``: per target, when an undo brings back a status, since when it was held
    (None: from now, as any status change)."""
    now = ctx.now()
    at = time_text(now)
    row = SimpleNamespace(
        op="set_status", status=new, fields=None, changed_at=now, state="pending", status_since=None
    )
    notes = [note] * len(targets) if note is None or isinstance(note, str) else note
    sinces = since or [None] * len(targets)
    batch = Batch()
    for target, its_note, its_since in zip(targets, notes, sinces, strict=True):
        change_id = str(uuid.uuid4())
        batch.change_ids.append(change_id)
        old_since = time_text(target.status_since)  # what an undo of this change restores
        batch.audit.append(
            (change_id, target.uid, target.status, new, at, ctx.user, its_note, group, old_since)
        )
        restores = None if its_since is None else time_text(min(its_since, now))
        # base_version: the server's version, 0 = "before the server has it"
        batch.outbox.append(
            (change_id, target.uid, target.server_version or 0, new, at, its_note, restores)
        )
        row.status_since = its_since
        view = extend_view(target.view_columns(), row)
        target.status, target.sync = view["status"], view["sync"]
        target.status_since, target.updated_at = view["status_since"], view["updated_at"]
        batch.views.append(
            (target.status, time_text(target.status_since), time_text(target.updated_at))
            + (target.sync, target.id)
        )
    return batch


def insert_audit(ctx: Ctx, batch: Batch) -> None:
    ctx.db.cursor().executemany(_AUDIT_SQL, batch.audit)


def insert_outbox(ctx: Ctx, batch: Batch) -> None:
    ctx.db.cursor().executemany(_OUTBOX_SQL, batch.outbox)


def update_views(ctx: Ctx, batch: Batch) -> None:
    # by id: the table's pages in order (index entries land where their keys say)
    ctx.db.cursor().executemany(_VIEW_SQL, sorted(batch.views, key=itemgetter(-1)))


def view_of(ctx: Ctx, target: Current) -> TargetView:
    """What the user sees of a target read by :func:`read_one`."""
    now = ctx.now()
    # the cutoffs of its own status only: the others are never looked at
    own = {s: days for s, days in ctx.thresholds.items() if s == target.status}
    return query.to_view(target, now, stagnation.cutoffs(own, now))  # type: ignore[arg-type]
