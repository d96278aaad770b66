"""The target table's columns: titles, widths, sort keys and cell text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from storage import TargetView

from ..display import SYNC_GLYPH, badge, markets_text, status_class, status_label

SortKey = Literal["name", "status", "days", "markets", "sync", "updated"]


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    sort: SortKey | None
    width: int = 0  # fixed width; 0 = takes a share of what is left
    share: int = 0
    minimum: int = 6
    #: a narrow screen leaves out the column of the lowest ``drop`` first; 0: never (the
    #: name, and the sync mark: the sync state is never hidden)
    drop: int = 0
    right: bool = False
    text: Callable[[TargetView], str] = lambda view: ""
    style: Callable[[TargetView], str | None] = lambda view: None


COLUMNS: tuple[Column, ...] = (
    Column("mark", "", None, width=1),
    Column("name", "Name", "name", share=3, minimum=14, text=lambda v: v.name),
    Column(
        "status",
        "Status",
        "status",
        width=7,
        drop=4,
        text=lambda v: status_label(v.status),
        style=lambda v: f"status-{status_class(v.status)}",
    ),
    Column(
        "markets",
        "Markets",
        "markets",
        share=2,
        minimum=8,  # narrower, "Marke…" says nothing: left out instead
        drop=1,
        text=lambda v: markets_text(v.markets),
    ),
    Column(
        "days", "Days", "days", width=5, drop=2, right=True, text=lambda v: f"{v.days_in_status:,}"
    ),
    Column(
        "stagnation", "Stale", "days", width=7, drop=3, text=badge, style=lambda v: v.stagnation
    ),
    # 5 wide, not 4: room for the sort arrow ("Sync▲")
    Column(
        "sync", "Sync", "sync", width=5, text=lambda v: SYNC_GLYPH[v.sync], style=lambda v: v.sync
    ),
)

GAP = 1


@dataclass(frozen=True)
class Placed:
    column: Column
    x: int
    width: int


def _needs(columns: list[Column]) -> int:
    """The fewest cells ``columns`` fit in: fixed widths, flexible minimums, gaps."""
    return sum(c.width or c.minimum for c in columns) + GAP * (len(columns) - 1)


def shown_columns(total_width: int) -> list[Column]:
    """The columns that fit in ``total_width``: on a narrow screen the least useful go
    first (markets, days, the stale badge, the status), never the name or the sync
    mark (a sync column cut off the right edge hid the sync state, while a 5-cell
    "Marke…" column stayed)."""
    columns = list(COLUMNS)
    droppable = sorted((c for c in columns if c.drop), key=lambda c: c.drop)
    for column in droppable:
        if _needs(columns) <= total_width:
            break
        columns.remove(column)
    return columns


def layout(total_width: int) -> list[Placed]:
    """Place the columns that fit in ``total_width`` cells: fixed ones first, the rest
    shared."""
    columns = shown_columns(total_width)
    fixed = sum(c.width for c in columns) + GAP * (len(columns) - 1)
    shares = sum(c.share for c in columns if not c.width)
    spare = max(total_width - fixed, 0)
    placed: list[Placed] = []
    x = 0
    flexible = [c for c in columns if not c.width]
    for column in columns:
        if column.width:
            width = column.width
        elif column is flexible[-1]:
            used = sum(p.width for p in placed if not p.column.width)
            # below its minimum only when nothing is left to drop: the sync mark stays
            width = max(spare - used, 1)
        else:
            width = max(spare * column.share // shares, column.minimum)
        placed.append(Placed(column, x, width))
        x += width + GAP
    return placed


def column_at(total_width: int, x: int) -> Column | None:
    """The column under cell ``x`` (for header clicks)."""
    for place in layout(total_width):
        if place.x <= x < place.x + place.width + GAP:
            return place.column
    return None
