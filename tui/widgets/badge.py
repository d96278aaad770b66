"""The stagnation badge: a glyph and text as well as a colour (``◐ 25d``, ``⚠ 97d``)."""

from __future__ import annotations

from textual.widgets import Static

from storage import TargetView

from ..display import badge

_WORDS = {"fresh": "fresh", "aging": "aging", "stale": "stale", "snoozed": "snoozed"}


class StagnationBadge(Static):
    """Badge and word for one target, classed ``-aging`` / ``-stale`` / ``-snoozed``."""

    def show_target(self, view: TargetView) -> None:
        for state in _WORDS:
            self.set_class(view.stagnation == state, f"-{state}")
        text = badge(view) or f"{view.days_in_status}d"
        word = _WORDS[view.stagnation]
        if view.snoozed_until:  # "fresh until …" read as if it turned stale then
            until = f"snoozed until {view.snoozed_until.isoformat()}"
            word = until if view.stagnation == "snoozed" else f"{word} · {until}"
        self.update(f"{text} {word}")
