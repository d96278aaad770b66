"""Keys (as remapped in config.toml) and what the glyphs mean."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..display import BADGE_GLYPH, MARK_GLYPH, SYNC_GLYPH
from .base import AppModal

Section = tuple[str, Sequence[Binding]]


def binding_title(binding: Binding) -> str:
    """``Set status: Hot`` for grouped bindings, else the description."""
    if binding.group is not None:
        return f"{binding.group.description}: {binding.description}"
    return binding.description


def keys_table(sections: Iterable[Section], key_of: dict[str, str]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, expand=True)
    table.add_column("Key", style="bold", no_wrap=True)
    table.add_column("Action", ratio=1)
    table.add_column("Id", style="dim", no_wrap=True)
    for title, bindings in sections:
        table.add_row(Text(title, style="bold underline"), "", "")
        for binding in bindings:
            if binding.description and binding.id:
                table.add_row(
                    key_of.get(binding.id, binding.key), binding_title(binding), binding.id
                )
    return table


def legend() -> Text:
    text = Text("Stale column: ", style="bold")
    text.append(
        f"{BADGE_GLYPH['aging']} aging  {BADGE_GLYPH['stale']} stale  "
        f"{BADGE_GLYPH['snoozed']} snoozed  (days in status)\n"
    )
    text.append("Sync column: ", style="bold")
    text.append(
        f"{SYNC_GLYPH['pending']} pending  {SYNC_GLYPH['conflict']} conflict  "
        f"{SYNC_GLYPH['rejected']} rejected  (blank = synced)\n"
    )
    text.append("Marked rows: ", style="bold")
    text.append(f"{MARK_GLYPH}  (space marks; b changes the marked rows or the whole filter)\n")
    text.append("Remap keys in config.toml: ", style="bold")
    text.append('[keys] set_hot = "h"  (binding id = key)')
    return text


class HelpScreen(AppModal[None]):
    BINDINGS = [Binding("question_mark,q", "cancel", "Close", id="help_close")]

    def __init__(self, sections: Sequence[Section], key_of: dict[str, str]) -> None:
        super().__init__()
        self.sections = sections
        self.key_of = key_of

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static("pipetrack keys  (esc, ?, F1 or q closes)", classes="dialog-title")
            yield Static(Group(legend(), Text(""), keys_table(self.sections, self.key_of)))
