"""Counts per status with their aging buckets as stacked bars (fill and colour per bucket)."""

from __future__ import annotations

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


class AgingChart(Static):
    """Renders a :class:`storage.Summary`; bucket colours come from the stylesheet."""

    COMPONENT_CLASSES = {f"aging-chart--bucket-{n}" for n in range(len(BUCKETS))}

    def _bucket_styles(self) -> list[Style]:
        return [
            self.get_component_rich_style(f"aging-chart--bucket-{n}", partial=True)
            for n in range(len(BUCKETS))
        ]

    def bar(self, buckets: tuple[int, ...], biggest: int) -> Text:
        """A stacked bar scaled to ``biggest``; a non-empty bucket gets at least one cell."""
        text = Text()
        for count, fill, style in zip(buckets, BUCKET_FILL, self._bucket_styles(), strict=True):
            cells = round(count * BAR_WIDTH / biggest) if biggest else 0
            text.append(fill * max(cells, 1 if count else 0), style=style)
        return text

    def show_summary(self, summary: Summary) -> None:
        rows: list[str | None] = [*(s.value for s in STATUS_ORDER), None]
        biggest = max((summary.by_status.get(s, 0) for s in rows), default=0)
        chart = Table(show_edge=False, pad_edge=False, box=None)
        chart.add_column("Status", style="bold", no_wrap=True)
        chart.add_column("Targets", justify="right", no_wrap=True)
        chart.add_column("Days in status", no_wrap=True, min_width=BAR_WIDTH)
        for bucket in BUCKETS:
            chart.add_column(bucket, justify="right", no_wrap=True)
        for status in rows:
            buckets = summary.buckets.get(status, (0, 0, 0, 0))
            chart.add_row(
                status_label(status),
                f"{summary.by_status.get(status, 0):,}",
                self.bar(buckets, biggest),
                *(f"{n:,}" for n in buckets),
            )
        legend = Text("Days in status: ")
        for name, fill, style in zip(BUCKETS, BUCKET_FILL, self._bucket_styles(), strict=True):
            legend.append(f"{fill}{fill} {name}  ", style=style)
        title = Text(f"{summary.total:,} targets", style="bold")
        self.update(Group(title, Text(""), chart, Text(""), legend))
