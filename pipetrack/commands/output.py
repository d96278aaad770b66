"""How commands print: JSON for scripts, aligned tables and local times for people.

JSON goes out exactly as the store's ``to_json()`` shapes give it (RFC 3339 UTC).
Tables are plain aligned columns, one line per row: cut to the terminal's width on
a terminal, in full when standard output is a pipe or a file (so ``pipetrack list |
grep`` sees every character of one target per line).
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, Generic, Protocol, TypeVar

import typer

NONE = "-"


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json_array(items: Iterable[Any]) -> int:
    """``emit_json(list(items))``, byte for byte, written an item at a time: 100,000
    targets as one string took ~250 MB more (``list --json`` peaked at 415 MB). Returns
    the number of items."""
    out = sys.stdout
    count = 0
    for item in items:
        out.write(("[\n  " if not count else ",\n  ") + _in_array(item))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    out.flush()
    return count


_encode = json.JSONEncoder(ensure_ascii=False).encode
_WORDS = {None: "null", True: "true", False: "false"}
_SCALARS = (str, int, float, type(None))  # bool is an int


def _scalar(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)`` of a scalar: the common types without
    json's general machinery (a text is encoded in C), the others through it."""
    if type(value) is str:
        return encode_basestring(value)
    if type(value) is int:
        return int.__repr__(value)
    if value is None or type(value) is bool:
        return _WORDS[value]
    return _encode(value)


def _in_array(item: Any) -> str:
    """``json.dumps(item, ensure_ascii=False, indent=2)`` as an element of an indented
    array (each line after the first 2 columns further in). With ``indent`` json encodes
    in Python; a dict of scalars and lists of scalars (every store shape but a
    conflict's) is laid out here instead (``list --json`` of 100,000 targets: 2.3 -> 1.6 s)."""
    fields = _flat_fields(item)
    if fields is None:
        return json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")
    return "{\n    " + ",\n    ".join(fields) + "\n  }"


def _flat_fields(item: Any) -> list[str] | None:
    """The ``"key": value`` lines of a flat dict as :func:`_in_array` lays them out;
    None for anything else."""
    if type(item) is not dict or not item:
        return None
    fields = []
    for key, value in item.items():
        if type(key) is not str:
            return None
        if isinstance(value, _SCALARS):
            text = _scalar(value)
        elif type(value) is list and all(isinstance(v, _SCALARS) for v in value):
            text = (
                "[\n      " + ",\n      ".join(map(_scalar, value)) + "\n    ]" if value else "[]"
            )
        else:
            return None
        fields.append(f"{encode_basestring(key)}: {text}")
    return fields


def info(message: str) -> None:
    """A message for the person, not data: standard error, so pipes see only data."""
    typer.echo(message, err=True)


def stdout_is_tty() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


GAP = "  "
MIN_FLEX = 8
WRITE_ROWS = 1_000


def fit(widths: list[int], shrink: Sequence[int], room: int) -> list[int]:
    """Column widths that fit ``room`` characters, taking from the ``shrink`` columns in turn."""
    widths = list(widths)
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - room
    for i in shrink:
        cut = max(0, min(excess, widths[i] - MIN_FLEX))
        widths[i] -= cut
        excess -= cut
    return widths


