"""What moved in the team's pipeline: every target's status changes, newest first."""

from __future__ import annotations

from datetime import timedelta

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Label

from storage import ActivityEntry

from ..display import shorten
from ..widgets import NoteBox, refill
from .base import SubScreen
from .detail import HistoryTable, history_row

#: How far back the screen looks, and the most rows it shows.
DAYS = 7
ROWS = 1_000

COLUMNS = ("Target", "Change", "Who", "When", "Days before", "Sync", "Note")
#: The widest the Target column gets: a long name must not push the change off screen.
TARGET_WIDTH = 24


class ActivityScreen(SubScreen):
    """The last week's status changes; enter opens a change's target."""

    AUTO_FOCUS = "#activity-table"

    BINDINGS = [Binding("a,q", "app.pop_screen", "Back", show=False, id="activity_back")]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[ActivityEntry] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="activity"):
            yield Label("…", id="activity-title")
            table = HistoryTable(id="activity-table", cursor_type="row", zebra_stripes=True)
            table.add_columns(*COLUMNS)
            yield table
        # the Note (and Sync) columns are off an 80-column screen: the note in full here
        yield NoteBox(id="note-box")
        yield Footer()

    def on_mount(self) -> None:
        self.reload_data()

    def reload_data(self) -> None:
        since = self.store.now() - timedelta(days=DAYS)
        # the audit's times are scanned in full: aside, off the event loop
        self.read_aside(lambda: self.store.activity(since, limit=ROWS), self._show)

    def _show(self, entries: list[ActivityEntry]) -> None:
        self.entries = entries
        table = self.query_one("#activity-table", DataTable)
        rows = [(shorten(e.name, TARGET_WIDTH), *history_row(e.change)) for e in entries]
        refill(table, [e.change.change_id for e in entries], rows)
        self._show_note(table.cursor_row)
        title = self.query_one("#activity-title", Label)
        count = f"{len(entries):,}" + (" (the newest)" if len(entries) == ROWS else "")
        title.update(
            f"{count} status changes of the last {DAYS} days, newest first"
            + (" · enter opens the target" if entries else "")
        )

    @on(DataTable.RowHighlighted, "#activity-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_note(event.cursor_row)

    def _show_note(self, row: int) -> None:
        entry = self.entries[row].change if 0 <= row < len(self.entries) else None
        self.query_one(NoteBox).show_change(entry)

    @on(DataTable.RowSelected, "#activity-table")
    def open_target(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.entries):
            self.pipetrack.open_detail(self.entries[event.cursor_row].target)
