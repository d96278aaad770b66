"""Applying a pulled page set-based: a few statements per page, not several per row.

A page of up to 10,000 targets and their history goes through temporary tables:

- targets are staged with their server base (and the name/markets sort keys), then
  classified in one statement: ``new`` (not here yet), ``moved`` (the pulled version is
  newer than our server base, or we have none) or ``old`` (nothing to do);
- new targets are inserted, moved ones get their base in one UPDATE each for "nothing
  pending" (the local view := the base, :data:`view.BASE_VIEW_SQL`) and "pending"
  (base only; then :func:`view.refresh` recomputes their view with their outbox rows);
- market rows are rewritten only where the markets changed;
- history goes in with one INSERT ... ON CONFLICT(change_id): our own rows come back
  confirmed (server version, the server's ``changed_by`` and its ``changed_at``: it
  dates a change from a clock far off when it receives it), anyone else's become
  server rows, for targets we have.

A uid that appears several times in one page is applied in rounds (its first
occurrence, then its second, ...), which gives what applying the page in order gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from peewee import SQL

from protocol import Status, parse_status

from . import catchup, fold, resend
from .context import Ctx
from .fold import name_key
from .schema import JSONField, time_text
from .types import PullSummary
from .view import BASE_VIEW_SQL, refresh

if TYPE_CHECKING:  # annotations only: pydantic stays off the TUI's start
    from protocol.wire import AuditEntry, TargetState

PULL_CURSOR = "pull_cursor"
#: meta key: "1" while the last page stored said more follows (a catch-up under way).
PULL_MORE = "pull_more"
#: meta key: "1" from a refused cursor until the pull from the start has reached the
#: end: the server's state is taken for every target it sends, even an older version.
PULL_AGAIN = "pull_again"

_BASE = (
    "server_version",
    "server_name",
    "server_description",
    "server_markets",
    "server_status",
    "server_status_changed_at",
    "server_status_changed_by",
    "server_updated_at",
    "created_at",
)
_MARKETS = JSONField()
_STAGED = ("uid", *_BASE, "name_lc", "markets_sort")

_STAGE_TARGETS = f"""
CREATE TEMP TABLE pull_targets (
    seq INTEGER PRIMARY KEY,
    {", ".join(_STAGED)},  -- no types: values kept as given
    kind TEXT NOT NULL DEFAULT 'new',  -- new | moved | old
    pending INTEGER NOT NULL DEFAULT 0,  -- the target has outbox rows
    old_markets TEXT,
    UNIQUE (uid)
)
"""
# From each staged row to its target by the uid index (an UPDATE ... FROM targets was
# planned as a scan of every target for every page: a catch-up's pages grew slower).
_CLASSIFY_SQL = """
UPDATE temp.pull_targets AS s SET (kind, pending, old_markets) = (
    SELECT CASE WHEN {moved} THEN 'moved' ELSE 'old' END,
           EXISTS (SELECT 1 FROM main.outbox AS o WHERE o.target = s.uid),
           t.markets
    FROM main.targets AS t WHERE t.uid = s.uid)
WHERE EXISTS (SELECT 1 FROM main.targets AS t WHERE t.uid = s.uid)
"""
_CLASSIFY = _CLASSIFY_SQL.format(
    moved="t.server_version IS NULL OR s.server_version > t.server_version"
)
#: Pulling everything again because the server refused our cursor: its database was
#: restored or replaced, and a target's version may have gone back. What it sends now is
#: its state, whatever our base says (a base left ahead of the server's version would
#: have every later change of ours refused, "base version ahead of the server's").
_CLASSIFY_AGAIN = _CLASSIFY_SQL.format(moved="1")
_VIEW_COLUMNS = tuple(BASE_VIEW_SQL)
_VIEW_VALUES = tuple(BASE_VIEW_SQL[c].format(t="s") for c in _VIEW_COLUMNS)
_INSERT_NEW = f"""
INSERT INTO main.targets (uid, {", ".join(_BASE)}, {", ".join(_VIEW_COLUMNS)},
    name_lc, markets_sort)
SELECT s.uid, {", ".join(f"s.{c}" for c in _BASE)}, {", ".join(_VIEW_VALUES)},
    s.name_lc, s.markets_sort
