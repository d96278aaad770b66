"""Counts per status and aging buckets per status, as a bar chart."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from protocol import STATUS_ORDER
from storage import Summary

from ..display import status_label
from .base import SubScreen

BUCKETS = ("0-7d", "8-30d", "31-90d", "90+d")
#: One fill per bucket, so the chart reads without colour too.
BUCKET_FILL = ("█", "▓", "▒", "░")
BUCKET_STYLE = ("green", "yellow", "dark_orange", "red")
BAR_WIDTH = 30


def bar(buckets: tuple[int, ...], biggest: int, width: int = BAR_WIDTH) -> Text:
    """A stacked bar, each bucket its own fill and colour, scaled to ``biggest``."""
    text = Text()
    for count, fill, style in zip(buckets, BUCKET_FILL, BUCKET_STYLE, strict=True):
        cells = round(count * width / biggest) if biggest else 0
        if count and not cells:
            cells = 1
        text.append(fill * cells, style=style)
    return text


def summary_chart(summary: Summary) -> Group:
    rows: list[str | None] = [*(s.value for s in STATUS_ORDER), None]
    biggest = max((summary.by_status.get(s, 0) for s in rows), default=0)
    chart = Table(show_edge=False, pad_edge=False, box=None, expand=False)
    chart.add_column("Status", style="bold", no_wrap=True)
    chart.add_column("Targets", justify="right", no_wrap=True)
    chart.add_column("Days in status", no_wrap=True, min_width=BAR_WIDTH)
    for bucket in BUCKETS:
        chart.add_column(bucket, justify="right", no_wrap=True)
    for status in rows:
        count = summary.by_status.get(status, 0)
        buckets = summary.buckets.get(status, (0, 0, 0, 0))
        chart.add_row(
            status_label(status), f"{count:,}", bar(buckets, biggest), *(f"{n:,}" for n in buckets)
        )
    legend = Text("Days in status: ")
    for name, fill, style in zip(BUCKETS, BUCKET_FILL, BUCKET_STYLE, strict=True):
        legend.append(f"{fill}{fill} {name}  ", style=style)
    title = Text(f"{summary.total:,} targets", style="bold")
    return Group(title, Text(""), chart, Text(""), legend)


class SummaryScreen(SubScreen):
    BINDINGS = [Binding("g,q", "app.pop_screen", "Back", show=False, id="summary_back")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary"):
            yield Static(id="chart")
        yield Footer()

    def on_mount(self) -> None:
        self.reload_data()

    def reload_data(self) -> None:
        summary = self.attempt(self.store.summary)
        if summary is not None:
            self.query_one("#chart", Static).update(summary_chart(summary))
