"""Forms that write through the store: new target, edit details, snooze.

Each form hands what was typed to a ``save`` callable that calls the store (and only
the store: it runs in the app's write thread, queued behind earlier writes). Saved, the
form is dismissed with what ``save`` returned; when the store refuses (InvalidInput),
the message is shown and the form stays open with the input intact; nothing was written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, TextArea

from protocol import STATUS_ORDER, UNTIL_FORMS, InvalidInput, Status, parse_until

from ..display import markets_field, split_markets
from .base import AppModal


@dataclass(frozen=True)
class TargetFields:
    name: str
    description: str
    markets: list[str]
    status: Status | None = None


class FormModal(AppModal[object]):
    """A dialog with a save button; ``save`` gets the values, the store checks them.
    Dismissed with ``save``'s result (None: cancelled)."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save")]

    def __init__(self, title: str, save: Callable[..., object]) -> None:
        super().__init__()
        self.title_text = title
        self.save = save
        self.saving = False  # a save is queued: another press must not save twice

    def compose_buttons(self) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button("Save", variant="primary", id="ok", compact=True)
            yield Button("Cancel", id="cancel", compact=True)

    def values(self) -> object:  # pragma: no cover - overridden
        raise NotImplementedError

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def action_save(self) -> None:
        if self.saving:
            return
        try:
            values = self.values()
        except InvalidInput as err:
            self.notify(err.message, title="Not saved", severity="error")
            return
        self.saving = True
        self.pipetrack.writes.later(lambda: self.save(values), self.dismiss, self._not_saved)

    def _not_saved(self) -> None:
        self.saving = False

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)


class TargetForm(FormModal):
    """Name, markets, description (and a status when creating)."""

    def __init__(
        self,
        title: str,
        save: Callable[[TargetFields], object],
        *,
        initial: TargetFields | None = None,
        with_status: bool = False,
    ) -> None:
        super().__init__(title, save)
        self.initial = initial or TargetFields("", "", [])
        self.with_status = with_status

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Label(self.title_text, classes="dialog-title")
            with Grid(classes="fields"):
                yield Label("Name")
                # the cursor at the end, nothing selected: a key typed to add to a name
                # must not replace it (a faint selection is easy to miss)
                yield Input(self.initial.name, id="name", compact=True, select_on_focus=False)
                yield Label("Markets")
                yield Input(
                    markets_field(self.initial.markets),
                    placeholder="comma separated",
                    id="markets",
                    compact=True,
                    select_on_focus=False,
                )
                if self.with_status:
                    yield Label("Status")
                    yield Select(
                        [(status.value, status) for status in STATUS_ORDER],
                        prompt="no status",
                        id="status",
                        compact=True,
                    )
            yield Label("Description")
            yield TextArea(self.initial.description, id="description", soft_wrap=True, compact=True)
            yield from self.compose_buttons()

    def values(self) -> TargetFields:
        status = None
        if self.with_status:
            selected = self.query_one("#status", Select).value
            status = selected if isinstance(selected, Status) else None
        return TargetFields(
            name=self.query_one("#name", Input).value,
            description=self.query_one("#description", TextArea).text,
            markets=split_markets(self.query_one("#markets", Input).value),
            status=status,
        )


class SnoozeForm(FormModal):
    """A day before which the target is not stale (YYYY-MM-DD, +7d or +2w, as in the
    CLI); empty clears it."""

    def __init__(self, title: str, save: Callable[[date | None], object], current: date | None):
        super().__init__(title, save)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Label(self.title_text, classes="dialog-title")
            with Grid(classes="fields"):
                yield Label("Until")
                yield Input(
                    self.current.isoformat() if self.current else "",
                    placeholder=f"{UNTIL_FORMS} (empty: not snoozed)",
                    id="until",
                    compact=True,
                )
            yield from self.compose_buttons()

    def values(self) -> date | None:
        text = self.query_one("#until", Input).value.strip()
        if not text:
            return None
        return parse_until(text, date.today())
