"""User actions. Each is one transaction: local view + audit row + outbox row.

``_fault_hook`` lets tests break a transaction between its writes: it is called with
the name of the write just made ("target", "audit", "outbox", "view") and may raise.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from protocol import (
    UNDO_NOTE,
    InvalidInput,
    Status,
    clean_description,
    clean_markets,
    clean_name,
    clean_note,
    parse_status,
)

from . import query
from . import status as status_rows
from .bulk import insert_rows
from .context import Ctx
from .fold import name_key
from .schema import Target, time_or_none
from .types import NotUndone, StatusChange, TargetView, Undone
from .view import compute_view, empty_start, refresh

_fault_hook: Callable[[str], None] | None = None

_STAGE_FROM = 100  # rows; below this a temporary table costs more than it saves


def _fault(step: str) -> None:
    if _fault_hook is not None:
        _fault_hook(step)


@dataclass
class Change:
    """A local change about to be written: its outbox row and, for status changes, its
    audit row."""

    outbox: dict[str, Any]
    audit: dict[str, Any] | None = None


def make_change(
    ctx: Ctx,
    target: str,
    op: str,
    now: datetime,
    *,
    base_version: int | None,
    status: str | None = None,
    fields: dict[str, Any] | None = None,
    note: str | None = None,
    old_status: str | None = None,
    audited: bool = False,
    group: str | None = None,
) -> Change:
    change_id = str(uuid.uuid4())
    outbox = {
        "change_id": change_id,
        "target": target,
        "op": op,
        "base_version": base_version,
        "status": status,
        "fields": fields,
        "changed_at": now,
        "note": note,
    }
    audit = None
    if audited:
        audit = {
            "change_id": change_id,
            "target": target,
            "old_status": old_status,
            "new_status": status,
            "changed_at": now,
            "changed_by": ctx.user,
            "note": note,
            "origin": "local",
            "batch": group,
        }
    return Change(outbox, audit)


def write_changes(ctx: Ctx, changes: Sequence[Change]) -> None:
    insert_rows(ctx, ctx.m.audit, [c.audit for c in changes if c.audit])
    _fault("audit")
    insert_rows(ctx, ctx.m.outbox, [c.outbox for c in changes])
    _fault("outbox")


def base_version_of(target: Target) -> int:
    """What a change is made on: the server's version, 0 = "before the server has it"."""
    return target.server_version or 0


# ---- creating -------------------------------------------------------------------------


@dataclass
class NewTarget:
    """A validated target to create."""

    name: str
    description: str = ""
    markets: list[str] = field(default_factory=list)
    status: str | None = None
    note: str | None = None
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))


def validate_new(
    name: str,
    description: str | None,
    markets: Iterable[str] | None,
    status: Status | str | None,
    uid: str | None,
    note: str | None,
) -> NewTarget:
    new_status = parse_status(status)
    return NewTarget(
        name=clean_name(name),
        description=clean_description(description),
        markets=clean_markets(None if markets is None else list(markets)),
        status=new_status.value if new_status else None,
        note=clean_note(note),
        uid=query.canonical_uid(uid) if uid else str(uuid.uuid4()),
    )


def insert_new(ctx: Ctx, news: Sequence[NewTarget], group: str | None = None) -> None:
    """Create targets: target rows, market rows, audit rows (when a status is given)
    and outbox ``create`` rows. The bulk path of imports and the path of one create.
    ``group``: the status changes undone together that their statuses are part of."""
    now = ctx.now()
    targets, markets, changes = [], [], []
    for new in news:
        details = {"name": new.name, "description": new.description, "markets": new.markets}
        change = make_change(
            ctx,
            new.uid,
            "create",
            now,
            base_version=None,
            status=new.status,
            fields=details,
            note=new.note,
            audited=new.status is not None,
            group=group,
        )
        row = SimpleNamespace(state="pending", **change.outbox)
        view = compute_view(empty_start(now), False, [row])
        targets.append({"uid": new.uid, "created_at": now, **view})
        markets.extend({"uid": new.uid, "market_lc": name_key(m), "market": m} for m in new.markets)
        changes.append(change)
    insert_rows(ctx, ctx.m.target, targets, staged=len(targets) > _STAGE_FROM)
    insert_rows(ctx, ctx.m.market, markets)
    _fault("target")
    write_changes(ctx, changes)
    _fault("view")


