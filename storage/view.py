"""The local view of a target = its server base + its outbox rows applied in order.

:func:`compute_view` defines the view (a fold of :func:`_step` over the rows).
:func:`refresh` recomputes and writes it; every change to a target's base or outbox
(edits, push results, pulls, conflict resolution) ends with it, so the view can never
drift from what is pending. The one exception is the status-change write path
(``status``), which appends one row and moves the stored view by :func:`extend_view`,
the same step once more (tests hold the two equal over random histories).
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from protocol import parse_status

from .context import Ctx
from .fold import name_key
from .schema import Target, time_from_text, time_or_none, to_utc

if TYPE_CHECKING:  # annotations only: pydantic stays off the TUI's start
    from protocol.wire import TargetState

_SYNC_PRECEDENCE = ("conflict", "rejected", "pending")


def derived(name: str, markets: Sequence[str]) -> dict[str, str]:
    """The columns kept beside name and markets for searching and sorting."""
    return {"name_lc": name_key(name), "markets_sort": ", ".join(name_key(m) for m in markets)}


def empty_start(now: datetime) -> dict[str, Any]:
    """Where a target that only exists as a pending ``create`` starts from."""
    return {
        "name": "",
        "description": "",
        "markets": [],
        "status": None,
        "status_since": now,
        "updated_at": now,
    }


def start_of(target: Target) -> tuple[dict[str, Any], bool]:
    """The server base as a view, or (no base yet) the current local view; and whether
    it was the base."""
    if target.server_version is None:
        keys = ("name", "description", "markets", "status", "status_since", "updated_at")
        return {k: getattr(target, k) for k in keys}, False
    return {
        "name": target.server_name,
        "description": target.server_description or "",
        "markets": list(target.server_markets or []),
        "status": target.server_status,
        "status_since": target.server_status_changed_at or target.created_at,
        "updated_at": target.server_updated_at or target.created_at,
    }, True


#: :func:`start_of` of a target that has a server base, as SQL over the server base
#: columns of a table aliased ``{t}``: the local view of a target with nothing pending
#: (name_lc and markets_sort come from :func:`derived`). Keep the two in step.
BASE_VIEW_SQL = {
    "name": "{t}.server_name",
    "description": "coalesce({t}.server_description, '')",
    "markets": "{t}.server_markets",
    "status": "{t}.server_status",
    "status_since": "coalesce({t}.server_status_changed_at, {t}.created_at)",
    "updated_at": "coalesce({t}.server_updated_at, {t}.created_at)",
    "sync": "'synced'",
}


def _step(view: dict[str, Any], row: Any, has_base: bool) -> None:
    """One outbox row applied to ``view`` in place: the step both ways of computing the
    view share (:func:`compute_view` folds it over all rows, :func:`extend_view` adds one)."""
    for key, value in (row.fields or {}).items():
        if value is not None:
            view[key] = list(value) if key == "markets" else value
    if row.op in ("create", "set_status"):
        # status_since moves only when the status does (or on a brand-new target).
        if row.status != view["status"] or (row.op == "create" and not has_base):
            # an undo brings back since when its status was held (never after the undo)
            restored = getattr(row, "status_since", None)
            view["status_since"] = (
                row.changed_at if restored is None else min(restored, row.changed_at)
            )
        view["status"] = row.status
    view["updated_at"] = max(view["updated_at"], row.changed_at)


def _sync_of(states: Iterable[str]) -> str:
    """The most urgent state among a target's outbox rows ("synced" = none)."""
    found = set(states)
    return next((s for s in _SYNC_PRECEDENCE if s in found), "synced")


def compute_view(start: dict[str, Any], has_base: bool, rows: Iterable[Any]) -> dict[str, Any]:
    """Apply outbox rows (pending, conflict, rejected alike: the user sees their change)."""
    view = dict(start)
    states = set()
    for row in rows:
        states.add(row.state)
        _step(view, row, has_base)
    view["sync"] = _sync_of(states)
    view.update(derived(view["name"], view["markets"]))
    return view


def extend_view(current: dict[str, Any], row: Any) -> dict[str, Any]:
    """``compute_view(start, has_base, rows + [row])`` given ``current`` =
    ``compute_view(start, has_base, rows)``: the same fold, one step further, for the
    write path of a new change (no need to read the target's other outbox rows).

    ``row`` must not be a ``create`` (a create is always a target's first row; only a
    create's step depends on ``has_base``). ``current`` may hold only some view keys:
    ``status``, ``status_since``, ``updated_at`` and ``sync`` always, plus ``name`` and
    ``markets`` when the row's fields touch either (name_lc / markets_sort depend on
    those two alone, so they are recomputed only then).
    """
    if row.op == "create":
        raise ValueError("a create starts a view, it does not extend one")
    view = dict(current)
    _step(view, row, True)
    view["sync"] = _sync_of((current["sync"], row.state))
    if row.fields and ("name" in row.fields or "markets" in row.fields):
        view.update(derived(view["name"], view["markets"]))
    return view


