"""Pick a status and a note; also the bulk preview (it shows the count first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from protocol import NOTE_MAX, STATUS_ORDER, InvalidInput, Status, clean_note

from .base import AppModal

NO_STATUS_ID = "none"


class NoteInput(Input):
    """The note of a status change: at most :data:`~protocol.NOTE_MAX` characters, as
    the store keeps. A key or a paste that would make it longer is refused and said so;
    what was typed stays (a longer note closed the dialog unsaved, status and note lost)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder="note (optional)", max_length=NOTE_MAX, **kwargs)

    def restricted(self) -> None:
        self.notify(
            f"A note holds at most {NOTE_MAX:,} characters: that did not fit "
            f"(the note has {len(self.value):,})",
            title="Note too long",
            severity="warning",
        )


@dataclass(frozen=True)
class StatusChoice:
    status: Status | None
    note: str | None


class StatusPicker(AppModal[StatusChoice]):
    """Statuses 1-5 (and 0 "no status"), a note, and a confirm button."""

    BINDINGS = [
        Binding(
            str(number),
            f"pick({number - 1})",
            status.value,
            show=False,
            id=f"pick_{status.lower()}",
        )
        for number, status in enumerate(STATUS_ORDER, 1)
    ] + [Binding("0", "pick_none", "No status", show=False, id="pick_none")]

    def __init__(
        self,
        title: str,
        *,
        current: str | None = None,
        preview: str | None = None,
        confirm: str = "Set status",
        allow_none: bool = False,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.current = current
        self.preview = preview
        self.confirm = confirm
        self.allow_none = allow_none

    def compose(self) -> ComposeResult:
        options = [
            Option(f"{number}  {status.value}", id=status.value)
            for number, status in enumerate(STATUS_ORDER, 1)
        ]
        if self.allow_none:
            options.append(Option("0  — no status", id=NO_STATUS_ID))
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            if self.preview:
                yield Static(self.preview, classes="preview", id="preview")
            yield OptionList(*options, id="statuses")
            yield NoteInput(id="note", compact=True)
            with Horizontal(classes="buttons"):
                yield Button(self.confirm, variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        statuses = self.query_one(OptionList)
        ids = [status.value for status in STATUS_ORDER]
        statuses.highlighted = ids.index(self.current) if self.current in ids else 0
        statuses.focus()

    def action_pick(self, index: int) -> None:
        self.query_one(OptionList).highlighted = index

    def action_pick_none(self) -> None:
        if self.allow_none:
            self.action_pick(len(STATUS_ORDER))  # the last option

    @on(OptionList.OptionSelected)
    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def submit(self) -> None:
        statuses = self.query_one(OptionList)
        if statuses.highlighted is None:
            return
        option_id = statuses.get_option_at_index(statuses.highlighted).id
        status = None if option_id == NO_STATUS_ID else Status(option_id)
        try:  # what the store refuses keeps the dialog open, the input as typed
            note = clean_note(self.query_one("#note", Input).value)
        except InvalidInput as err:
            self.notify(err.message, title="Not saved", severity="error")
            return
        self.dismiss(StatusChoice(status, note))

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)
