"""Scrolling boxes for long texts (a description, a note of up to 1,000 characters),
and the box under a status-history table that shows the highlighted change's note in
full (the table cuts it at the screen's edge): the detail and activity screens."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from protocol import note_words
from storage import HistoryEntry

from ..display import local_time, status_label


class ScrollArea(VerticalScroll):
    """A scrolling area that Tab stops on only when it holds more than it shows (the
    CSS caps the long texts' boxes; their scrollbar then shows there is more)."""

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0


class NoteBox(ScrollArea):
    """One change's note in full, hidden when the change has none."""

    DEFAULT_CLASSES = "text-box"

    def compose(self) -> ComposeResult:
        yield Static(id="history-note")

    def show_change(self, entry: HistoryEntry | None) -> None:
        words = note_words(entry.note) if entry is not None else ""
        note = self.query_one("#history-note", Static)
        note.display = self.display = bool(words)
        if entry is not None and words:
            change = f"{status_label(entry.old_status)} → {status_label(entry.new_status)}"
            note.update(f"Note on {change}, {local_time(entry.changed_at)}: {words}")
            self.scroll_home(animate=False, immediate=True)
