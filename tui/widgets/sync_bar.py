"""The sync bar: online or offline, pending changes, conflicts, last sync."""

from __future__ import annotations

from textual.widgets import Static

from storage import SyncState

from ..display import describe_sync


class SyncBar(Static):
    """One line of sync state; its classes (``-offline``, ``-conflicts``) colour it."""

    def show_state(self, state: SyncState) -> None:
        self.set_class(not state.online, "-offline")
        self.set_class(bool(state.conflicts or state.rejected), "-conflicts")
        self.set_class(bool(state.last_error), "-error")
        self.tooltip = state.last_error or None
        self.update(describe_sync(state))
