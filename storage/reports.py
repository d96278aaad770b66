"""Read-side reports: a target's history, recent activity across targets, the summary,
stale targets since last open."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peewee import JOIN, fn

from protocol import STATUS_ORDER, undone_id

from . import query, stagnation
from .context import Ctx
from .schema import time_from_text, time_text
from .types import ActivityEntry, HistoryEntry, Summary, TargetQuery, TargetView

#: Summary buckets of days in status: 0-7, 8-30, 31-90, 90+ (upper bounds, inclusive).
BUCKET_LIMITS = (7, 30, 90)
LAST_OPEN = "last_open_mark"


def _not_anothers(ctx: Ctx) -> Any:
    """Audit rows that are this target's: while the server refuses our new target
    because its uid is another target's (a copied export), the history pulled for that
    uid is the other target's, not the one the user sees here."""
    a, o = ctx.m.audit, ctx.m.outbox
    refused = o.select(o.target).where((o.op == "create") & (o.state == "rejected"))
    return (a.origin == "local") | a.target.not_in(refused)


#: Above every server version: a change not yet on the server sorts after those that are.
_PENDING = 1 << 62


def _pending_last(version: int | None) -> int:
    return _PENDING if version is None else version


def history(ctx: Ctx, uid: str) -> list[HistoryEntry]:
    a, o = ctx.m.audit, ctx.m.outbox
    with ctx.read():
        target = query.load(ctx, uid)
        rows = list(
            a.select(a, o.state.alias("outbox_state"))
            .join(o, JOIN.LEFT_OUTER, on=(o.change_id == a.change_id))
            .where((a.target == uid) & _not_anothers(ctx))
            # in the server's order (a change of ours it stamped with a teammate's time,
            # or before the pull dates it as the server did, is after theirs), then the
            # changes not on the server yet, which apply on top, as made
            .order_by(fn.COALESCE(a.server_version, _PENDING), a.changed_at, a.id)
            .objects()
        )
    entries, began = [], target.created_at  # when the status of the moment began
    began_before: dict[str, datetime] = {}  # change id -> when the status it ended began
    for row in rows:
        entries.append(_entry(row, began))
        began_before[row.change_id] = began
        undone = undone_id(row.note)
        # an undo brings back its status with the days it had (as the target's view does)
        began = began_before.get(undone, row.changed_at) if undone else row.changed_at
    return entries


def _began_before(ctx: Ctx, target: str, change_id: str) -> datetime | None:
    """When the status that ``change_id`` (of ``target``) ended had begun: the change
    before it, or the target's creation; None when the change is not here."""
    a, t = ctx.m.audit, ctx.m.target
    undone = a.get_or_none(a.change_id == change_id)
    if undone is None:
        return None
    before = (
        a.select(fn.MAX(a.changed_at))
        .where((a.target == target) & (a.changed_at < undone.changed_at))
        .scalar()
    )
    if before is not None:
        return time_from_text(before) if isinstance(before, str) else before
    return t.get(t.uid == target).created_at


def _entry(row: Any, previous: datetime) -> HistoryEntry:
    """An audit row (with its outbox state) as a history entry; ``previous``: when the
    status it changed began."""
    synced = row.origin == "server" or row.server_version is not None
    return HistoryEntry(
        change_id=row.change_id,
        old_status=row.old_status,
        new_status=row.new_status,
        changed_at=row.changed_at,
        changed_by=row.changed_by,
        note=row.note,
        days_in_previous=stagnation.days_since(previous, row.changed_at),
        origin=row.origin,
        sync=("converged" if row.converged else "synced")
        if synced
        else (row.outbox_state or "synced"),
    )


