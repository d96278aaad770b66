"""Counts per status and aging buckets per status, as a bar chart."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer

from storage import Summary

from ..widgets import AgingChart
from .base import SubScreen


class SummaryScreen(SubScreen):
    BINDINGS = [Binding("g,q", "app.pop_screen", "Back", show=False, id="summary_back")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary"):
            yield AgingChart("…", id="chart")
        yield Footer()

    def on_mount(self) -> None:
        self.reload_data()

    def reload_data(self) -> None:
        self.read_aside(self.store.summary, self._show)  # a whole-table aggregate

    def _show(self, summary: Summary) -> None:
        self.query_one(AgingChart).show_summary(summary)
