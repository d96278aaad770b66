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
        # while a new daemon connects, the error is the one an earlier process left
        error = state.last_error if state.connection != "connecting" else None
        self.set_class(bool(error), "-error")
        self.tooltip = error
        self.update(describe_sync(state))
