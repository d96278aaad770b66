"""Counts per status with their aging buckets as stacked bars (fill and colour per bucket)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from protocol import STATUS_ORDER
from storage import Summary

from ..display import status_label

BUCKETS = ("0-7d", "8-30d", "31-90d", "90+d")
#: One fill per bucket, so the chart reads without colour too.
BUCKET_FILL = ("█", "▓", "▒", "░")
BAR_WIDTH = 30
#: The narrowest bar beside the bucket counts; narrower, the counts give way to the bar.
BAR_WITH_COUNTS = 12
#: Between two columns of the chart (Rich's padding of one cell each side).
GAP = 2


def fitted(widths: list[int], width: int) -> tuple[int, bool]:
    """The bar's width and whether the bucket counts fit beside it, in ``width`` cells
    after the status and count columns (``widths``: those two, then each bucket's)."""
    room = width - (widths[0] + GAP + widths[1] + GAP)
    counts = sum(w + GAP for w in widths[2:])
    if room - counts >= BAR_WITH_COUNTS:
        return min(BAR_WIDTH, room - counts), True
    return max(1, min(BAR_WIDTH, room)), False


class AgingChart(Static):
    """Renders a :class:`storage.Summary` as wide as the widget is (at 40 columns the
    status names were cut to "…" by a bar of fixed width); bucket colours come from the
    stylesheet."""

    COMPONENT_CLASSES = {f"aging-chart--bucket-{n}" for n in range(len(BUCKETS))}
    _summary: Summary | None = None

    def on_resize(self) -> None:
        if self._summary is not None:
            self.show_summary(self._summary)

    def _bucket_styles(self) -> list[Style]:
        return [
            self.get_component_rich_style(f"aging-chart--bucket-{n}", partial=True)
            for n in range(len(BUCKETS))
        ]

    def bar(self, buckets: tuple[int, ...], biggest: int, width: int = BAR_WIDTH) -> Text:
        """A stacked bar scaled to ``biggest``; a non-empty bucket gets at least one cell."""
        text = Text()
        for count, fill, style in zip(buckets, BUCKET_FILL, self._bucket_styles(), strict=True):
            cells = round(count * width / biggest) if biggest else 0
            text.append(fill * max(cells, 1 if count else 0), style=style)
        return text

    def show_summary(self, summary: Summary) -> None:
        self._summary = summary
        rows: list[str | None] = [*(s.value for s in STATUS_ORDER), None]
        biggest = max((summary.by_status.get(s, 0) for s in rows), default=0)
        cells = [
            [
                status_label(status),
                f"{summary.by_status.get(status, 0):,}",
                *(f"{n:,}" for n in summary.buckets.get(status, (0, 0, 0, 0))),
            ]
            for status in rows
        ]
        headers = ["Status", "Targets", *BUCKETS]
        widths = [
            max(cell_len(h), *(cell_len(row[i]) for row in cells)) for i, h in enumerate(headers)
        ]
        # before the first layout the width is 0: the widest chart, fitted on resize
        bar_width, with_counts = fitted(widths, self.content_size.width or 10_000)
        chart = Table(show_edge=False, pad_edge=False, box=None)
        chart.add_column("Status", style="bold", no_wrap=True)
        chart.add_column("Targets", justify="right", no_wrap=True)
        header = "Days in status" if bar_width >= len("Days in status") else "Days"
        chart.add_column(header, no_wrap=True, min_width=bar_width, max_width=bar_width)
        for bucket in BUCKETS if with_counts else ():
            chart.add_column(bucket, justify="right", no_wrap=True)
        for status, (label, count, *counts) in zip(rows, cells, strict=True):
            buckets = summary.buckets.get(status, (0, 0, 0, 0))
            bar = self.bar(buckets, biggest, bar_width)
            chart.add_row(label, count, bar, *(counts if with_counts else ()))
        legend = Text("Days in status: ")
        for name, fill, style in zip(BUCKETS, BUCKET_FILL, self._bucket_styles(), strict=True):
            legend.append(f"{fill}{fill} {name}  ", style=style)
        total = summary.total
        title = Text(f"{total:,} target{'' if total == 1 else 's'}", style="bold")
        self.update(Group(title, Text(""), chart, Text(""), legend))
