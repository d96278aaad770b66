"""A yes/no question before a step that loses the user's work (drop, take theirs)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from .base import AppModal


class ConfirmDialog(AppModal[bool | str]):
    """``title``, what will be lost, and y / Enter to go on, n / Esc to keep it; with
    ``also`` (a button's text), ``a`` for that second way on. Dismissed with True to go
    on, "also" for the second way, None when cancelled."""

    AUTO_FOCUS = "#ok"

    BINDINGS = [
        Binding("y", "confirm", "Yes: drop / take theirs as asked", id="confirm_yes"),
        Binding("a", "also", "Take theirs and drop my later changes too", id="confirm_also"),
        Binding("n", "cancel", "No: keep my change", id="confirm_no"),
    ]

    def __init__(self, title: str, loses: str, confirm: str, also: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.loses = loses
        self.confirm = confirm
        self.also = also

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.loses, classes="preview", id="loses")
            also = f" · a: {self.also.lower()}" if self.also else ""
            # a Static wraps on a narrow dialog (a Label was cut to "n or Esc: keep i")
            yield Static(f"y or Enter: go on{also} · n or Esc: keep it", classes="hint")
            with Horizontal(classes="buttons"):
                # Enter presses the focused button: this one unless Tab moved on
                yield Button(self.confirm, variant="error", id="ok", compact=True)
                if self.also:
                    yield Button(self.also, variant="warning", id="also", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.also is not None if action == "also" else True

    @on(Button.Pressed, "#ok")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#also")
    def action_also(self) -> None:
        self.dismiss("also")

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)
