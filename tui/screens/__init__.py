"""Screens of the pipetrack TUI.

Only the pipeline screen is needed for the first paint: the others (and the Textual
widgets they bring, DataTable, TextArea, Select...) are imported when first asked for,
which keeps them off the TUI's start.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .base import AppModal, AppScreen, SubScreen
from .pipeline import PipelineScreen

if TYPE_CHECKING:
    from .activity import ActivityScreen
    from .confirm import ConfirmDialog
    from .conflicts import ConflictsScreen
    from .detail import DetailScreen
    from .filter import FilterForm
    from .forms import SnoozeForm, TargetForm
    from .help import HelpScreen
    from .status_picker import StatusPicker
    from .summary import SummaryScreen

#: Name -> the module defining it, imported on first use.
_LAZY = {
    "ActivityScreen": "activity",
    "ConfirmDialog": "confirm",
    "ConflictsScreen": "conflicts",
    "DetailScreen": "detail",
    "FilterForm": "filter",
    "HelpScreen": "help",
    "SnoozeForm": "forms",
    "StatusPicker": "status_picker",
    "SummaryScreen": "summary",
    "TargetForm": "forms",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "ActivityScreen",
    "AppModal",
    "AppScreen",
    "ConfirmDialog",
    "ConflictsScreen",
    "DetailScreen",
    "FilterForm",
    "HelpScreen",
    "PipelineScreen",
    "SnoozeForm",
    "StatusPicker",
    "SubScreen",
    "SummaryScreen",
    "TargetForm",
]