FROM temp.pull_targets AS s WHERE s.kind = 'new' ORDER BY s.seq
"""
_SET_BASE = ", ".join(f"{c} = s.{c}" for c in _BASE)
_SET_VIEW = ", ".join(
    [f"{c} = {v}" for c, v in zip(_VIEW_COLUMNS, _VIEW_VALUES, strict=True)]
    + ["name_lc = s.name_lc", "markets_sort = s.markets_sort"]
)
_MOVE_PENDING = f"""
UPDATE main.targets SET {_SET_BASE}
FROM temp.pull_targets AS s WHERE s.uid = targets.uid AND s.kind = 'moved' AND s.pending
"""
_MOVE_OVERWRITE = f"""
UPDATE main.targets SET {_SET_BASE}, {_SET_VIEW}
FROM temp.pull_targets AS s WHERE s.uid = targets.uid AND s.kind = 'moved' AND NOT s.pending
"""
_NEW_MARKETS = """
FROM temp.pull_targets AS s WHERE s.kind = 'new'
    OR (s.kind = 'moved' AND NOT s.pending AND s.old_markets IS NOT s.server_markets)
"""


# Market rows in page order, then each target's markets in order: of two spellings of
# one market (same key) the first is kept, as INSERT OR IGNORE one by one did.
_INSERT_MARKETS = f"""
INSERT OR IGNORE INTO main.target_markets (uid, market_lc, market)
SELECT s.uid, {fold.name_key_sql("m.value")}, m.value
FROM (SELECT s.seq, s.uid, s.server_markets {_NEW_MARKETS}) AS s, json_each(s.server_markets) AS m
ORDER BY s.seq, m.key
"""

_HISTORY = (
    "change_id",
    "target",
    "old_status",
    "new_status",
    "changed_at",
    "changed_by",
    "note",
    "server_version",
)
_STAGE_HISTORY = f"""
CREATE TEMP TABLE pull_history (seq INTEGER PRIMARY KEY, {", ".join(_HISTORY)})
"""
# An entry is recorded when its target is here, or its change is (our own row, or one
# pulled before), or an earlier entry of the same page recorded that change.
_RECORDED = """
FROM temp.pull_history AS h
WHERE EXISTS (SELECT 1 FROM main.targets AS t WHERE t.uid = h.target)
   OR EXISTS (SELECT 1 FROM main.audit AS a WHERE a.change_id = h.change_id)
   OR EXISTS (
        SELECT 1 FROM temp.pull_history AS e JOIN main.targets AS t ON t.uid = e.target
        WHERE e.change_id = h.change_id AND e.seq < h.seq)
"""
_INSERT_HISTORY = f"""
INSERT INTO main.audit ({", ".join(_HISTORY)}, origin)
SELECT {", ".join(f"h.{c}" for c in _HISTORY)}, 'server' {_RECORDED} ORDER BY h.seq
ON CONFLICT (change_id) DO UPDATE
SET server_version = excluded.server_version, changed_by = excluded.changed_by,
    changed_at = excluded.changed_at
"""


_STATUS_TEXT = {None: None, **{s.value: s.value for s in Status}}
_ZERO = timedelta(0)


def _time_text(value: datetime | None) -> str | None:
    """:func:`time_text` without its cache (pulled times rarely repeat); UTC fast path."""
    if value is None:
        return None
    if value.utcoffset() == _ZERO:
        return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return time_text(value)


def _staged_target(state: TargetState) -> tuple[Any, ...]:
    """The row of ``_STAGED``: what :func:`view.base_columns` and :func:`view.derived`
    give, built directly (this runs for every pulled target)."""
    markets = state.markets
    return (
        str(state.uid),
        state.version,
        state.name,
        state.description,
        _MARKETS.db_value(markets),
        _status_text(state.status),
        _time_text(state.status_changed_at),
        state.status_changed_by,
        _time_text(state.last_updated),
        _time_text(state.created_at),
        name_key(state.name),
        ", ".join([name_key(m) for m in markets]),
    )


def _rounds(targets: Sequence[TargetState]) -> list[list[TargetState]]:
    """Round k holds the k-th occurrence of each uid, in page order."""
    rounds: list[list[TargetState]] = []
    seen: dict[Any, int] = {}
    for state in targets:
        k = seen.get(state.uid, 0)
        seen[state.uid] = k + 1
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(state)
    return rounds


def _apply_target_rows(ctx: Ctx, rows: Sequence[tuple[Any, ...]], again: bool) -> tuple[int, int]:
    """One round of ``_STAGED`` rows (each uid once); returns (overwritten, kept pending)."""
    stage_targets(ctx).executemany(
        f"INSERT INTO temp.pull_targets ({', '.join(_STAGED)}) "
        f"VALUES ({', '.join('?' * len(_STAGED))})",
        rows,
    )
    return apply_staged_targets(ctx, again)


def stage_targets(ctx: Ctx) -> Any:
    """A cursor, and ``temp.pull_targets`` created empty, for a round's ``_STAGED`` rows."""
    cursor = ctx.db.cursor()
    cursor.execute("DROP TABLE IF EXISTS temp.pull_targets")
    cursor.execute(_STAGE_TARGETS)
    return cursor