def activity(
    ctx: Ctx, since: datetime, by: str | None = None, limit: int | None = None
) -> list[ActivityEntry]:
    """Status changes of every target made at ``since`` or later (``by`` one user),
    newest first. The audit's times are scanned in full (an index on them would cost
    every status change a write): the newest 50 of 83,000 changes take ~25 ms, all of
    them ~2 s."""
    a, o, t = ctx.m.audit, ctx.m.outbox, ctx.m.target
    p = a.alias("p")
    # when the status changed began: a seek on the (target, changed_at) index
    before = p.select(fn.MAX(p.changed_at)).where(
        (p.target == a.target) & (p.changed_at < a.changed_at)
    )
    # and that change's note: an undo's brings back the days of the status it restored
    before_note = (
        p.select(p.note)
        .where((p.target == a.target) & (p.changed_at < a.changed_at))
        .order_by(p.changed_at.desc(), p.id.desc())
        .limit(1)
    )
    newest_first = (a.changed_at.desc(), a.id.desc())
    chosen = a.select(a.id).where(
        a.changed_at >= since, _not_anothers(ctx), *([a.changed_by == by] if by else [])
    )
    chosen = chosen.order_by(*newest_first).limit(limit)  # ids first: the rest per row kept
    found = (
        a.select(
            a,
            o.state.alias("outbox_state"),
            t.name.alias("target_name"),
            fn.COALESCE(before, t.created_at).alias("previous_at"),
            before_note.alias("previous_note"),
        )
        .join(t, on=(t.uid == a.target))
        .join(o, JOIN.LEFT_OUTER, on=(o.change_id == a.change_id))
        .where(a.id.in_(chosen))
        .order_by(*newest_first)
    )
    with ctx.read():
        rows = list(found.objects())
        # as history orders them: equal times in the server's order (SQL keeps to its
        # (changed_at, id) index, which picks the rows)
        rows.sort(key=lambda r: (r.changed_at, _pending_last(r.server_version), r.id), reverse=True)
        began = {}
        for row in rows:
            began[row.id] = time_from_text(row.previous_at)
            undone = undone_id(row.previous_note)
            if undone:  # few: the changes right after an undo
                began[row.id] = _began_before(ctx, row.target, undone) or began[row.id]
    return [ActivityEntry(row.target, row.target_name, _entry(row, began[row.id])) for row in rows]


#: Stale targets, longest in their status first.
STALE = TargetQuery(stagnation=("stale",), sort="days", descending=True)


def stale_targets(ctx: Ctx) -> list[TargetView]:
    return query.list_targets(ctx, STALE)


def _counts_since(ctx: Ctx, status: str | None, edges: list[str]) -> list[int]:
    """Targets in ``status`` whose status began after each edge, then all of them: range
    counts on the (status, status_since) index (no row read, no sort)."""
    where = "status IS NULL" if status is None else "status = ?"
    given = [] if status is None else [status]
    sql = f"SELECT count(*) FROM targets WHERE {where}"

    def count(text: str, *params: str) -> int:
        return ctx.db.execute_sql(text, [*given, *params]).fetchone()[0]

    return [*(count(f"{sql} AND status_since > ?", edge) for edge in edges), count(sql)]


def summary(ctx: Ctx) -> Summary:
    now = ctx.now()
    edges = [time_text(now - (days + 1) * stagnation.DAY) for days in BUCKET_LIMITS]
    keys: list[str | None] = [s.value for s in STATUS_ORDER] + [None]
    with ctx.read():
        since = {k: _counts_since(ctx, k, edges) for k in keys}
    # bucket i holds those after edge i but not after edge i-1 (the edges go back in time)
    buckets = {k: tuple(b - a for a, b in zip([0, *n], n, strict=False)) for k, n in since.items()}
    return Summary(
        total=sum(n[-1] for n in since.values()),
        by_status={k: n[-1] for k, n in since.items()},
        buckets=buckets,  # type: ignore[arg-type]
    )


def became_stale_since_last_open(ctx: Ctx) -> int:
    """Stale now but not at the previous mark (every stale target on the first call)."""
    t = ctx.m.target
    now = ctx.now()
    stale_now = stagnation.where(t, stagnation.cutoffs(ctx.thresholds, now), ("stale",))
    with ctx.write():
        mark = ctx.get_meta(LAST_OPEN)
        ctx.set_meta(LAST_OPEN, time_text(now))
        condition = stale_now
        if mark is not None:
            then = stagnation.cutoffs(ctx.thresholds, time_from_text(mark))
            condition = stale_now & ~stagnation.where(t, then, ("stale",))
        return t.select(fn.COUNT(t.id)).where(condition).scalar()
