"""Daemon-facing: the outbox going out, push results and pulled states coming in."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

from peewee import fn

from . import clash, pull, resend
from .context import Ctx
from .presence import sync_process_pid
from .schema import Outbox, Target, time_from_text, time_or_none, time_text
from .types import PushSummary, SyncState
from .view import VIEW_KEYS, base_columns, db_values, refresh_many, update_sql

if TYPE_CHECKING:  # pydantic's models are imported where built: off the TUI's start
    from protocol.wire import Change, Result, TargetState

    #: A result's target state: the model, or its JSON object (:class:`PushResult`).
    State = TargetState | dict[str, Any]

HELD_STATES = ("conflict", "rejected")
DONE = ("applied", "duplicate", "converged")
PULL_CURSOR = pull.PULL_CURSOR


#: Pending changes in creation order, without the targets held behind a conflict or a
#: rejection (``outbox_state`` walks the pending ones in id order).
_TAKE_SQL = (
    "SELECT change_id, target, op, base_version, status, fields, changed_at, note, status_since"
    " FROM outbox WHERE state = 'pending' AND target NOT IN"
    f" (SELECT target FROM outbox WHERE state IN {HELD_STATES!r})"
    " ORDER BY id LIMIT ?"
)


def to_change(row: tuple[Any, ...]) -> Change:
    """An outbox row as read by :data:`_TAKE_SQL` as a wire change."""
    from protocol.wire import Change, ChangeFields

    change_id, target, op, base_version, status, fields, changed_at, note, since = row
    return Change(
        change_id=uuid.UUID(change_id),
        target=uuid.UUID(target),
        op=op,
        base_version=None if op == "create" else base_version,
        status=status,
        fields=None if fields is None else ChangeFields(**json.loads(fields)),
        changed_at=time_from_text(changed_at),
        note=note,
        status_since=time_or_none(since),
    )


def take_batch(ctx: Ctx, limit: int) -> list[Change]:
    with ctx.read():
        return [to_change(row) for row in ctx.db.cursor().execute(_TAKE_SQL, (limit,))]


class WireChange(NamedTuple):
    """A pending change ready to send: its ids (to plan pushes and match the answer) and
    its JSON, written by SQLite byte for byte as ``Change.model_dump_json()`` would."""

    change_id: str
    target: str
    json: str


#: :data:`_TAKE_SQL` with each row's wire JSON built by SQLite (``json_object`` quotes
#: text exactly as pydantic does; ``fields`` is stored compact by the same rules), in
#: :class:`~protocol.wire.Change`'s key order: no model per change. A time with zero
#: microseconds loses them, as pydantic writes it. ``status_since`` is there only when
#: set (``json_patch`` drops a null), as the model leaves it out: a server from before it
#: refuses unknown keys, and then refuses only the undos that carry it.
def _wire_time(column: str) -> str:
    """SQL of a stored time as pydantic writes it (no ``.000000`` microseconds)."""
    return f"iif(substr({column}, 20) = '.000000Z', substr({column}, 1, 19) || 'Z', {column})"


_TAKE_JSON_SQL = _TAKE_SQL.replace(
    "change_id, target, op, base_version, status, fields, changed_at, note, status_since",
    "change_id, target, json_patch(json_object("
    "'change_id', change_id, 'target', target, 'op', op,"
    " 'base_version', iif(op = 'create', NULL, base_version), 'status', status,"
    " 'fields', iif(fields IS NULL, NULL, json_object('name', fields -> '$.name',"
    " 'description', fields -> '$.description', 'markets', fields -> '$.markets')),"
    f" 'changed_at', {_wire_time('changed_at')}, 'note', note),"
    f" json_object('status_since', {_wire_time('status_since')}))",
)


def take_wire_batch(ctx: Ctx, limit: int) -> list[WireChange]:
    """:func:`take_batch` as wire JSON (what the daemon sends)."""
    with ctx.read():
        return [WireChange(*row) for row in ctx.db.cursor().execute(_TAKE_JSON_SQL, (limit,))]


class PushResult(NamedTuple):
    """A push result as the daemon reads it, without a model per row: ``target`` is the
    server's state as a JSON object whose ``version`` was checked; the whole state is
    checked (:class:`~protocol.wire.TargetState`) only where it is stored."""

    change_id: str
    outcome: str
    target: dict[str, Any] | None = None
    error: str | None = None


#: A change's base is the server version it was made on (DESIGN.md): the server counts
#: other devices' changes since it, so moving it on would hide a teammate's change the
#: user never saw. Only where the device has taken the server's side of a field group
#: do its later changes of that group build on the server's version: a ``converged``
#: answer (the server accepts the group the same way within one push, server/push.py;
#: a converged create accepts both groups) and a settled conflict. An ``applied`` or
#: ``duplicate`` answer moves nothing: the server never counts the device's own changes.
REBASED_OPS = {"create": ("set_status", "edit"), "set_status": ("set_status",), "edit": ("edit",)}

#: The target's pending changes of one op made after an outbox id build on a new
#: version. ``+state`` keeps SQLite off the ``outbox_state (state, id)`` index, which
#: would walk every later pending change of every target (O(n^2) over a backlog);
#: ``outbox_target (target, id)`` walks only this target's rows.
REBASE_SQL = (
    "UPDATE outbox SET base_version = ?"
    " WHERE target = ? AND op = ? AND id > ? AND +state = 'pending'"
)


def rebase_after(ctx: Ctx, row: Outbox, version: int) -> None:
    """The target's pending changes of ``row``'s field group made after it now build on
    ``version`` (the server's side of that group, taken)."""
    for op in REBASED_OPS[row.op]:
        ctx.db.execute_sql(REBASE_SQL, (version, row.target, op, row.id))


def rebase_plan(ctx: Ctx) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN lines for :data:`REBASE_SQL` (tests)."""
    with ctx.read():
        rows = ctx.db.execute_sql(f"EXPLAIN QUERY PLAN {REBASE_SQL}", (0, "", "", 0)).fetchall()
    return [row[-1] for row in rows]


def _field(state: State, name: str) -> Any:
    """A field of a result's state, the model or its JSON object."""
    return state.get(name) if isinstance(state, dict) else getattr(state, name)


def _version(state: State) -> int:
    return _field(state, "version")


def _state_model(state: State) -> TargetState:
    """The model of a state (ValidationError when the server sent a malformed one)."""
    from protocol.wire import TargetState

    return TargetState.model_validate(state) if isinstance(state, dict) else state


def _server_json(state: State | None) -> dict[str, Any] | None:
    return None if state is None else _state_model(state).model_dump(mode="json")


#: Range form of :data:`REBASE_SQL`: pending changes between two converged changes.
_REBASE_RANGE_SQL = REBASE_SQL + " AND id < ?"
_DELETE_SQL = "DELETE FROM outbox WHERE id = ?"
#: An edit of ours the server applied, kept (before its outbox row goes) to be sent again
#: if a restored server loses it (storage/resend.py).
_SENT_EDIT_SQL = (
    "INSERT OR REPLACE INTO sent_edits (change_id, target, fields, changed_at, server_version)"
    " SELECT change_id, target, fields, changed_at, ? FROM outbox WHERE id = ?"
)
#: A ``duplicate`` answer carries the target's state now, not as of the change (applied
#: before, its answer lost): the version a pull recorded for it stays (history is in the
#: server's order), and a pull records the true one later where none is known yet.
_AUDIT_SQL = (
    "UPDATE audit SET server_version = iif(?2 = 'duplicate' AND server_version IS NOT NULL,"
    " server_version, ?1), converged = iif(?2 = 'converged', 1, NULL) WHERE change_id = ?3"
)
_CONFLICT_SQL = (
    "UPDATE outbox SET state = 'conflict', server_state = ?, attempts = attempts + 1 WHERE id = ?"
)
_REJECTED_SQL = (
    "UPDATE outbox SET state = 'rejected', last_error = ?, attempts = attempts + 1 WHERE id = ?"
)
_BLOCKED_SQL = "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?"
_HELD_REBASE_SQL = (
    "UPDATE outbox SET base_version = ? WHERE id = ? AND target = ? AND op != 'create'"
)


#: A change sent again on another base (:func:`restored_base`): still pending.
_RESTORED_SQL = "UPDATE outbox SET base_version = ?, attempts = attempts + 1 WHERE id = ?"


def restored_base(
    state: State | None, op: str, base_version: int | None, changed_at: str
) -> int | None:
    """For a change refused because its base version is ahead of the server's (the server
    lost versions: its database was restored from a backup), the base to send it again
    on; None for any other refusal.

    The version our change was made on is gone, so the server cannot tell whether a
    teammate changed the target since: it goes as after a pull from the start
    (:func:`storage.resend.base_on`), not as a refusal for the user to correct by hand.
    (A server that checks the push's cursor refuses such a push before deciding it.)"""
    if state is None or op == "create" or base_version is None:
        return None
    version = _version(state)
    if base_version <= version:
        return None
    latest = _state_time(state, "status_changed_at" if op == "set_status" else "last_updated")
    return resend.base_on(version, latest, time_from_text(changed_at))


def _state_time(state: State, name: str) -> datetime | None:
    value = _field(state, name)
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _many(ctx: Ctx, sql: str, params: list[tuple[Any, ...]]) -> None:
    if params:
        ctx.db.cursor().executemany(sql, params)


def _rebase_params(done: list[tuple[int, int]], key: tuple[str, str]) -> list[tuple[Any, ...]]:
    """Rebase statements with the effect of rebasing after each converged change of a
    target's ``key`` ((uid, op) of the changes rebased) in result order (``done``: (outbox
    id, version)): a later one at a lower id overrides an earlier one, so only the suffix
    of rising ids counts, each up to the next one."""
    kept: list[tuple[int, int]] = []
    for row_id, version in reversed(done):
        if not kept or row_id < kept[-1][0]:
            kept.append((row_id, version))
    kept.reverse()
    params: list[tuple[Any, ...]] = []
    for (row_id, version), (next_id, _) in zip(kept, kept[1:], strict=False):
        if next_id - row_id > 1:  # pending rows can only lie strictly between the two
            params.append((version, *key, row_id, next_id))
    return params


def _held_base(
    held: dict[int, tuple[int, str] | None], done: Sequence[tuple[int, int]], row_id: int, uid: str
) -> None:
    """The base a change held now (conflict, rejected) got while pending: from the last
    converged change of its group before it in result order that is older than it (a
    rebase covers only pending rows)."""
    if row_id in held:
        return
    version = _rebased_by(done, row_id)  # held from here on: no later rebase reaches it
    held[row_id] = None if version is None else (version, uid)


def _rebased_by(done: Sequence[tuple[int, int]], row_id: int) -> int | None:
    """The version a pending change was rebased on by the converged changes booked so far
    (``done``: its target's and op's (outbox id, version) in result order): the last older
    one's."""
    return next((version for done_id, version in reversed(done) if done_id < row_id), None)


class _Booked(NamedTuple):
    """An outbox row a push answered, as booking reads it."""

    id: int
    target: str
    op: str
    base_version: int | None
    changed_at: str


#: What booking results reads of a touched target: the server base (moved here) and the
#: local view (compared with the recomputed one, written where they differ).
_TARGET_FIELDS = [
    f
    for f in Target._meta.sorted_fields
    if f.name in ("id", "uid", "created_at", *VIEW_KEYS) or f.name.startswith("server_")
]
_IN_JSON = "IN (SELECT value FROM json_each(?))"
_ROWS_SQL = (
    "SELECT change_id, state, id, target, op, base_version, changed_at FROM outbox"
    f" WHERE change_id {_IN_JSON}"
)
_TARGETS_SQL = (
    f"SELECT {', '.join(f.column_name for f in _TARGET_FIELDS)} FROM targets WHERE uid {_IN_JSON}"
)


def _read_targets(ctx: Ctx, uids: Sequence[str]) -> dict[str, SimpleNamespace]:
    """The touched targets as plain records (what :func:`view.start_of` reads)."""
    cursor = ctx.db.cursor().execute(_TARGETS_SQL, (json.dumps(list(uids)),))
    records = (
        SimpleNamespace(
            **{f.name: f.python_value(v) for f, v in zip(_TARGET_FIELDS, row, strict=True)}
        )
        for row in cursor
    )
    return {record.uid: record for record in records}


def _move_bases(ctx: Ctx, targets: dict[str, Any], newest: dict[str, State]) -> None:
    """Server base := the newest state among a target's results, when newer than its base."""
    params: list[tuple[Any, ...]] = []
    sql = ""
    for uid, state in newest.items():
        target = targets[uid]
        if target.server_version is not None and _version(state) <= target.server_version:
            continue
        columns = base_columns(_state_model(state))
        sql = sql or update_sql(list(columns))
        params.append((*db_values(ctx, columns), target.id))
        for key, value in columns.items():
            setattr(target, key, value)
    _many(ctx, sql, params)


def apply_push_results(ctx: Ctx, results: Sequence[Result | PushResult]) -> PushSummary:
    """Book the server's results of a push, set-based: a few statements per call (grouped by
    outcome, executemany) and one view refresh per touched target, with the effect of
    applying the results one by one in order. Plain SQL, no model instances: a push books
    up to thousands of results. A target state is made a model only where it is stored
    (the newest per target, a conflict's): a malformed one raises ValidationError with
    nothing written."""
    o = ctx.m.outbox
    counts: Counter[str] = Counter()
    # Refetchable: results booked are never a user's work (the outbox rows were written
    # with a full sync); a booking lost to a power cut leaves them pending, and pushing
    # them again is answered ``duplicate`` and booked then.
    with ctx.write_refetchable():
        ids = list(dict.fromkeys(str(r.change_id) for r in results))
        rows: dict[str, _Booked] = {}
        held: dict[int, tuple[int, str] | None] = {}  # held in this call: (version, target) by id
        for cid, row_state, *row in ctx.db.cursor().execute(_ROWS_SQL, (json.dumps(ids),)):
            rows[cid] = _Booked(*row)
            if row_state != "pending":
                held[rows[cid].id] = None  # held already: no rebase reaches it
        gone: set[str] = set()
        # converged changes, by the (target, op) of the pending changes they rebase
        done: dict[tuple[str, str], list[tuple[int, int]]] = {}
        newest: dict[str, State] = {}
        deletes, audits, conflicts, rejected, blocked, restored = [], [], [], [], [], []
        # refused creates of ours whose uid the server gives another: (uid, change id)
        clashed: dict[str, str] = {}
        sent_edits: list[tuple[int, int]] = []  # (version, outbox id) of edits applied
        for result in results:
            change_id = str(result.change_id)
            if change_id not in rows or change_id in gone:
                continue  # done already (a retry after a lost response), or to send again
            row = rows[change_id]
            row_id, uid = row.id, row.target
            counts[result.outcome] += 1
            state = result.target
            version = None if state is None else _version(state)
            if result.outcome in DONE:
                gone.add(change_id)
                deletes.append((row_id,))
                if state is not None:
                    audits.append((version, result.outcome, change_id))
                if state is not None and row.op == "edit" and result.outcome != "converged":
                    sent_edits.append((version, row_id))
                if state is not None and result.outcome == "converged":
                    for op in REBASED_OPS[row.op]:
                        done.setdefault((uid, op), []).append((row_id, version))
            elif result.outcome == "conflict":
                conflicts.append((o.server_state.db_value(_server_json(state)), row_id))
                _held_base(held, done.get((uid, row.op), ()), row_id, uid)
            elif result.outcome == "rejected":
                # its base now: as rebased by a converged change of this push before it
                base_now = _rebased_by(done.get((uid, row.op), ()), row_id)
                base_now = row.base_version if base_now is None else base_now
                if (base := restored_base(state, row.op, base_now, row.changed_at)) is not None:
                    counts["rejected"] -= 1  # not refused: to be sent on the server's version
                    counts["rebased"] += 1
                    restored.append((base, row_id))
                    gone.add(change_id)
                else:
                    error = result.error or "the server rejected this change"
                    if row.op == "create" and state is not None:  # the uid is another's
                        clashed[uid] = change_id
                        error = clash.reason(_field(state, "name"))
                    rejected.append((error, row_id))
                    _held_base(held, done.get((uid, row.op), ()), row_id, uid)
            else:  # blocked: an earlier change of this target was not applied; try later
                blocked.append((row_id,))
            if state is not None and (uid not in newest or version > _version(newest[uid])):
                newest[uid] = state
        touched = list(dict.fromkeys(rows[c].target for c in ids if c in rows))
        targets = _read_targets(ctx, touched)
        _many(ctx, _SENT_EDIT_SQL, sent_edits)
        _many(ctx, _DELETE_SQL, deletes)
        _many(ctx, _AUDIT_SQL, audits)
        _many(ctx, _CONFLICT_SQL, conflicts)
        _many(ctx, _REJECTED_SQL, rejected)
        _many(ctx, _BLOCKED_SQL, blocked)
        # the rows still pending: once per target and op (plus ranges between converged ones)
        rebases: list[tuple[Any, ...]] = []
        for key, entries in done.items():
            rebases += _rebase_params(entries, key)
        _many(ctx, _REBASE_RANGE_SQL, rebases)
        last = [(entries[-1][1], *key, entries[-1][0]) for key, entries in done.items()]
        _many(ctx, REBASE_SQL, last)
        # the rows held in this call: rebased by the converged changes booked before them
        _many(
            ctx,
            _HELD_REBASE_SQL,
            [(h[0], row_id, h[1]) for row_id, h in held.items() if h is not None],
        )
        # a base the server lost, replaced (after the rebases above: a push answers a
        # target's changes in order, and none after a refused one); still pending
        _many(ctx, _RESTORED_SQL, restored)
        moved = clash.set_apart(ctx, clashed.items())  # ours apart; the uid shows the team's
        _move_bases(ctx, targets, newest)
        refresh_many(ctx, [targets[uid] for uid in touched])
        if moved:
            refresh_many(ctx, list(_read_targets(ctx, list(moved.values())).values()))
    return PushSummary(**counts)


apply_pull = pull.apply_pull  # set-based, a few statements per page: see storage/pull.py


def pull_cursor(ctx: Ctx) -> str | None:
    return ctx.get_meta(PULL_CURSOR)


def a_synced_target(ctx: Ctx) -> str | None:
    """The uid of one target a server has acknowledged (its version is known), or None
    when the store holds nothing from a server."""
    with ctx.read():
        row = ctx.db.execute_sql(
            "SELECT uid FROM targets WHERE server_version IS NOT NULL LIMIT 1"
        ).fetchone()
    return None if row is None else row[0]


# ---- sync state -------------------------------------------------------------------------


#: meta key: the pid of the process that recorded the sync state.
_REPORTER = "sync_state_pid"

#: The meta keys the sync state is read from (one query).
_HINT = "error_hint"
_STATE_KEYS = (
    resend.RESENT,
    "online",
    "online_since",
    "last_sync_at",
    "last_error",
    _HINT,
    _REPORTER,
    pull.PULL_MORE,
    pull.PULL_AGAIN,
)


def sync_state(ctx: Ctx, server: str | None) -> SyncState:
    o = ctx.m.outbox
    now = ctx.now()
    with ctx.read():
        # Counts from the (state, id) index alone; the oldest pending change is the first
        # by id (the outbox is in creation order): no pass over the pending rows, which
        # the sync bar would pay on every write at a large backlog.
        counts = dict(o.select(o.state, fn.COUNT(o.id)).group_by(o.state).tuples())
        sendable = o.state == "pending"
        held = 0
        if counts.get("conflict") or counts.get("rejected"):  # few targets: by their index
            stopped = o.select(o.target).where(o.state.in_(HELD_STATES))
            held = o.select().where(sendable & o.target.in_(stopped)).count()
            sendable &= o.target.not_in(stopped)
        first = (
            o.select(o.changed_at.coerce(False)).where(sendable).order_by(o.id).limit(1).scalar()
        )
        # What a daemon recorded holds only while that very process runs: after a crash
        # (kill -9, power loss) nothing else would ever say it went offline, and the
        # daemon started after it has not reached the server yet.
        pid = sync_process_pid(ctx.path.parent)
        m = ctx.m.meta
        meta = dict(m.select(m.key, m.value).where(m.key.in_(_STATE_KEYS)).tuples())
        recorder = meta.get(_REPORTER)
        if recorder is None and "online" in meta:
            # recorded by an earlier pipetrack, which did not record its pid: a daemon
            # not restarted since an upgrade. Trusted while one runs, as it was then.
            reported = pid is not None
        else:
            reported = pid is not None and recorder == str(pid)
        return SyncState(
            online=reported and meta.get("online") == "1",
            online_since=time_or_none(meta.get("online_since")),
            last_sync_at=time_or_none(meta.get("last_sync_at")),
            pending=counts.get("pending", 0),
            oldest_pending_age_s=(
                None if first is None else (now - time_from_text(first)).total_seconds()
            ),
            conflicts=counts.get("conflict", 0),
            rejected=counts.get("rejected", 0),
            last_error=meta.get("last_error"),
            hint=meta.get(_HINT),
            server=server,
            daemon_running=pid is not None,
            reported=reported,
            pulling=pid is not None and meta.get(pull.PULL_MORE) == "1",
            pulling_again=meta.get(pull.PULL_AGAIN) is not None,
            resent=int(meta.get(resend.RESENT) or 0),
            held=held,
        )


def record_sync(
    ctx: Ctx, *, online: bool, error: str | None, synced: bool, hint: str | None = None
) -> None:
    now = time_text(ctx.now())
    me = str(os.getpid())
    with ctx.write():
        # a new process (a daemon started after one killed -9) counts its own time
        # online: the dead one's "online since" is not this one's
        new_reporter = ctx.get_meta(_REPORTER) != me
        ctx.set_meta(_REPORTER, me)
        if new_reporter or ctx.get_meta("online") != ("1" if online else "0"):
            ctx.set_meta("online", "1" if online else "0")
            ctx.set_meta("online_since", now)
        ctx.set_meta("last_error", error)
        ctx.set_meta(_HINT, hint)
        if synced:
            ctx.set_meta("last_sync_at", now)