def apply_staged_targets(ctx: Ctx, again: bool = False) -> tuple[int, int]:
    """Apply the round staged in ``temp.pull_targets``; returns (overwritten, kept pending).
    ``again``: pulling everything again after a refused cursor (:data:`PULL_AGAIN`)."""
    cursor = ctx.db.cursor()
    if again:
        resend.seen(ctx)
    cursor.execute(_CLASSIFY_AGAIN if again else _CLASSIFY)
    counts = dict(
        cursor.execute(
            "SELECT kind || CASE WHEN pending THEN '+' ELSE '' END, count(*) "
            "FROM temp.pull_targets GROUP BY 1"
        ).fetchall()
    )
    # Only the statements with rows to write (each costs a pass over the page).
    if counts.get("new"):
        cursor.execute(_INSERT_NEW)
    if counts.get("moved+"):
        cursor.execute(_MOVE_PENDING)
    if counts.get("moved"):
        cursor.execute(_MOVE_OVERWRITE)
        # a new target has no market rows yet (they reference it)
        cursor.execute(
            f"DELETE FROM main.target_markets WHERE uid IN (SELECT s.uid {_NEW_MARKETS})"
        )
    if counts.get("new") or counts.get("moved"):
        cursor.execute(_INSERT_MARKETS)
    if counts.get("moved+"):
        t = ctx.m.target
        moved = SQL("(SELECT uid FROM temp.pull_targets WHERE kind = 'moved' AND pending)")
        for target in t.select().where(t.uid.in_(moved)):
            refresh(ctx, target)
    cursor.execute("DROP TABLE temp.pull_targets")
    overwritten = counts.get("new", 0) + counts.get("moved", 0)  # a new target has no outbox
    return overwritten, counts.get("moved+", 0)


def _status_text(value: str | None) -> str | None:
    """The stored form of a pulled status (fast path: as the server writes it)."""
    if value in _STATUS_TEXT:
        return _STATUS_TEXT[value]
    parsed = parse_status(value)  # another spelling, or invalid (raises)
    return parsed.value if parsed else None


def _staged_entry(entry: AuditEntry) -> tuple[Any, ...] | None:
    if entry.op == "edit" or (entry.op == "create" and entry.new_status is None):
        return None  # the audit holds status changes only
    return (
        str(entry.change_id),
        str(entry.target),
        _status_text(entry.old_status),
        _status_text(entry.new_status),
        _time_text(entry.changed_at),
        entry.changed_by,
        entry.note,
        entry.version,
    )


def _apply_history_rows(ctx: Ctx, rows: Sequence[tuple[Any, ...]]) -> int:
    """Our own changes come back confirmed; anyone else's become server rows. Returns
    how many entries were recorded."""
    if not rows:
        return 0
    stage_history(ctx).executemany(
        f"INSERT INTO temp.pull_history ({', '.join(_HISTORY)}) "
        f"VALUES ({', '.join('?' * len(_HISTORY))})",
        rows,
    )
    return apply_staged_history(ctx)


def stage_history(ctx: Ctx) -> Any:
    """A cursor, and ``temp.pull_history`` created empty, for ``_HISTORY`` rows in order
    (status changes only: see :func:`_staged_entry`)."""
    cursor = ctx.db.cursor()
    cursor.execute("DROP TABLE IF EXISTS temp.pull_history")
    cursor.execute(_STAGE_HISTORY)
    cursor.execute("CREATE INDEX temp.pull_history_change ON pull_history (change_id, seq)")
    return cursor


