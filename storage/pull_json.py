"""Reading a pulled page from its JSON text, inside SQLite (no pydantic objects): the
page is parsed once into JSONB, checked, and converted by INSERT ... SELECT over
``jsonb_each`` into the rows :mod:`storage.pull` writes (:class:`~storage.pull.StagedPage`,
the very rows the model path's :func:`storage.pull.apply_pull` makes: same tables after).
The reading runs on a private in-memory SQLite per thread, not on the store, so the
daemon reads the next page while the store writes this one.

The server is trusted, not blindly: before anything is written, the page must have the
shape of :class:`protocol.wire.PullResponse` (keys, JSON types, no unknown keys), and
every uid, status and time must read as pydantic would read it. Values already in the
stored form (lowercase uuids, the five statuses, ``...:SS[.ffffff]Z`` times: what the
server writes) are taken by SQL; anything else goes through the same Python as the
pydantic path, and what that refuses refuses the page: :class:`MalformedPage`, nothing
written.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any
from uuid import UUID

import apsw
from pydantic import TypeAdapter, ValidationError

from protocol import InvalidInput

from . import fold
from .context import Ctx
from .pull import (
    _HISTORY,
    _STAGE_HISTORY,
    _STAGE_TARGETS,
    _STAGED,
    StagedPage,
    _status_text,
    _time_text,
    write_page,
)
from .schema import JSONField
from .types import PullSummary


class MalformedPage(ValueError):
    """The body is not a pull answer; ``str()`` says where. Nothing was applied."""


# ---- values: SQL for the stored forms, Python (as the pydantic path reads) otherwise ----
_TIME = TypeAdapter(datetime)
_UUID = TypeAdapter(UUID)
_H = "[0-9a-f]"
_UUID_GLOB = "-".join(_H * n for n in (8, 4, 4, 4, 12))
_D = "[0-9]"
_SECONDS = f"{_D * 4}-[01]{_D}-[0-3]{_D}T[0-2]{_D}:[0-5]{_D}:[0-5]{_D}"


def _refusing(what: str, read: Any) -> Any:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        try:
            return read(value)
        except (ValidationError, InvalidInput, ValueError, TypeError):
            raise MalformedPage(f"{value!r} is not {what}") from None

    return convert


_FUNCTIONS = {
    "pull_time": _refusing("a time", lambda v: _time_text(_TIME.validate_python(v))),
    "pull_uuid": _refusing("a uuid", lambda v: str(_UUID.validate_python(v))),
    "pull_status": _refusing("a status", _status_text),
    "pull_markets": _refusing("a list of markets", lambda v: JSONField().db_value(json.loads(v))),
}


def _time(x: str) -> str:
    """Fast path: the GLOB checks the form, date() the day (2026-02-30 is no date)."""
    day = f"date(substr({x}, 1, 10)) = substr({x}, 1, 10) AND substr({x}, 12, 2) < '24'"
    return (
        f"CASE WHEN {x} GLOB '{_SECONDS}.{_D * 6}Z' AND {day} THEN {x}"
        f" WHEN {x} GLOB '{_SECONDS}Z' AND {day} THEN substr({x}, 1, 19) || '.000000Z'"
        f" ELSE pull_time({x}) END"
    )


def _uuid(x: str) -> str:
    return f"CASE WHEN {x} GLOB '{_UUID_GLOB}' THEN {x} ELSE pull_uuid({x}) END"


def _status(x: str) -> str:
    known = "'Passed', 'Cold', 'Active', 'Hot', 'Closed'"
    return f"CASE WHEN {x} IS NULL OR {x} IN ({known}) THEN {x} ELSE pull_status({x}) END"


def _markets(x: str) -> str:
    """The stored text (:class:`JSONField`) of a JSON array of strings: SQLite writes it
    compact, as the encoder does; a string with escapes is re-encoded in Python."""
    return f"CASE WHEN instr({x}, '\\') THEN pull_markets({x}) ELSE {x} END"


# ---- shape: key -> (JSON types allowed, required) -------------------------------------
_T, _N, _I = "text", "null", "integer"
_TARGET_SHAPE = {
    "uid": ((_T,), True),
    "name": ((_T,), True),
    "description": ((_T,), False),
    "markets": (("array",), False),
    "status": ((_T, _N), False),
    "version": ((_I,), True),
    "status_changed_at": ((_T, _N), False),
    "status_changed_by": ((_T, _N), False),
    "created_at": ((_T,), True),
    "last_updated": ((_T,), True),
    "updated_by": ((_T, _N), False),
}
_ENTRY_SHAPE = {
    "id": ((_I,), True),
    "change_id": ((_T,), True),
    "target": ((_T,), True),
    "op": ((_T,), True),
    "old_status": ((_T, _N), False),
    "new_status": ((_T, _N), False),
    "changed_at": ((_T,), True),
    "recorded_at": ((_T,), True),
    "changed_by": ((_T,), True),
    "device_id": ((_T,), True),
    "note": ((_T, _N), False),
    "version": ((_I,), True),
}
_PAGE_SHAPE = {
    "targets": (("array",), True),
    "history": (("array",), True),
    "cursor": ((_T,), True),
    "more": (("true", "false"), True),
}


def _keys(names: Any) -> str:
    return ", ".join(f"'{k}'" for k in names)


def _shape_problem(v: str, shape: dict[str, tuple[tuple[str, ...], bool]]) -> str:
    """SQL: NULL when the JSON object ``v`` has ``shape``, else the first wrong key."""
    whens = [f"WHEN json_type({v}) IS NOT 'object' THEN 'not an object'"]
    for key, (types, required) in shape.items():
        found = f"json_type({v}, '$.{key}')"  # NULL: no such key
        allowed = f"coalesce({found} IN ({_keys(types)}), {0 if required else 1})"
        whens.append(f"WHEN NOT {allowed} THEN '{key}'")
    extra = f"(SELECT min(key) FROM jsonb_each({v}) WHERE key NOT IN ({_keys(shape)}))"
    whens.append(f"WHEN {extra} IS NOT NULL THEN 'unknown key ' || {extra}")
    return "CASE " + " ".join(whens) + " END"


_PROBLEMS = f"""
SELECT problem FROM (
    SELECT 'targets[' || e.key || ']: ' || coalesce(
        {_shape_problem("e.value", _TARGET_SHAPE)},
        CASE WHEN EXISTS (SELECT 1 FROM jsonb_each(e.value, '$.markets') WHERE type <> 'text')
        THEN 'markets' END) AS problem
    FROM jsonb_each(?1, '$.targets') AS e
    UNION ALL
    SELECT 'history[' || e.key || ']: ' || coalesce(
        {_shape_problem("e.value", _ENTRY_SHAPE)},
        CASE WHEN e.value ->> 'op' NOT IN ('create', 'set_status', 'edit') THEN 'op' END,
        CASE WHEN {_time("(e.value ->> 'recorded_at')")} IS NULL THEN 'recorded_at' END)
    FROM jsonb_each(?1, '$.history') AS e
) WHERE problem IS NOT NULL LIMIT 1
"""


def _shape_ok(v: str, shape: dict[str, tuple[tuple[str, ...], bool]]) -> str:
    """SQL: true only if ``v`` has ``shape`` (:func:`_shape_problem` would find nothing):
    every key there (optional ones too: the server writes them all) with an allowed type,
    and no other key. Half the cost of finding the problem; false is not a verdict."""
    typed = [f"json_type({v}, '$.{key}') IN ({_keys(types)})" for key, (types, _) in shape.items()]
    return " AND ".join(
        [
            f"json_type({v}) = 'object'",
            *typed,
            f"(SELECT count(*) FROM jsonb_each({v})) = {len(shape)}",
        ]
    )


# The common case, cheaply: true when _PROBLEMS would find nothing (false: run it).
_ROWS_OK = f"""
SELECT NOT EXISTS (
    SELECT 1 FROM jsonb_each(?1, '$.targets') AS e
    WHERE NOT ({_shape_ok("e.value", _TARGET_SHAPE)})
       OR EXISTS (SELECT 1 FROM jsonb_each(e.value, '$.markets') WHERE type <> 'text')
) AND NOT EXISTS (
    SELECT 1 FROM jsonb_each(?1, '$.history') AS e
    WHERE NOT ({_shape_ok("e.value", _ENTRY_SHAPE)})
       OR e.value ->> 'op' NOT IN ('create', 'set_status', 'edit')
       OR {_time("(e.value ->> 'recorded_at')")} IS NULL
)
"""


# ---- staging ---------------------------------------------------------------------------
# Each value is read out of the JSONB once into a MATERIALIZED row set, then converted: a
# conversion names its value several times (checks, fast path, fallback), and SQLite
# would otherwise look the key up in the object each time (a third of staging's cost).
_TARGET_KEYS = (
    "uid",
    "version",
    "name",
    "description",
    "status",
    "status_changed_at",
    "status_changed_by",
    "last_updated",
    "created_at",
)
_RAW_TARGETS = f"""
raw AS MATERIALIZED (
    SELECT e.key AS seq, {", ".join(f"e.value ->> '{k}' AS {k}" for k in _TARGET_KEYS)},
        e.value -> 'markets' AS markets
    FROM jsonb_each(?1, '$.targets') AS e
)"""
_TARGET_VALUES = {
    "uid": _uuid("r.uid"),
    "server_version": "r.version",
    "server_name": "r.name",
    "server_description": "coalesce(r.description, '')",
    "server_markets": f"coalesce({_markets('r.markets')}, '[]')",
    "server_status": _status("r.status"),
    "server_status_changed_at": _time("r.status_changed_at"),
    "server_status_changed_by": "r.status_changed_by",
    "server_updated_at": _time("r.last_updated"),
    "created_at": _time("r.created_at"),
    "name_lc": fold.name_key_sql("r.name"),
    "markets_sort": (
        f"coalesce((SELECT group_concat({fold.name_key_sql('m.value')}, ', ' ORDER BY m.key)"
        " FROM json_each(r.markets) AS m), '')"
    ),
}
assert tuple(_TARGET_VALUES) == _STAGED
_PAGE_TARGETS = f"""
SELECT r.seq AS seq, {", ".join(f"{v} AS {k}" for k, v in _TARGET_VALUES.items())}
FROM raw AS r
"""
# The common page (each uid once) in one round, straight into temp.pull_targets. A
# repeated uid is skipped (WHERE true: the ON is not a join's), the count comes short
# and the caller stages the page again in rounds.
_STAGE_ONCE = f"""
WITH {_RAW_TARGETS}
INSERT INTO temp.pull_targets (seq, {", ".join(_STAGED)})
{_PAGE_TARGETS} WHERE true ON CONFLICT (uid) DO NOTHING
"""
# Otherwise every pulled target, its uid's round (0 for its first occurrence...).
_STAGE_PAGE = f"""
CREATE TEMP TABLE pull_page AS
WITH {_RAW_TARGETS}
SELECT seq, {", ".join(_STAGED)},
    row_number() OVER (PARTITION BY uid ORDER BY seq) - 1 AS round
