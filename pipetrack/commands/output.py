"""How commands print: JSON for scripts, aligned tables and local times for people.

JSON goes out exactly as the store's ``to_json()`` shapes give it (RFC 3339 UTC).
Tables use rich on a terminal (fitted to its width) and a plain, unwrapped layout
when standard output is a pipe or a file, so ``pipetrack list | grep`` sees one
line per target.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

import typer
from rich.console import Console
from rich.table import Table

NONE = "-"


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def info(message: str) -> None:
    """A message for the person, not data: standard error, so pipes see only data."""
    typer.echo(message, err=True)


def stdout_is_tty() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def emit_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Aligned columns: rich on a terminal, plain padded text otherwise."""
    rows = [[cell if cell else NONE for cell in row] for row in rows]
    if stdout_is_tty():
        table = Table(box=None, header_style="bold", pad_edge=False)
        for name in columns:
            table.add_column(name, overflow="ellipsis", no_wrap=name != columns[-1])
        for row in rows:
            table.add_row(*row)
        Console(file=sys.stdout).print(table)
        return
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(columns)]
    for line in [list(columns), *rows]:
        cells = [cell.replace("\n", " ").ljust(widths[i]) for i, cell in enumerate(line)]
        typer.echo("  ".join(cells).rstrip())


class HasJson(Protocol):
    def to_json(self) -> dict[str, Any]: ...


Item = TypeVar("Item", bound=HasJson)


def emit_list(
    items: Sequence[Item],
    as_json: bool,
    *,
    columns: Sequence[str],
    row: Callable[[Item], Sequence[str]],
    empty: str,
) -> None:
    """A JSON array of ``to_json()`` shapes, or a table (``empty`` on stderr if none)."""
    if as_json:
        emit_json([item.to_json() for item in items])
    elif not items:
        info(empty)
    else:
        emit_table(columns, (row(item) for item in items))


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
