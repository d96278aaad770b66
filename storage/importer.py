"""Importing already-parsed rows (from CSV): validated first, then one transaction.

Keys: ``uid`` when the row has one, else the name (case-insensitive). A key seen twice
in one file is refused (which row should win is the user's call). Every bad row is
refused at once (``InvalidInputs``), each naming its row. Empty cells of an
existing target leave that field as it is; ``none`` in the status column clears it.

A dry run (``dry_run=True``) is the same import, every check and write, in a
transaction rolled back at the end: what it reports is what the import would do, by
the one code path that decides it (the refusals of names taken read the rows the
import has written so far, so a plan computed apart would need those checks twice).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from peewee import SQL

from protocol import (
    InvalidInput,
    InvalidInputs,
    clean_description,
    clean_markets,
    clean_name,
    parse_status,
)

from . import actions, import_update, query
from .context import Ctx
from .fold import name_key

_UNSET: Any = object()
T = TypeVar("T")
U = TypeVar("U")


@dataclass
class _Row:
    number: int
    uid: str | None
    name: str | None
    description: str | None
    markets: list[str] | None
    status: Any  # str | None, or _UNSET when the cell is empty

    @property
    def key(self) -> tuple[str, str]:
        return ("uid", self.uid) if self.uid else ("name", name_key(self.name or ""))


@contextmanager
def _row(number: int) -> Iterator[None]:
    """An InvalidInput raised inside names the row."""
    try:
        yield
    except InvalidInput as err:
        raise InvalidInput(err.field, f"row {number}: {err.message}") from None


def _each(rows: Iterable[T], check: Callable[[T], U], errors: list[InvalidInput]) -> list[U]:
    """``check`` of every row, its InvalidInput added to ``errors``: every bad row is
    refused together (a sheet's bad rows fixed in one go, not one per run)."""
    done: list[U] = []
    for row in rows:
        try:
            done.append(check(row))
        except InvalidInput as err:
            errors.append(err)
    return done


def _parse(number: int, raw: dict[str, str]) -> _Row:
    cells = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
    with _row(number):
        status = parse_status(cells["status"]) if cells.get("status") else _UNSET
        markets = cells.get("markets")
        return _Row(
            number=number,
            uid=query.canonical_uid(cells["uid"]) if cells.get("uid") else None,
            name=clean_name(cells["name"]) if cells.get("name") else None,
            description=clean_description(cells["description"])
            if cells.get("description")
            else None,
            markets=clean_markets([m for m in markets.split(";") if m.strip()])
            if markets
            else None,
            status=status if status is _UNSET or status is None else status.value,
        )


def _json_list(values: list[str]) -> Any:
    """``IN (...)`` over any number of values with one parameter."""
    return SQL("(SELECT value FROM json_each(?))", [json.dumps(values)])


def _existing(
    ctx: Ctx, rows: list[_Row]
) -> tuple[dict[tuple[str, str], list[str]], dict[str, dict[str, Any]]]:
    """Key -> uids of the targets already in the store, and the columns of each that an
    update reads (:data:`import_update.COLUMNS`)."""
    t = ctx.m.target
    found: dict[tuple[str, str], list[str]] = {}
    state: dict[str, dict[str, Any]] = {}
    uids = sorted({r.uid for r in rows if r.uid})
    names = sorted({r.key[1] for r in rows if not r.uid})
    columns = [t.uid, *(getattr(t, c) for c in import_update.COLUMNS)]
    by_uid = t.select(*columns).where(t.uid.in_(_json_list(uids)))
    by_name = t.select(*columns).where(t.name_lc.in_(_json_list(names)))
    for query_, kind in ((by_uid, "uid"), (by_name, "name")):
        for uid, *values in query_.tuples():
            current = dict(zip(import_update.COLUMNS, values, strict=True))
            found.setdefault((kind, uid if kind == "uid" else current["name_lc"]), []).append(uid)
            state[uid] = current
    return found, state


def _new_name(row: _Row) -> str | None:
    """The name a row gives its target: a row found by its uid may rename it; one found
    by its name only names it (in any case, accents optional: never a rename the team
    would get, "SOCIETE GENERALE" over "Société Générale")."""
    return row.name if row.uid else None


def _update(row: _Row, uid: str, current: dict[str, Any]) -> import_update.Update | None:
    """What ``row`` changes of its target, None if nothing: a re-imported export
    changes nothing, and its rows are passed over without a write. An empty cell keeps
    the target's value."""
    wanted = {"name": _new_name(row), "description": row.description, "markets": row.markets}
    fields = {k: v for k, v in wanted.items() if v is not None and v != current[k]}
    status = import_update.keep
    if row.status is not _UNSET and row.status != current["status"]:
        status = row.status
    if not fields and status is import_update.keep:
        return None
    return import_update.Update(row.number, uid, current, fields, status)


def _new(row: _Row) -> actions.NewTarget:
    if row.name is None:
        raise InvalidInput("name", f"row {row.number}: a new target needs a name")
    new = actions.NewTarget(name=row.name)
    if row.uid:
        new.uid = row.uid
    for attr in ("description", "markets"):
        if getattr(row, attr) is not None:
            setattr(new, attr, getattr(row, attr))
    if row.status is not _UNSET:
        new.status = row.status
    return new


def _refuse_repeats(rows: list[_Row], errors: list[InvalidInput]) -> None:
    """A key on two rows is refused; so is a row without a name or a uid (rows of
    empty cells only are no rows: the CSV reader leaves them out)."""
    first: dict[tuple[str, str], int] = {}

    def once(row: _Row) -> None:
        if row.uid is None and row.name is None:  # not a key: never "name None"
            raise InvalidInput("name", f"row {row.number}: a new target needs a name")
        seen = first.setdefault(row.key, row.number)
        if seen != row.number:
            what = f"uid {row.uid}" if row.uid else f"name {row.name!r}"
            raise InvalidInput(
                row.key[0],
                f"row {row.number}: {what} is already on row {seen}; give each target one row",
            )

    _each(rows, once, errors)


def _refuse_taken_names(
    ctx: Ctx, news: list[tuple[int, actions.NewTarget]], with_uid: set[int]
) -> None:
    """New targets (after this import's updates) must not take a name another target
    has, in any case, nor share one among themselves; except rows that each carry a uid:
    two targets of the team's under one name (two teammates made them offline: the
    README allows it), which a team's export imported into a new profile lists."""
    first: dict[str, int] = {}
    for number, new in news:
        if number in with_uid:
            continue
        seen = first.setdefault(name_key(new.name), number)
        if seen != number:
            raise InvalidInput("name", f"row {number}: name {new.name!r} is already on row {seen}")
    taken = actions.taken_name(ctx, [(new.name, new.uid) for _, new in news])
    if taken:
        index, err = taken
        with _row(news[index][0]):
            raise err


#: Targets written at a time (all in the one transaction): bounds what is held at
#: once and paces the progress of a large import.
WRITE_CHUNK = 10_000

#: ``saved(done, total)``: ``done`` of ``total`` new targets written (not committed yet:
#: the import is one transaction); ``saved(done, total, "updates")`` for the updates of
#: existing targets, written before them. Told only of work of more than one chunk: a
#: smaller one is over in a moment.
Progress = Callable[..., object]


def _told(saved: Progress | None, total: int, *what: str) -> Callable[[int, int], object] | None:
    if saved is None or total <= WRITE_CHUNK:
        return None
    return lambda done, total: saved(done, total, *what)


@dataclass(frozen=True)
class UpdatedTarget:
    """An existing target an import changes: its uid, its name before, and each field
    it changes, ``field -> (old, new)`` in the order status, name, description, markets
    (a status None is no status; markets are tuples)."""

    row: int  # the 1-based row that changes it
    uid: str
    name: str
    changes: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class CreatedTarget:
    """A target an import adds: its row, its name, the uid the row gave (or None)."""

    row: int
    name: str
    uid: str | None


class Imported(tuple[int, int]):
    """``(created, updated)``, as :func:`import_targets` has always returned, that also
    says what they are: ``updated_targets`` and ``created_targets`` in the file's row
    order, and ``dry_run`` (True: nothing was written)."""

    updated_targets: list[UpdatedTarget]
    created_targets: list[CreatedTarget]
    dry_run: bool

    def __new__(
        cls, created: list[CreatedTarget], updated: list[UpdatedTarget], dry_run: bool
    ) -> Imported:
        self = super().__new__(cls, (len(created), len(updated)))
        self.created_targets = created
        self.updated_targets = updated
        self.dry_run = dry_run
        return self


def _plain(field: str, value: Any) -> Any:
    return tuple(value or ()) if field == "markets" else value


def _updated(u: import_update.Update) -> UpdatedTarget:
    """What ``u`` changes, old -> new (read before it is written: the write moves
    ``u.current`` on)."""
    new = dict(u.fields)
    if u.status is not import_update.keep:
        new["status"] = u.status
    changes = {
        field: (_plain(field, u.current[field]), _plain(field, new[field]))
        for field in ("status", "name", "description", "markets")
        if field in new
    }
    return UpdatedTarget(u.number, u.uid, u.current["name"], changes)


class _RollBack(Exception):
    """Ends a dry run's transaction: everything it wrote is rolled back."""


def import_targets(
    ctx: Ctx, raw_rows: Sequence[dict[str, str]], saved: Progress | None, dry_run: bool = False
) -> Imported:
    errors: list[InvalidInput] = []
    rows = _each(enumerate(raw_rows, start=1), lambda each: _parse(*each), errors)
    _refuse_repeats(rows, errors)
    InvalidInputs.raise_any(errors)
    updates: list[import_update.Update] = []
    news: list[tuple[int, actions.NewTarget]] = []
    group = str(uuid.uuid4())
    try:
        with ctx.write():
            existing, current = _existing(ctx, rows)
            claimed: dict[str, int] = {}  # target uid -> the row that names it

            def sort(row: _Row) -> None:
                uids = existing.get(row.key)
                if uids is None:
                    news.append((row.number, _new(row)))
                elif len(uids) > 1:
                    raise InvalidInput(
                        "name",
                        f"row {row.number}: name {row.name!r} matches {len(uids)} targets; "
                        "add a uid column to say which",
                    )
                elif (seen := claimed.setdefault(uids[0], row.number)) != row.number:
                    raise InvalidInput(  # by uid on one row, by name on another
                        row.key[0],
                        f"row {row.number}: target {current[uids[0]]['name']!r} is already on"
                        f" row {seen}; give each target one row",
                    )
                elif (update := _update(row, uids[0], current[uids[0]])) is not None:
                    updates.append(update)

            _each(rows, sort, errors)
            InvalidInputs.raise_any(errors)
            updated = [_updated(u) for u in updates]
            told = _told(saved, len(updates), "updates")
            import_update.write_updates(ctx, updates, group, WRITE_CHUNK, told)
            _refuse_taken_names(ctx, news, {row.number for row in rows if row.uid})
            told = _told(saved, len(news))
            for start in range(0, len(news), WRITE_CHUNK):
                chunk = [new for _, new in news[start : start + WRITE_CHUNK]]
                actions.insert_new(ctx, chunk, group)
                if told is not None:
                    told(min(start + WRITE_CHUNK, len(news)), len(news))
            if dry_run:
                raise _RollBack
    except _RollBack:
        pass
    rows_by_number = {row.number: row for row in rows}
    created = [CreatedTarget(number, new.name, rows_by_number[number].uid) for number, new in news]
    return Imported(created, updated, dry_run)