FROM ({_PAGE_TARGETS})
"""
_ROUND = f"""
INSERT INTO temp.pull_targets (seq, {", ".join(_STAGED)})
SELECT seq, {", ".join(_STAGED)} FROM temp.pull_page WHERE round = ? ORDER BY seq
"""
_ENTRY_KEYS = {  # staged column <- key of the entry
    "change_id": "change_id",
    "target": "target",
    "old_status": "old_status",
    "new_status": "new_status",
    "changed_at": "changed_at",
    "changed_by": "changed_by",
    "note": "note",
    "server_version": "version",
}
_ENTRY_VALUES = {
    "change_id": _uuid("r.change_id"),
    "target": _uuid("r.target"),
    "old_status": _status("r.old_status"),
    "new_status": _status("r.new_status"),
    "changed_at": _time("r.changed_at"),
    "changed_by": "r.changed_by",
    "note": "r.note",
    "server_version": "r.server_version",
}
assert tuple(_ENTRY_VALUES) == tuple(_ENTRY_KEYS) == _HISTORY
# The audit holds status changes only (as storage.pull._staged_entry).
_STAGE_ENTRIES = f"""
WITH raw AS MATERIALIZED (
    SELECT e.key AS seq, e.value ->> 'op' AS op,
        {", ".join(f"e.value ->> '{k}' AS {c}" for c, k in _ENTRY_KEYS.items())}
    FROM jsonb_each(?1, '$.history') AS e
)
INSERT INTO temp.pull_history (seq, {", ".join(_HISTORY)})
SELECT r.seq, {", ".join(_ENTRY_VALUES.values())}
FROM raw AS r
WHERE NOT (r.op = 'edit' OR (r.op = 'create' AND r.new_status IS NULL))
ORDER BY r.seq
"""


_local = threading.local()


def _scratch() -> apsw.Connection:
    """This thread's in-memory SQLite, where pages are read and converted: a page can be
    read on one thread while another writes the one before it to the store."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = apsw.Connection(":memory:")
        fold.register(conn)
        for name, fn in _FUNCTIONS.items():
            conn.create_scalar_function(name, fn, 1, deterministic=True)
        _local.conn = conn
    return conn


