"""An import's updates of existing targets, written set-based inside its transaction.

Row by row (an edit then a status change per target, each reading its target through
the ORM and folding its whole outbox again) 100,000 updates took 3 min 20 s, 20x a
create's time. Here a chunk of targets costs a few statements: the edits' outbox rows
in one insert, each view moved one step (:func:`view.extend_view`, as the status write
path does) and written with one statement per set of changed columns, their market rows
replaced in two, then the status changes through :mod:`status` (one batch per status).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from protocol import InvalidInput

from . import status as status_rows
from .actions import make_change, taken_name, write_changes
from .bulk import insert_rows
from .context import Ctx
from .fold import name_key
from .view import VIEW_KEYS, db_values, extend_view, update_sql

#: The target columns an update reads (besides its uid): what the row is compared
#: with, where its view starts from, and the version its changes are made on.
COLUMNS = ("id", *VIEW_KEYS, "server_version")


@dataclass
class Update:
    """One row's changes to one existing target: ``fields`` its edit (name, description,
    markets that differ), ``status`` its new status or ``keep``."""

    number: int  # the row's
    uid: str
    current: dict[str, Any]  # COLUMNS of the target
    fields: dict[str, Any]
    status: Any


#: ``Update.status`` when the row leaves the status as it is.
keep: Any = object()


def write_updates(
    ctx: Ctx,
    updates: Sequence[Update],
    group: str,
    chunk: int,
    done: Callable[[int, int], object] | None,
) -> None:
    """Write ``updates`` ``chunk`` targets at a time (``done(n, total)`` after each),
    then refuse a rename to a name another target has now (all in the caller's
    transaction: a refusal rolls every write back)."""
    for start in range(0, len(updates), chunk):
        part = updates[start : start + chunk]
        _write_edits(ctx, [u for u in part if u.fields])
        _write_statuses(ctx, [u for u in part if u.status is not keep], group)
        if done is not None:
            done(min(start + chunk, len(updates)), len(updates))
    _refuse_taken_renames(ctx, [u for u in updates if "name" in u.fields])


def _write_edits(ctx: Ctx, edits: Sequence[Update]) -> None:
    """What :func:`actions.edit_target` writes, for many targets: an outbox ``edit``
    each, their views one step further, their market rows."""
    if not edits:
        return
    now = ctx.now()
    changes = [
        make_change(
            ctx, u.uid, "edit", now, base_version=u.current["server_version"] or 0, fields=u.fields
        )
        for u in edits
    ]
    write_changes(ctx, changes)
    updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    markets: list[Update] = []
    for u in edits:
        row = SimpleNamespace(
            op="edit", status=None, fields=u.fields, changed_at=now, state="pending"
        )
        view = extend_view(u.current, row)
        changed = {k: view[k] for k in VIEW_KEYS if u.current[k] != view[k]}
        if changed:
            updates.setdefault(tuple(changed), []).append(
                (*db_values(ctx, changed), u.current["id"])
            )
        u.current.update(view)
        if "markets" in changed:
            markets.append(u)
    cursor = ctx.db.cursor()
    for keys, params in updates.items():
        # by id: the table's pages in order
        cursor.executemany(update_sql(keys), sorted(params, key=lambda p: p[-1]))
    if markets:
        m = ctx.m.market
        uids = json.dumps([u.uid for u in markets])
        cursor.execute(
            f'DELETE FROM "{m._meta.table_name}" WHERE uid IN (SELECT value FROM json_each(?))',
            (uids,),
        )
        rows = [
            {"uid": u.uid, "market_lc": name_key(market), "market": market}
            for u in markets
            for market in u.current["markets"]
        ]
        insert_rows(ctx, m, rows)


def _write_statuses(ctx: Ctx, changes: Sequence[Update], group: str) -> None:
    """The status changes: one :mod:`status` batch per new status, all of ``group`` (an
    undo takes the import's status changes back whole)."""
    if not changes:
        return
    targets = {t.uid: t for t in status_rows.read_many(ctx, [u.uid for u in changes])}
    by_status: dict[str | None, list[status_rows.Current]] = {}
    for u in changes:
        target = targets[u.uid]
        if target.status != u.status:
            by_status.setdefault(u.status, []).append(target)
    for new, those in by_status.items():
        batch = status_rows.plan(ctx, those, new, None, group)
        status_rows.insert_audit(ctx, batch)
        status_rows.insert_outbox(ctx, batch)
        status_rows.update_views(ctx, batch)


def _refuse_taken_renames(ctx: Ctx, renames: Sequence[Update]) -> None:
    """A target renamed to a name another target has once every rename is written (in
    any case, accents optional), or that an earlier row gave another target, is
    refused, naming the row: what :func:`actions.edit_target` refuses one at a time."""
    first: dict[str, int] = {}
    for u in renames:
        name = u.fields["name"]
        seen = first.setdefault(name_key(name), u.number)
        if seen != u.number:
            raise InvalidInput("name", f"row {u.number}: name {name!r} is already on row {seen}")
    taken = taken_name(ctx, [(u.fields["name"], u.uid) for u in renames])
    if taken:
        index, err = taken
        raise InvalidInput(err.field, f"row {renames[index].number}: {err.message}")