#: The first of the [name key, uid] pairs given (a JSON array, in order) whose
#: name a target other than that uid has.
_TAKEN_SQL = (
    "SELECT j.key, t.uid, t.name FROM json_each(?) AS j JOIN targets AS t"
    " ON t.name_lc = j.value ->> 0 AND t.uid != j.value ->> 1 ORDER BY j.key LIMIT 1"
)


def taken_name(ctx: Ctx, named: Sequence[tuple[str, str]]) -> tuple[int, InvalidInput] | None:
    """A name that another target has (in any case) is refused: a name is how people and
    imports find a target, and a second one would make it ambiguous. Teammates' targets
    pulled from the server may still share a name; resolving them then asks for a uid.

    ``named``: (name, uid) pairs, one query for all (an import may bring 100,000). The
    first pair whose name is taken, by position, and the error to raise; None if none."""
    pairs = json.dumps([[name_key(name), uid] for name, uid in named])
    found = ctx.db.cursor().execute(_TAKEN_SQL, (pairs,)).fetchall()
    if not found:
        return None
    [(index, other, other_name)] = found
    message = f"target {other[:8]} is already named {other_name!r}; choose another name"
    return index, InvalidInput("name", message)


def refuse_taken_name(ctx: Ctx, name: str, uid: str) -> None:
    """:func:`taken_name` for one target (``uid``, which may have the name itself)."""
    taken = taken_name(ctx, [(name, uid)])
    if taken:
        raise taken[1]


def create_target(ctx: Ctx, new: NewTarget) -> TargetView:
    with ctx.write():
        if ctx.m.target.get_or_none(ctx.m.target.uid == new.uid) is not None:
            raise InvalidInput("uid", f"a target with uid {new.uid} already exists")
        refuse_taken_name(ctx, new.name, new.uid)
        insert_new(ctx, [new])
        return query.get(ctx, new.uid)


# ---- changing ---------------------------------------------------------------------------


def record(ctx: Ctx, target: Target, change: Change) -> str:
    write_changes(ctx, [change])
    refresh(ctx, target)
    _fault("view")
    return change.outbox["change_id"]


def status_value(status: Status | str | None) -> str | None:
    parsed = parse_status(status)
    return parsed.value if parsed else None


def _write_statuses(ctx: Ctx, batch: status_rows.Batch) -> None:
    status_rows.insert_audit(ctx, batch)
    _fault("audit")
    status_rows.insert_outbox(ctx, batch)
    _fault("outbox")
    status_rows.update_views(ctx, batch)
    _fault("view")


def change_status(
    ctx: Ctx,
    uid: str,
    new: str | None,
    note: str | None,
    group: str | None = None,
    since: datetime | None = None,
) -> StatusChange:
    """:func:`set_status` with a validated status and note, inside the caller's write
    transaction; ``group``: the changes undone together that it is one of (an import);
    ``since``: an undo's, since when the status it brings back was held."""
    target = status_rows.read_one(ctx, uid)
    before = target.status
    if before == new:
        return StatusChange(changed=False, target=status_rows.view_of(ctx, target), before=before)
    batch = status_rows.plan(ctx, [target], new, note, group, [since])
    _write_statuses(ctx, batch)
    view = status_rows.view_of(ctx, target)
    return StatusChange(changed=True, target=view, change_id=batch.change_ids[0], before=before)


def set_status(
    ctx: Ctx, uid: str, status: Status | str | None, note: str | None, group: str | None = None
) -> StatusChange:
    new = status_value(status)
    note = clean_note(note)
    with ctx.write():
        return change_status(ctx, uid, new, note, group)