def _parse(cursor: Any, body: bytes | str) -> bytes:
    """The page as JSONB, its top level checked."""
    try:
        text = body.decode() if isinstance(body, bytes | bytearray) else body
    except UnicodeDecodeError:
        raise MalformedPage("the page is not UTF-8 text") from None
    [(page,)] = cursor.execute("SELECT CASE WHEN json_valid(?1) THEN jsonb(?1) END", (text,))
    if page is None:
        raise MalformedPage("the page is not JSON")
    [(problem,)] = cursor.execute(f"SELECT {_shape_problem('?1', _PAGE_SHAPE)}", (page,))
    if problem is not None:
        raise MalformedPage(f"the page: {problem}")
    return page


def _check_rows(cursor: Any, page: bytes) -> None:
    [(sure,)] = cursor.execute(_ROWS_OK, (page,))
    if sure:
        return
    for (problem,) in cursor.execute(_PROBLEMS, (page,)).fetchall():  # done before raising
        raise MalformedPage(problem)


def _target_rounds(cursor: Any, page: bytes, targets: int) -> list[list[tuple[Any, ...]]]:
    """The page's targets as ``_STAGED`` rows in rounds (see :class:`StagedPage`)."""
    rows = f"SELECT {', '.join(_STAGED)} FROM temp.{{}} {{}} ORDER BY seq"
    cursor.execute("DROP TABLE IF EXISTS temp.pull_targets")
    cursor.execute(_STAGE_TARGETS)
    cursor.execute(_STAGE_ONCE, (page,))
    once = cursor.execute(rows.format("pull_targets", "")).fetchall()
    if len(once) == targets:
        return [once]
    cursor.execute("DROP TABLE IF EXISTS temp.pull_page")
    cursor.execute(_STAGE_PAGE, (page,))
    [(count,)] = cursor.execute("SELECT max(round) + 1 FROM temp.pull_page")
    by_round = rows.format("pull_page", "WHERE round = ?")
    return [cursor.execute(by_round, (k,)).fetchall() for k in range(count)]


