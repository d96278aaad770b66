"""Reading targets: one SELECT builder for get, resolve, list and count, all in SQL.

Plan choice (SQLite cannot know how many targets a search or a stagnation filter
matches): a page is found either by walking the index of its sort order, checking each
row it meets, or through the filter's own index (FTS, status ranges) and a sort of all
the matches. With ``m`` matches of ``n`` targets the walk meets (offset + limit) x n / m
rows, the sort handles ``m``: a cheap index-only probe counts the matches up to the
break-even point, and the filter is walked when they reach it. A name test is cheap on
the walk (the name index holds the names): searches matching DENSE_MIN or more are
always walked.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from peewee import SQL, fn

from protocol import InvalidInput, parse_status, single_spaced

from . import stagnation
from .context import Ctx
from .errors import Ambiguous, NotFound
from .fold import name_key
from .schema import Target
from .types import TargetQuery, TargetView

STAGNATION_STATES = ("fresh", "aging", "stale", "snoozed")
SYNC_STATES = ("synced", "pending", "conflict", "rejected")
MIN_PREFIX = 4
SUGGESTED = 3  # names offered when a reference matches nothing
_FTS_MIN = 3  # trigram search needs 3 characters; shorter searches scan the name index
#: Searches matching fewer names than this are looked up in the trigram index.
DENSE_MIN = 2_000


def views(ctx: Ctx, rows: Iterable[Target], now: datetime | None = None) -> list[TargetView]:
    now = now or ctx.now()
    cut = stagnation.cutoffs(ctx.thresholds, now)
    return [to_view(row, now, cut) for row in rows]


def to_view(row: Target, now: datetime, cut: stagnation.Cutoffs) -> TargetView:
    return TargetView(
        uid=row.uid,
        name=row.name,
        description=row.description,
        markets=tuple(row.markets),
        status=row.status,
        status_since=row.status_since,
        days_in_status=stagnation.days_since(row.status_since, now),
        stagnation=stagnation.label(row.status, row.status_since, row.snoozed_until, cut),
        sync=row.sync,
        version=row.server_version,
        snoozed_until=row.snoozed_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def load(ctx: Ctx, uid: str) -> Target:
    """The target row for an exact uid, for writers; NotFound otherwise."""
    t = ctx.m.target
    row = t.get_or_none(t.uid == uid)
    if row is None:
        raise NotFound(f"no target with uid {uid!r}")
    return row


def get(ctx: Ctx, uid: str) -> TargetView:
    return views(ctx, [load(ctx, uid)])[0]


def canonical_uid(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise InvalidInput("uid", f"uid {value!r} is not a valid uid (a UUID)") from None


def resolve(ctx: Ctx, ref: str) -> TargetView:
    t = ctx.m.target
    key = ref.strip()
    if not key:
        raise NotFound("no target matches an empty reference")
    now = ctx.now()
    with ctx.read():
        prefix = key.lower()
        exact = ctx.m.target.select().where(t.uid == prefix).first()
        if exact is not None:
            return views(ctx, [exact], now)[0]
        # as names are stored (single-spaced), and as an older one may be
        match = t.name_lc.in_({name_key(single_spaced(key)), name_key(key)})
        if len(prefix) >= MIN_PREFIX:
            # A range on the uid index: uids are lowercase hex and dashes.
            match |= (t.uid >= prefix) & (t.uid < prefix + "\uffff")
        rows = list(ctx.m.target.select().where(match).order_by(t.name_lc, t.id).limit(11))
        if not rows:
            near = t.select(t.name).where(_named(ctx, name_key(key))).order_by(t.name_lc)
            raise NotFound(_not_found(ref, [r.name for r in near.limit(SUGGESTED + 1)]))
    if len(rows) > 1:
        raise Ambiguous(ref, views(ctx, rows, now))
    return views(ctx, rows, now)[0]


def _not_found(ref: str, near: list[str]) -> str:
    """One line: nothing matches ``ref``, and the names holding it, if any."""
    text = f"no target matches {ref!r} (give a uid, a uid prefix or the exact name)"
    if not near:
        return text
    names = [repr(n) for n in near[:SUGGESTED]]
    if len(near) > SUGGESTED:
        return f"{text}; names with {ref.strip()!r}: {', '.join(names)}, …"
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return f"{text}; did you mean {listed}?"


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _at_least(query: Any, count: int) -> bool:
    """Whether ``query`` has ``count`` rows, reading no more than that."""
    return query.limit(count).count() >= count


def _fts_dense(ctx: Ctx, search: str) -> bool:
    fts = ctx.m.target.select(SQL("1")).from_(SQL("targets_fts"))
    return _at_least(fts.where(SQL("targets_fts MATCH ?", [_fts_phrase(search)])), DENSE_MIN)


def _walk_stagnation(ctx: Ctx, q: TargetQuery, wide: Any) -> bool:
    """A page of a stagnation filter: whether the walk beats the sort (module doc)."""
    if q.limit is None or wide is None:
        return False
    t = ctx.m.target
    size = t.select(fn.MAX(t.id)).scalar() or 0  # rows, or more after deletions
    return _at_least(t.select(SQL("1")).where(wide), math.isqrt((q.offset + q.limit) * size))


def _named(ctx: Ctx, search: str) -> Any:
    """Names holding ``search`` (a name key: storage/fold.py)."""
    t = ctx.m.target
    if len(search) >= _FTS_MIN and not _fts_dense(ctx, search):
        fts = SQL(
            "(SELECT rowid FROM targets_fts WHERE targets_fts MATCH ?)", [_fts_phrase(search)]
        )
        return t.id.in_(fts)
    # Many matches (or too short for trigrams): a substring test on each name the walk
    # meets, from the name index before the row is read.
    return fn.instr(t.name_lc, search) > 0


def _filters(ctx: Ctx, q: TargetQuery, now: datetime, *, listing: bool = False) -> list[Any]:
    """SQL conditions of ``q``; ``listing``: for a page read in sort order (module doc)."""
    t, tm = ctx.m.target, ctx.m.market
    out: list[Any] = []
    if q.statuses:
        parsed = [parse_status(s) for s in q.statuses]
        named = [s.value for s in parsed if s is not None]
        cond = t.status.in_(named)
        out.append(cond | t.status.is_null() if None in parsed else cond)
    if q.markets:
        wanted = [name_key(single_spaced(m)) for m in q.markets]  # as stored
        out.append(t.uid.in_(tm.select(tm.uid).where(tm.market_lc.in_(wanted))))
    search = name_key(single_spaced(q.search))  # names are stored single-spaced
    if search:
        out.append(_named(ctx, search))
    if q.stagnation:
        _check("stagnation", q.stagnation, STAGNATION_STATES)
        cut = stagnation.cutoffs(ctx.thresholds, now)
        walk = listing and _walk_stagnation(ctx, q, stagnation.candidates(t, cut, q.stagnation))
        out.append(stagnation.where(t, cut, q.stagnation, indexed=not walk))
    if q.sync:
        _check("sync", q.sync, SYNC_STATES)
        out.append(t.sync.in_(list(q.sync)))
    return out


def _check(field: str, given: tuple[str, ...], valid: tuple[str, ...]) -> None:
    bad = [v for v in given if v not in valid]
    if bad:
        raise InvalidInput(field, f"unknown {field} {bad[0]!r}; valid: {', '.join(valid)}")


def _order(ctx: Ctx, q: TargetQuery) -> list[Any]:
    t = ctx.m.target
    # (key, descending) per sort; more days in status = an older status_since.
    keys: dict[str, list[tuple[Any, bool]]] = {
        "name": [],
        "status": [(SQL("status_rank"), False)],
        "days": [(t.status_since, True)],
        "markets": [(t.markets_sort, False)],
        "sync": [(SQL("sync_rank"), False)],
        "updated": [(t.updated_at, False)],
    }
    if q.sort not in keys:
        raise InvalidInput("sort", f"unknown sort {q.sort!r}; valid: {', '.join(keys)}")
    order = [*keys[q.sort], (t.name_lc, False), (t.id, False)]
    return [node.desc() if desc != q.descending else node.asc() for node, desc in order]


def _where(query: Any, conditions: list[Any]) -> Any:
    return query.where(*conditions) if conditions else query


def build_list(ctx: Ctx, q: TargetQuery, now: datetime, columns: Sequence[Any] = ()) -> Any:
    """The list query of ``q``, selecting ``columns`` (default: what a view needs)."""
    selected = columns or _view_columns(ctx)
    query = _where(ctx.m.target.select(*selected), _filters(ctx, q, now, listing=True))
    query = query.order_by(*_order(ctx, q))
    if q.offset:
        query = query.offset(q.offset)
    if q.limit is not None:
        query = query.limit(q.limit)
    return query


def query_plan(ctx: Ctx, q: TargetQuery) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN lines for the list query (tests and benchmarks)."""
    with ctx.read():
        sql, params = build_list(ctx, q, ctx.now()).sql()
        rows = ctx.db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
    return [row[-1] for row in rows]