def set_status_many(
    ctx: Ctx, uids: Sequence[str], status: Status | str | None, note: str | None
) -> int:
    """One status on many targets in one transaction; those already in it are skipped.
    A uid given twice counts once. Returns how many changed."""
    new = status_value(status)
    note = clean_note(note)
    wanted = list(dict.fromkeys(uids))
    with ctx.write():
        targets = [t for t in status_rows.read_many(ctx, wanted) if t.status != new]
        if targets:
            group = str(uuid.uuid4()) if len(targets) > 1 else None  # undone whole
            _write_statuses(ctx, status_rows.plan(ctx, targets, new, note, group))
        return len(targets)


def edit_target(
    ctx: Ctx,
    uid: str,
    name: str | None,
    description: str | None,
    markets: Iterable[str] | None,
) -> TargetView:
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = clean_name(name)
    if description is not None:
        wanted["description"] = clean_description(description)
    if markets is not None:
        wanted["markets"] = clean_markets(list(markets))
    with ctx.write():
        target = query.load(ctx, uid)
        fields = {k: v for k, v in wanted.items() if getattr(target, k) != v}
        if "name" in fields:
            refuse_taken_name(ctx, fields["name"], target.uid)
        if fields:
            change = make_change(
                ctx, uid, "edit", ctx.now(), base_version=base_version_of(target), fields=fields
            )
            record(ctx, target, change)
        return query.views(ctx, [target])[0]


#: Change ids an undo undid already (an undo's note is "undo of <change id>").
_UNDONE = "SELECT substr(note, ?1 + 1) FROM audit WHERE substr(note, 1, ?1) = ?2"
#: This device's status changes, latest first, that are neither undos nor undone, nor
#: of a bulk change undone already (as far as it could be: the targets changed since
#: keep their change).
_CANDIDATES_SQL = (
    f"WITH undone(cid) AS MATERIALIZED ({_UNDONE})"
    " SELECT a.change_id, a.batch FROM audit AS a"
    " WHERE a.origin = 'local' AND (a.note IS NULL OR substr(a.note, 1, ?1) != ?2)"
    " AND a.change_id NOT IN undone AND (a.batch IS NULL OR a.batch NOT IN"
    " (SELECT u.batch FROM audit AS u WHERE u.batch IS NOT NULL AND u.change_id IN undone))"
    " ORDER BY a.id DESC"
)
#: Changes (``{which}``: one, or a bulk change's) with what stands in their way: the
#: state their outbox row, or an earlier one of their target that they wait behind, is
#: held in (a conflict, a rejection: not on the server), and the latest change of
#: their target made after them by anyone (its author, '' when the target no longer has
#: the change's status for another reason). "After" is the server's order (its version)
#: for changes it has, then this device's pending ones in the order they were made;
#: an undo and the change it undid cancel out, so repeated undos walk back.
_STANDING_SQL = f"""
WITH undone(cid) AS MATERIALIZED ({_UNDONE})
SELECT a.target, a.old_status, a.change_id, a.new_status, (
    SELECT h.state FROM outbox AS h
    WHERE h.target = a.target AND h.state IN ('conflict', 'rejected')
      AND (o.id IS NULL OR h.id <= o.id) ORDER BY h.id LIMIT 1
  ), coalesce((
    SELECT y.changed_by FROM audit AS y
    WHERE y.target = a.target AND y.id != a.id
      AND NOT (y.origin = 'local' AND (substr(coalesce(y.note, ''), 1, ?1) = ?2
                                       OR y.change_id IN undone))
      AND CASE WHEN a.server_version IS NULL
          THEN y.id > a.id AND (y.origin = 'server' OR y.server_version IS NULL)
          ELSE y.server_version > a.server_version
               OR (y.server_version = a.server_version AND (y.origin = 'server' OR y.id > a.id))
               OR (y.server_version IS NULL AND y.origin = 'local') END
    ORDER BY y.origin = 'server' DESC, y.id DESC LIMIT 1
  ), iif(t.status IS a.new_status, NULL, '')), a.converged, a.old_since
FROM audit AS a JOIN targets AS t ON t.uid = a.target
LEFT JOIN outbox AS o ON o.change_id = a.change_id
WHERE {{which}} AND a.change_id NOT IN undone ORDER BY a.id
"""
_ONE_SQL = _STANDING_SQL.format(which="a.change_id = ?3")
_GROUP_SQL = _STANDING_SQL.format(which="a.batch = ?3")
#: meta key: the changes an undo found no longer standing and said so (a JSON list);
#: the next undo goes past them, as the message said it would.
UNDO_PASSED = "undo_passed"
_PASSED_KEPT = 100


