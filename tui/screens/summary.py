"""Counts per status and aging buckets per status, as a bar chart."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer

from storage import StoreError, Summary

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
        self._load()

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def _load(self) -> None:
        """A whole-table aggregate: read in a worker thread, never on the event loop."""
        try:
            summary = self.store.summary()
        except StoreError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        self.app.call_from_thread(self._show, summary)

    def _show(self, summary: Summary) -> None:
        self.query_one(AgingChart).show_summary(summary)