def apply_staged_history(ctx: Ctx) -> int:
    """Record the rows staged in ``temp.pull_history``; returns how many were recorded."""
    cursor = ctx.db.cursor()
    cursor.execute(_INSERT_HISTORY)
    # Each row _RECORDED selects is inserted or (its change here) updated: one change
    # each, so the count needs no second pass over the staged rows.
    recorded = ctx.db.connection().changes()
    cursor.execute("DROP TABLE temp.pull_history")
    return recorded


def register_functions(ctx: Ctx) -> None:
    """SQL functions the statements here call (fold.name_key: SQLite's lower() folds ASCII
    only)."""
    fold.register(ctx.db.connection())


@dataclass(frozen=True)
class StagedPage:
    """A pulled page as rows ready for the store, nothing written yet: ``rounds`` of
    ``_STAGED`` rows (round k holds each uid's k-th occurrence, in page order) and
    ``history`` rows of ``_HISTORY`` (status changes only, in page order). ``more``:
    whether the page said more follows (None: not known; a catch-up is then neither
    begun nor finished, see :mod:`storage.catchup`)."""

    rounds: list[list[tuple[Any, ...]]]
    history: list[tuple[Any, ...]]
    targets: int
    cursor: str
    more: bool | None = None
    #: The page's edits (not in ``history``), as (change id, target, version, changed
    #: by, changed at): a pull from the start confirms ours with them
    #: (:mod:`storage.resend`); a teammate's are kept to tell who changed the details.
    edits: list[tuple[Any, ...]] = field(default_factory=list)


def write_page(ctx: Ctx, page: StagedPage) -> PullSummary:
    """The page applied and its cursor saved, in one transaction."""
    overwritten = kept = 0
    with ctx.write_refetchable():
        register_functions(ctx)
        if page.more:
            catchup.begin(ctx, PULL_CURSOR)
        again = ctx.get_meta(PULL_AGAIN) is not None
        for rows in page.rounds:
            done, held = _apply_target_rows(ctx, rows, again)
            overwritten += done
            kept += held
        recorded = _apply_history_rows(ctx, page.history)
        if page.edits:
            _keep_team_edits(ctx, page.edits)
            if again:
                resend.confirm_edits(ctx, [edit[0] for edit in page.edits])
        ctx.set_meta(PULL_CURSOR, page.cursor)
        ctx.set_meta(PULL_MORE, "1" if page.more else None)
        resent = 0
        if page.more is False:
            catchup.finish(ctx)
            if again:
                resent = resend.resend(ctx)
                ctx.set_meta(PULL_AGAIN, None)
    return PullSummary(
        targets=page.targets,
        history=recorded,
        overwritten=overwritten,
        kept_pending=kept,
        resent=resent,
    )


#: A teammate's edit (not one of ours: sent, or waiting in the outbox) becomes the
#: target's last known change of its details, unless a later one is known.
_TEAM_EDIT_SQL = (
    "INSERT INTO team_edits (change_id, target, version, changed_by, changed_at)"
    " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM targets WHERE uid = ?2)"
    " AND NOT EXISTS (SELECT 1 FROM sent_edits WHERE change_id = ?1)"
    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE change_id = ?1)"
    " ON CONFLICT (target) DO UPDATE SET change_id = excluded.change_id,"
    " version = excluded.version, changed_by = excluded.changed_by,"
    " changed_at = excluded.changed_at WHERE excluded.version > team_edits.version"
)


def _keep_team_edits(ctx: Ctx, edits: Sequence[tuple[Any, ...]]) -> None:
    ctx.db.cursor().executemany(_TEAM_EDIT_SQL, edits)


def start_again(ctx: Ctx) -> None:
    """The server refused our cursor: forget it, and take the server's state for every
    target it sends until the pull from the start reaches the end; then send again what
    it lost (:mod:`storage.resend`)."""
    with ctx.write():
        ctx.set_meta(PULL_CURSOR, None)
        ctx.set_meta(PULL_AGAIN, "1")
        resend.mark(ctx)


def apply_pull(
    ctx: Ctx, targets: Sequence[TargetState], history: Sequence[AuditEntry], cursor: str
) -> PullSummary:
    rounds = [[_staged_target(state) for state in states] for states in _rounds(targets)]
    rows = [row for row in map(_staged_entry, history) if row is not None]
    edits = [
        (str(e.change_id), str(e.target), e.version, e.changed_by, _time_text(e.changed_at))
        for e in history
        if e.op == "edit"
    ]
    return write_page(ctx, StagedPage(rounds, rows, len(targets), cursor, edits=edits))