class _Row(NamedTuple):
    """The columns a :class:`TargetView` needs, decoded (what :func:`to_view` reads)."""

    uid: str
    name: str
    description: str
    markets: list[str]
    status: str | None
    status_since: datetime
    snoozed_until: date | None
    sync: str
    server_version: int | None
    created_at: datetime
    updated_at: datetime


def _view_columns(ctx: Ctx) -> list[Any]:
    t = ctx.m.target
    return [getattr(t, name) for name in _Row._fields]


def _decode(raw: tuple) -> _Row:
    """A raw row of :func:`_view_columns`: times are the fixed-width UTC text of
    ``schema.time_text``, which ``fromisoformat`` reads many times faster than strptime."""
    uid, name, description, markets, status, since, snoozed, sync, version, made, updated = raw
    return _Row(
        uid,
        name,
        description,
        json.loads(markets),
        status,
        datetime.fromisoformat(since),
        None if snoozed is None else date.fromisoformat(snoozed),
        sync,
        version,
        datetime.fromisoformat(made),
        datetime.fromisoformat(updated),
    )


def list_targets(ctx: Ctx, q: TargetQuery) -> list[TargetView]:
    return list(iter_targets(ctx, q))


def iter_targets(ctx: Ctx, q: TargetQuery) -> Iterator[TargetView]:
    """:func:`list_targets`, a row at a time from one snapshot (held until the last row
    is taken): 100,000 targets written out need not all be held at once."""
    now = ctx.now()
    cut = stagnation.cutoffs(ctx.thresholds, now)
    with ctx.read():
        sql, params = build_list(ctx, q, now).sql()
        for row in ctx.db.execute_sql(sql, params):
            yield to_view(_decode(row), now, cut)


