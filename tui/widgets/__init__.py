"""Widgets of the pipetrack TUI (those of other screens than the pipeline are imported
on first use, as the screens are: see ``tui.screens``)."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .fitting import FittingLabel
from .key_footer import KeyFooter
from .refill import refill
from .sync_bar import SyncBar
from .target_table import TargetTable

if TYPE_CHECKING:
    from .aging_chart import AgingChart
    from .badge import StagnationBadge
    from .text_box import NoteBox, ScrollArea

_LAZY = {
    "AgingChart": "aging_chart",
    "NoteBox": "text_box",
    "ScrollArea": "text_box",
    "StagnationBadge": "badge",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "AgingChart",
    "FittingLabel",
    "KeyFooter",
    "NoteBox",
    "ScrollArea",
    "StagnationBadge",
    "SyncBar",
    "TargetTable",
    "refill",
]