def set_markets(ctx: Ctx, uid: str, markets: Sequence[str]) -> None:
    tm = ctx.m.market
    tm.delete().where(tm.uid == uid).execute()
    if markets:
        rows = [{"uid": uid, "market_lc": name_key(m), "market": m} for m in markets]
        tm.insert_many(rows).on_conflict_ignore().execute()


def refresh(ctx: Ctx, target: Target) -> Target:
    """Recompute and store ``target``'s local view (and its market rows) from its base and
    outbox; returns ``target`` updated in memory."""
    o = ctx.m.outbox
    rows = (
        o.select(o.op, o.status, o.fields, o.changed_at, o.state, o.status_since)
        .where(o.target == target.uid)
        .order_by(o.id)
        .namedtuples()  # no model instances: a target may have many rows pending
    )
    return _store_view(ctx, target, compute_view(*start_of(target), rows))


#: The local view's columns (what :func:`refresh_many` compares and writes).
VIEW_KEYS = (
    "name",
    "description",
    "markets",
    "status",
    "status_since",
    "updated_at",
    "sync",
    "name_lc",
    "markets_sort",
)
_OUTBOX_SQL = (
    "SELECT target, op, status, fields, changed_at, state, status_since FROM outbox"
    " WHERE target IN (SELECT value FROM json_each(?)) ORDER BY target, id"
)
OutboxRow = namedtuple("OutboxRow", "target op status fields changed_at state status_since")


def refresh_many(ctx: Ctx, targets: Sequence[Any]) -> None:
    """:func:`refresh` of many targets (models or records with the target's columns),
    set-based: their outbox rows in one statement, each view folded by
    :func:`compute_view`, the changed columns written with one statement per set of changed
    columns (``name_lc`` only when it changed: its trigger rewrites the search index)."""
    rows: dict[str, list[OutboxRow]] = {target.uid: [] for target in targets}
    cursor = ctx.db.cursor().execute(_OUTBOX_SQL, (json.dumps(list(rows)),))
    for uid, op, status, fields, changed_at, state, since in cursor:
        fields = None if fields is None else json.loads(fields)
        since = time_or_none(since)
        rows[uid].append(
            OutboxRow(uid, op, status, fields, time_from_text(changed_at), state, since)
        )
    updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for target in targets:
        view = compute_view(*start_of(target), rows[target.uid])
        changed = {k: view[k] for k in VIEW_KEYS if getattr(target, k) != view[k]}
        if not changed:
            continue
        updates.setdefault(tuple(changed), []).append((*db_values(ctx, changed), target.id))
        for key, value in changed.items():
            setattr(target, key, value)
        if "markets" in changed:
            set_markets(ctx, target.uid, view["markets"])
    for keys, params in updates.items():
        ctx.db.cursor().executemany(update_sql(keys), params)


def db_values(ctx: Ctx, columns: dict[str, Any]) -> tuple[Any, ...]:
    """``columns`` of a target as SQLite stores them."""
    t = ctx.m.target
    return tuple(getattr(t, k).db_value(v) for k, v in columns.items())


def update_sql(keys: Sequence[str]) -> str:
    return f"UPDATE targets SET {', '.join(f'{k} = ?' for k in keys)} WHERE id = ?"


def _store_view(ctx: Ctx, target: Target, view: dict[str, Any]) -> Target:
    changed = {k: v for k, v in view.items() if getattr(target, k) != v}
    if changed:
        t = ctx.m.target
        t.update(changed).where(t.id == target.id).execute()
        for key, value in changed.items():
            setattr(target, key, value)
        if "markets" in changed:
            set_markets(ctx, target.uid, view["markets"])
    return target


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else to_utc(value)


def base_columns(state: TargetState) -> dict[str, Any]:
    status = parse_status(state.status)
    return {
        "server_version": state.version,
        "server_name": state.name,
        "server_description": state.description,
        "server_markets": list(state.markets),
        "server_status": status.value if status else None,
        "server_status_changed_at": _utc(state.status_changed_at),
        "server_status_changed_by": state.status_changed_by,
        "server_updated_at": _utc(state.last_updated),
        "created_at": _utc(state.created_at),
    }


def move_base(ctx: Ctx, target: Target, state: TargetState | None) -> bool:
    """Server base := ``state`` when it is newer than the base we have. Call
    :func:`refresh` after."""
    if state is None or (
        target.server_version is not None and state.version <= target.server_version
    ):
        return False
    columns = base_columns(state)
    t = ctx.m.target
    t.update(columns).where(t.id == target.id).execute()
    for key, value in columns.items():
        setattr(target, key, value)
    return True