def position(ctx: Ctx, q: TargetQuery, uid: str) -> int | None:
    """Where target ``uid`` is in :func:`list_targets` of ``q`` (0 first), None when
    ``q`` does not hold it: the uids alone, in the list's order (no view made per row)."""
    now = ctx.now()
    with ctx.read():
        sql, params = build_list(ctx, q, now, columns=[ctx.m.target.uid]).sql()
        for index, (found,) in enumerate(ctx.db.execute_sql(sql, params)):
            if found == uid:
                return index
    return None


def count_targets(ctx: Ctx, q: TargetQuery) -> int:
    """How many targets :func:`list_targets` gives for ``q``, its offset and limit
    included: a limit caps the count, and its cost, at that many matches."""
    t = ctx.m.target
    now = ctx.now()
    with ctx.read():
        matching = _where(t.select(SQL("1")), _filters(ctx, q, now))
        if q.offset or q.limit is not None:
            matching = matching.limit(-1 if q.limit is None else q.limit).offset(q.offset)
        return matching.count()


def markets(ctx: Ctx) -> list[str]:
    tm = ctx.m.market
    with ctx.read():
        rows = tm.select(fn.MIN(tm.market)).group_by(tm.market_lc).order_by(tm.market_lc)
        return [r[0] for r in rows.tuples()]
