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
    right: bool = False
    text: Callable[[TargetView], str] = lambda view: ""
    style: Callable[[TargetView], str | None] = lambda view: None


COLUMNS: tuple[Column, ...] = (
    Column("mark", "", None, width=1),
    Column("name", "Name", "name", share=3, minimum=10, text=lambda v: v.name),
    Column(
        "status",
        "Status",
        "status",
        width=7,
        text=lambda v: status_label(v.status),
        style=lambda v: f"status-{status_class(v.status)}",
    ),
    Column("markets", "Markets", "markets", share=2, text=lambda v: markets_text(v.markets)),
    Column("days", "Days", "days", width=5, right=True, text=lambda v: f"{v.days_in_status:,}"),
    Column("stagnation", "Stale", "days", width=7, text=badge, style=lambda v: v.stagnation),
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


def layout(total_width: int) -> list[Placed]:
    """Place every column in ``total_width`` cells: fixed ones first, the rest shared."""
    fixed = sum(c.width for c in COLUMNS) + GAP * (len(COLUMNS) - 1)
    shares = sum(c.share for c in COLUMNS if not c.width)
    spare = max(total_width - fixed, 0)
    placed: list[Placed] = []
    x = 0
    flexible = [c for c in COLUMNS if not c.width]
    for column in COLUMNS:
        if column.width:
            width = column.width
        elif column is flexible[-1]:
            used = sum(p.width for p in placed if not p.column.width)
            width = max(spare - used, column.minimum)
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
