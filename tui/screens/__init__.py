"""Screens of the pipetrack TUI."""

from .base import AppModal, AppScreen, SubScreen
from .conflicts import ConflictsScreen
from .detail import DetailScreen
from .filter import FilterForm
from .forms import SnoozeForm, TargetForm
from .help import HelpScreen
from .pipeline import PipelineScreen
from .status_picker import StatusPicker
from .summary import SummaryScreen

__all__ = [
    "AppModal",
    "AppScreen",
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
