"""One target: details, status history, edit, snooze."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.geometry import Region, Size
from textual.widgets import DataTable, Footer, Label, Static

from protocol import note_words
from storage import HistoryEntry, StatusChange, TargetView

from ..display import (
    SYNC_WORD,
    local_time,
    markets_text,
    status_class,
    status_label,
    status_news,
)
from ..widgets import NoteBox, ScrollArea, StagnationBadge, refill
from .base import SubScreen
from .forms import SnoozeForm, TargetFields, TargetForm
from .status_picker import StatusChoice, StatusPicker

T = TypeVar("T")

# Sync before Note: a note is as long as its writer made it, so it goes last, and
# in full under the table for the highlighted change.
HISTORY_COLUMNS = ("Change", "Who", "When", "Days before", "Sync", "Note")


def history_row(entry: HistoryEntry) -> tuple[str, ...]:
    where = "server" if entry.origin == "server" else f"local · {SYNC_WORD[entry.sync]}"
    days = "" if entry.days_in_previous is None else f"{entry.days_in_previous:,}"
    change = f"{status_label(entry.old_status)} → {status_label(entry.new_status)}"
    when = local_time(entry.changed_at)
    return (change, entry.changed_by, when, days, where, note_words(entry.note))


class HistoryTable(DataTable[str]):
    """Changes, a row each. Home and end go to the first and last row, as on the
    pipeline list: DataTable's own scroll sideways, off the first columns."""

    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False, id="first_row"),
        Binding("end", "scroll_bottom", "Last", show=False, id="last_row"),
    ]


class HeadName(Label):
    """The target's name in the header: as wide as its text, but never wider than what
    the status, badge and sync word beside it leave (the CSS cuts it with "…")."""

    def get_content_width(self, container: Size, viewport: Size) -> int:
        # Measured again whenever the name is updated, which reload_data does together
        # with the widgets beside it.
        beside = sum(
            w.get_content_width(container, viewport) + w.styles.gutter.width + w.styles.margin.width
            for w in self.siblings
            if w.display
        )
        room = container.width - beside - self.styles.gutter.width - self.styles.margin.width
        return max(min(super().get_content_width(container, viewport), room), 1)


def _changed(new: T, old: T) -> T | None:
    """What to hand ``Store.edit_target``: None leaves a field as it is."""
    return None if new == old else new


class DetailScreen(SubScreen):
    """Everything about one target."""

    # The history table is focused in on_mount, without scrolling to it: on a short
    # screen that would push the name header off the top.
    AUTO_FOCUS = ""

    BINDINGS = [
        Binding("e", "edit", "Edit", id="edit"),
        Binding("s", "status_picker", "Status…", id="detail_status"),
        Binding("z", "snooze", "Snooze", id="snooze"),
        Binding("q", "app.pop_screen", "Back", show=False, id="detail_back"),
    ]

    def __init__(self, uid: str) -> None:
        super().__init__()
        self.uid = uid
        self.view: TargetView | None = None
        self.history: list[HistoryEntry] = []  # newest first, as the table shows it

    def compose(self) -> ComposeResult:
        # the name line above the scrolling area: scrolling it never hides which target
        # this is (Tab on a short screen focused the area, and Down took the name away)
        with Horizontal(id="detail-head"):
            yield HeadName(id="detail-name")
            yield Label(id="detail-status")
            yield StagnationBadge(id="detail-badge")
            yield Label(id="detail-sync")
        with ScrollArea(id="detail"):
            yield Static(id="detail-meta")
            with ScrollArea(id="description-box", classes="text-box"):
                yield Static(id="detail-description")
            yield Label("Status history", classes="section")
            table = HistoryTable(id="history", cursor_type="row", zebra_stripes=True)
            table.add_columns(*HISTORY_COLUMNS)
            yield table
        yield NoteBox(id="note-box")
        yield Footer()

    def on_mount(self) -> None:
        self.reload_data()
        self.query_one("#history", DataTable).focus(scroll_visible=False)

    def reload_data(self) -> None:
        view = self.attempt(self.store.get, self.uid)
        history = self.attempt(self.store.history, self.uid)
        if view is None or history is None:
            return
        self.view = view
        self.query_one(HeadName).update(view.name)
        status = self.query_one("#detail-status", Label)
        status.update(status_label(view.status))
        status.set_classes(f"status-{status_class(view.status)}")
        self.query_one(StagnationBadge).show_target(view)
        self.query_one("#detail-sync", Label).update(SYNC_WORD[view.sync])
        held = f"{view.days_in_status:,} days in {view.status}" if view.status else "no status"
        self.query_one("#detail-meta", Static).update(
            f"uid {view.uid} · markets: {markets_text(view.markets) or 'none'} · "
            f"{held} since {local_time(view.status_since)}"
        )
        self.query_one("#detail-description", Static).update(view.description or "(no description)")
        self.history = list(reversed(history))
        table = self.query_one("#history", DataTable)
        refill(table, [e.change_id for e in self.history], [history_row(e) for e in self.history])
        self._show_note(table.cursor_row)

    @on(DataTable.RowHighlighted, "#history")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_note(event.cursor_row)
        if event.data_table.has_focus:
            self._reveal_cursor(event.data_table)

    def _reveal_cursor(self, table: DataTable[str]) -> None:
        """The highlighted row in sight: the table scrolls itself, but its lower rows may
        sit below the bottom of the area it is in (which opens at the top)."""
        y = table.virtual_region.y + table.gutter.top + table.header_height
        y += table.cursor_row - round(table.scroll_y)
        area = self.query_one("#detail", ScrollArea)
        area.scroll_to_region(Region(0, y, 1, 1), animate=False, immediate=True)

    def _show_note(self, row: int) -> None:
        entry = self.history[row] if 0 <= row < len(self.history) else None
        self.query_one(NoteBox).show_change(entry)

    def action_edit(self) -> None:
        view = self.view
        if view is None:
            return

        def save(fields: TargetFields) -> object:
            changes = {
                "name": _changed(fields.name, view.name),
                "description": _changed(fields.description, view.description),
                "markets": _changed(fields.markets, list(view.markets)),
            }
            if all(value is None for value in changes.values()):
                return view
            return self.store.edit_target(view.uid, **changes)

        initial = TargetFields(view.name, view.description, list(view.markets))
        self.app.push_screen(TargetForm(f"Edit {view.name}", save, initial=initial), self._saved)

    def action_snooze(self) -> None:
        view = self.view
        if view is None:
            return

        def save(until: date | None) -> object:
            return self.store.snooze(view.uid, until)

        form = SnoozeForm(f"Snooze {view.name}", save, view.snoozed_until)
        self.app.push_screen(form, self._saved)

    def _saved(self, result: object) -> None:
        if result is not None:
            self.pipetrack.data_changed()

    def action_status_picker(self) -> None:
        view = self.view
        if view is None:
            return

        def chosen(choice: StatusChoice | None) -> None:
            if choice is None:
                return
            uid, status, note = view.uid, choice.status, choice.note

            def done(change: StatusChange) -> None:
                self.notify(status_news(change, note))
                self.pipetrack.data_changed()

            self.pipetrack.writes.later(lambda: self.store.set_status(uid, status, note), done)

        picker = StatusPicker(f"Status of {view.name}", current=view.status, allow_none=True)
        self.app.push_screen(picker, chosen)