def cells(text: str) -> int:
    """Terminal columns ``text`` takes: CJK and most emoji take 2 (company names in
    Japanese, Chinese or Korean would misalign every column after them otherwise)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len  # its unicode tables (~25 ms) only for text needing them

    return cell_len(text)


#: Between a held row's cells; never in a cell (:func:`_one_line`).
_SEP = "\x1f"


def _one_line(cell: str | None) -> str:
    """A cell as a table shows it: ``-`` when empty, on one line (no control characters)."""
    return (cell or NONE).replace("\n", " ").replace(_SEP, " ")


def clip(cell: str, width: int) -> str:
    """``cell`` cut to ``width`` columns (ending in …) when wider, padded to it."""
    if cell.isascii():
        return cell.ljust(width) if len(cell) <= width else cell[: width - 1] + "…"
    used = cells(cell)
    if used <= width:
        return cell + " " * (width - used)
    from rich.cells import set_cell_size

    return set_cell_size(cell, width - 1) + "…"


def emit_table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], shrink: Sequence[str] = ()
) -> int:
    """Aligned columns, one line per row.

    Piped or redirected: every cell in full, however wide. On a terminal: a bold header,
    and the ``shrink`` columns (default: the last), in that order, are cut short (…) to
    fit its width. Returns the number of rows; none: nothing is written.

    Only the rows' text is held (the widths need every row before the first line):
    ``rows`` may be a stream of the store's (``list`` of 100,000 targets: 76 MB peak RSS
    this way, 163 MB holding every target's view first).
    """
    widths = [cells(name) for name in columns]
    lines = []  # each row's cells in one string: a third of the memory of a tuple of them
    for row in rows:
        line = [_one_line(cell) for cell in row]
        widths = [max(w, cells(cell)) for w, cell in zip(widths, line, strict=True)]
        lines.append(_SEP.join(line))
    if not lines:
        return 0
    tty = stdout_is_tty()
    if tty:
        order = [columns.index(name) for name in shrink] or [len(columns) - 1]
        widths = fit(widths, order, shutil.get_terminal_size().columns)

    def text(line: Sequence[str]) -> str:
        return GAP.join(clip(cell, widths[i]) for i, cell in enumerate(line)).rstrip()

    header = text(columns)
    typer.echo(typer.style(header, bold=True) if tty else header)
    for start in range(0, len(lines), WRITE_ROWS):  # a write per block, not per line
        block = lines[start : start + WRITE_ROWS]
        sys.stdout.write("".join(text(line.split(_SEP)) + "\n" for line in block))
    sys.stdout.flush()
    return len(lines)


class HasJson(Protocol):
    def to_json(self) -> dict[str, Any]: ...


Item = TypeVar("Item", bound=HasJson)


@dataclass(frozen=True)
class ListSpec(Generic[Item]):
    """How a command shows a list of store values to a person.

    ``shrink``: the columns cut short on a narrow terminal, in turn; ``empty``: said on
    stderr when there is nothing (a callable: asked then, for words that need a look at
    why); ``hint``: said on stderr after a non-empty table.
    """

    columns: Sequence[str]
    row: Callable[[Item], Sequence[str]]
    empty: str | Callable[[], str]
    shrink: Sequence[str] = ()
    hint: str | None = None


def emit_list(items: Iterable[Item], as_json: bool, spec: ListSpec[Item]) -> int:
    """A JSON array of the items' ``to_json()`` shapes, or a table as ``spec`` says;
    the number of items. ``items`` may be a stream: each is read once, and only its
    text is kept."""
    if as_json:
        return emit_json_array(item.to_json() for item in items)
    shown = emit_table(spec.columns, (spec.row(item) for item in items), spec.shrink)
    if not shown:
        info(spec.empty if isinstance(spec.empty, str) else spec.empty())
    elif spec.hint:
        info(spec.hint)
    return shown


def emit_fields(pairs: Sequence[tuple[str, str]]) -> None:
    """``Label:  value`` lines, labels aligned."""
    width = max(len(label) for label, _ in pairs) + 1
    for label, value in pairs:
        typer.echo(f"{label + ':':<{width}}  {value}")


def local_time(value: datetime | None) -> str:
    """A UTC time shown in the machine's local time zone, to the minute."""
    if value is None:
        return NONE
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def day(value: date | None) -> str:
    return value.isoformat() if value else NONE


def status_text(status: str | None) -> str:
    return status or "none"


def plural(count: int, word: str) -> str:
    """``1 conflict``, ``2 conflicts``, ``1,200 targets``."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def age_text(seconds: float | None) -> str:
    """``45s``, ``12m``, ``3h 5m``, ``2d 4h``."""
    if seconds is None:
        return NONE
    secs = int(seconds)
    if secs < 60:
        return f"{secs}s"
    minutes, hours, days = secs // 60, secs // 3600, secs // 86400
    if secs < 3600:
        return f"{minutes}m"
    if secs < 86400:
        return f"{hours}h {minutes % 60}m"
    return f"{days}d {hours % 24}h"