def read_page(body: bytes | str) -> StagedPage:
    """The page checked and converted into rows, on this thread's scratch connection
    (the store is not touched): :class:`MalformedPage` if it is not a pull answer."""
    with _scratch() as conn:  # a savepoint: whatever a refusal left staged goes
        cursor = conn.cursor()
        page = _parse(cursor, body)
        _check_rows(cursor, page)
        [(targets, more, cursor_text)] = cursor.execute(
            "SELECT json_array_length(?1, '$.targets'), ?1 ->> '$.more', ?1 ->> '$.cursor'",
            (page,),
        )
        rounds = _target_rounds(cursor, page, targets) if targets else []
        cursor.execute("DROP TABLE IF EXISTS temp.pull_history")
        cursor.execute(_STAGE_HISTORY)
        cursor.execute(_STAGE_ENTRIES, (page,))
        history = cursor.execute(
            f"SELECT {', '.join(_HISTORY)} FROM temp.pull_history ORDER BY seq"
        ).fetchall()
        edits = cursor.execute(_EDITS, (page,)).fetchall() if _has_edits(body) else []
    return StagedPage(rounds, history, targets, cursor_text, bool(more), edits)


_E = "e.value ->> '{}'"
#: A page's edits (:attr:`StagedPage.edits`), checked already with the other entries.
_EDITS = (
    f"SELECT {_uuid(_E.format('change_id'))}, {_uuid(_E.format('target'))},"
    f" {_E.format('version')}, {_E.format('changed_by')}, {_time(_E.format('changed_at'))}"
    " FROM jsonb_each(?1, '$.history') AS e WHERE e.value ->> 'op' = 'edit'"
)


def _has_edits(body: bytes | str) -> bool:
    """Whether the page may hold an edit (a string "edit" somewhere): a substring search,
    so a page without one (a catch-up's are mostly status changes) is not read again."""
    return (b'"edit"' if isinstance(body, bytes | bytearray) else '"edit"') in body


def apply_pull_json(ctx: Ctx, body: bytes | str) -> PullSummary:
    """:func:`storage.pull.apply_pull` of a page given as the server's JSON text."""
    return write_page(ctx, read_page(body))