def undo_last(ctx: Ctx) -> Undone | NotUndone | None:
    """Undo this device's latest status change that is neither an undo nor undone
    already, so repeated undos walk back through history. A bulk change is undone whole:
    each of its targets that still has its status goes back, in one transaction.

    A change that no longer stands is never undone: someone changed its target since
    (a teammate, even to the same status), or it waits in a conflict or a rejection.
    Then nothing is undone and :class:`NotUndone` says why; the next undo goes past it
    (the user was told), to the change before it."""
    size = len(UNDO_NOTE)
    with ctx.write():
        passed = json.loads(ctx.get_meta(UNDO_PASSED) or "[]")
        seen_groups: set[str] = set()  # a bulk change's rows come one by one: judged once
        candidates = ctx.db.cursor().execute(_CANDIDATES_SQL, (size, UNDO_NOTE))
        for change_id, group in candidates:  # latest first, read as far as needed
            if group is not None:
                if group in seen_groups:
                    continue
                seen_groups.add(group)
            sql, key = (_ONE_SQL, change_id) if group is None else (_GROUP_SQL, group)
            rows = list(ctx.db.cursor().execute(sql, (size, UNDO_NOTE, key)))
            standing = [r for r in rows if r[4] is None and r[5] is None]
            if standing:
                candidates.close()  # done reading before writing
                return _undo(ctx, standing, single=group is None, kept=len(rows) - len(standing))
            if not rows or change_id in passed:
                continue
            candidates.close()
            ctx.set_meta(UNDO_PASSED, json.dumps([*passed, change_id][-_PASSED_KEPT:]))
            target, _old, _cid, new_status, held, by, converged, _since = rows[-1]
            view = query.get(ctx, target)
            by_me = bool(by) and by == ctx.user  # the server's rows: another device of mine
            return NotUndone(len(rows), view, new_status, by or None, held, bool(converged), by_me)
        return None


def _undo(ctx: Ctx, members: list[tuple[Any, ...]], single: bool, kept: int = 0) -> Undone:
    """Take back ``members`` (rows of :data:`_STANDING_SQL`, all standing): each target
    gets back its old status and since when it had held it (a stale target stays stale;
    unknown for changes made before that was kept: from now). ``kept``: the bulk
    change's targets left as they are (changed since, or waiting)."""
    if single:
        target, old_status, change_id, new_status, *_, old_since = members[0]
        note = f"{UNDO_NOTE}{change_id}"
        change = change_status(ctx, target, old_status, note, since=time_or_none(old_since))
        return Undone(1, change.target, new_status)
    by_old: dict[str | None, list[tuple[str, str, datetime | None]]] = {}
    for uid, old, cid, *_, old_since in members:
        by_old.setdefault(old, []).append((uid, f"{UNDO_NOTE}{cid}", time_or_none(old_since)))
    for old, rows in by_old.items():
        targets = status_rows.read_many(ctx, [uid for uid, _, _ in rows])
        notes = [note for _, note, _ in rows]
        sinces = [since for _, _, since in rows]
        _write_statuses(ctx, status_rows.plan(ctx, targets, old, notes, since=sinces))
    statuses = {r[3] for r in members}
    mixed = len(statuses) > 1  # an import's: one status per row
    target = query.get(ctx, members[-1][0])
    return Undone(len(members), target, None if mixed else statuses.pop(), mixed, kept)


def snooze(ctx: Ctx, uid: str, until: date | None) -> TargetView:
    t = ctx.m.target
    with ctx.write():
        query.load(ctx, uid)
        t.update(snoozed_until=until).where(t.uid == uid).execute()
        return query.get(ctx, uid)
