"""Widgets of the pipetrack TUI."""

from .badge import StagnationBadge
from .sync_bar import SyncBar
from .target_table import TargetTable

__all__ = ["StagnationBadge", "SyncBar", "TargetTable"]
