"""Widgets of the pipetrack TUI."""

from .aging_chart import AgingChart
from .badge import StagnationBadge
from .sync_bar import SyncBar
from .target_table import TargetTable

__all__ = ["AgingChart", "StagnationBadge", "SyncBar", "TargetTable"]
