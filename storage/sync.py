"""Daemon-facing: the outbox going out, push results and pulled states coming in."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from peewee import fn

from protocol.wire import Change, ChangeFields, Result, TargetState

from . import pull
from .context import Ctx
from .schema import Outbox, Target, time_from_text, time_text
from .types import PushSummary, SyncState
from .view import move_base, refresh

HELD_STATES = ("conflict", "rejected")
DONE = ("applied", "duplicate", "converged")
PULL_CURSOR = pull.PULL_CURSOR


def to_change(row: Outbox) -> Change:
    return Change(
        change_id=uuid.UUID(row.change_id),
        target=uuid.UUID(row.target),
        op=row.op,
        base_version=None if row.op == "create" else row.base_version,
        status=row.status,
        fields=None if row.fields is None else ChangeFields(**row.fields),
        changed_at=row.changed_at,
        note=row.note,
    )


def take_batch(ctx: Ctx, limit: int) -> list[Change]:
    o = ctx.m.outbox
    held = o.select(o.target).where(o.state.in_(HELD_STATES))
    with ctx.read():
        rows = (
            o.select()
            .where(o.state == "pending", o.target.not_in(held))
            .order_by(o.id)
            .limit(limit)
        )
        return [to_change(row) for row in rows]


#: The target's pending changes made after an outbox id build on a new version. ``+state``
#: keeps SQLite off the ``outbox_state (state, id)`` index, which would walk every later
#: pending change of every target (O(n^2) over a backlog); ``outbox_target (target, id)``
#: walks only this target's rows.
REBASE_SQL = (
    "UPDATE outbox SET base_version = ? "
    "WHERE target = ? AND id > ? AND +state = 'pending' AND op != 'create'"
)


def rebase_after(ctx: Ctx, row: Outbox, version: int) -> None:
    """The target's pending changes made after ``row`` now build on ``version``."""
    ctx.db.execute_sql(REBASE_SQL, (version, row.target, row.id))


def rebase_plan(ctx: Ctx) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN lines for :data:`REBASE_SQL` (tests)."""
    with ctx.read():
        rows = ctx.db.execute_sql(f"EXPLAIN QUERY PLAN {REBASE_SQL}", (0, "", 0)).fetchall()
    return [row[-1] for row in rows]


def _server_json(state: TargetState | None) -> dict[str, Any] | None:
    return None if state is None else state.model_dump(mode="json")


def _apply_result(ctx: Ctx, row: Outbox, target: Target, result: Result) -> None:
    o, a = ctx.m.outbox, ctx.m.audit
    state = result.target
    if result.outcome in DONE:
        row.delete_instance()
        if state is not None:
            a.update(server_version=state.version).where(a.change_id == row.change_id).execute()
            rebase_after(ctx, row, state.version)
    elif result.outcome == "conflict":
        o.update(state="conflict", server_state=_server_json(state), attempts=o.attempts + 1).where(
            o.id == row.id
        ).execute()
    elif result.outcome == "rejected":
        reason = result.error or "the server rejected this change"
        o.update(state="rejected", last_error=reason, attempts=o.attempts + 1).where(
            o.id == row.id
        ).execute()
    else:  # blocked: an earlier change of this target was not applied; try again later
        o.update(attempts=o.attempts + 1).where(o.id == row.id).execute()
    move_base(ctx, target, state)


def apply_push_results(ctx: Ctx, results: Sequence[Result]) -> PushSummary:
    o, t = ctx.m.outbox, ctx.m.target
    counts: Counter[str] = Counter()
    with ctx.write():
        for result in results:
            row = o.get_or_none(o.change_id == str(result.change_id))
            if row is None:  # done already: a retry after a lost response
                continue
            counts[result.outcome] += 1
            target = t.get(t.uid == row.target)
            _apply_result(ctx, row, target, result)
            refresh(ctx, target)
    return PushSummary(**counts)


apply_pull = pull.apply_pull  # set-based, a few statements per page: see storage/pull.py


def pull_cursor(ctx: Ctx) -> str | None:
    return ctx.get_meta(PULL_CURSOR)


# ---- sync state -------------------------------------------------------------------------


def _time(ctx: Ctx, key: str) -> Any:
    text = ctx.get_meta(key)
    return None if text is None else time_from_text(text)


def sync_state(ctx: Ctx, server: str | None) -> SyncState:
    o = ctx.m.outbox
    now = ctx.now()
    with ctx.read():
        rows = o.select(o.state, fn.COUNT(o.id), fn.MIN(o.changed_at).coerce(False)).group_by(
            o.state
        )
        counts = {state: (n, oldest) for state, n, oldest in rows.tuples()}
        pending, oldest = counts.get("pending", (0, None))
        return SyncState(
            online=ctx.get_meta("online") == "1",
            online_since=_time(ctx, "online_since"),
            last_sync_at=_time(ctx, "last_sync_at"),
            pending=pending,
            oldest_pending_age_s=(
                None if oldest is None else (now - time_from_text(oldest)).total_seconds()
            ),
            conflicts=counts.get("conflict", (0, None))[0],
            rejected=counts.get("rejected", (0, None))[0],
            last_error=ctx.get_meta("last_error"),
            server=server,
        )


def record_sync(ctx: Ctx, *, online: bool, error: str | None, synced: bool) -> None:
    now = time_text(ctx.now())
    with ctx.write():
        if ctx.get_meta("online") != ("1" if online else "0"):
            ctx.set_meta("online", "1" if online else "0")
            ctx.set_meta("online_since", now)
        ctx.set_meta("last_error", error)
        if synced:
            ctx.set_meta("last_sync_at", now)
