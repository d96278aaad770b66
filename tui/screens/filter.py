"""Filter by status and market, and the "stale only" and "not synced yet" switches."""

from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Label, SelectionList

from protocol import STATUS_ORDER
from storage import TargetQuery

from ..display import NO_STATUS, STALE_ONLY, UNSYNCED
from .base import AppModal

__all__ = ["STALE_ONLY", "FilterForm"]


class FilterForm(AppModal[TargetQuery]):
    """Returns the query with the chosen statuses, markets and stale switch."""

    # enter and space tick what is highlighted: ctrl+s applies from any field, as the
    # other forms save with it
    BINDINGS = [Binding("ctrl+s", "apply", "Apply", id="filter_apply")]

    def __init__(self, query: TargetQuery, markets: list[str]) -> None:
        super().__init__()
        self.current = query
        self.markets = markets

    def compose(self) -> ComposeResult:
        chosen = set(self.current.statuses)
        statuses: list[tuple[str, str | None, bool]] = [
            (status.value, status.value, status.value in chosen) for status in STATUS_ORDER
        ]
        statuses.append((f"{NO_STATUS} no status", None, None in chosen))
        markets = {m.casefold() for m in self.current.markets}
        with Vertical(classes="dialog filter"):
            yield Label("Filter targets", classes="dialog-title")
            with Horizontal(classes="choices"):
                with Vertical():
                    yield Label("Status (none ticked = all)")
                    yield SelectionList[str | None](*statuses, id="statuses")
                with Vertical():
                    yield Label("Markets (any of)")
                    yield SelectionList[str](
                        *[(m, m, m.casefold() in markets) for m in self.markets], id="markets"
                    )
            yield Checkbox(
                "Stale only", self.current.stagnation == STALE_ONLY, id="stale", compact=True
            )
            yield Checkbox(
                "Not synced yet only (pending, conflicts, rejected)",
                self.current.sync == UNSYNCED,
                id="unsynced",
                compact=True,
            )
            yield Label(
                "space/enter tick · tab next · ctrl+s apply · esc cancel",
                id="filter-keys",
                classes="hint",
            )
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="ok", compact=True)
                yield Button("Clear", id="clear", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @on(Button.Pressed, "#ok")
    def action_apply(self) -> None:
        statuses = self.query_one("#statuses", SelectionList).selected
        self.dismiss(
            replace(
                self.current,
                statuses=tuple(
                    s for s in [*(x.value for x in STATUS_ORDER), None] if s in statuses
                ),
                markets=tuple(self.query_one("#markets", SelectionList).selected),
                stagnation=STALE_ONLY if self.query_one("#stale", Checkbox).value else (),
                sync=UNSYNCED if self.query_one("#unsynced", Checkbox).value else (),
            )
        )

    @on(Button.Pressed, "#clear")
    def clear(self) -> None:
        self.dismiss(replace(self.current, statuses=(), markets=(), stagnation=(), sync=()))

    @on(Button.Pressed, "#cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)
