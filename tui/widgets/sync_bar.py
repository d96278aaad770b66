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
        error = None if state.error_from_before else state.last_error
        self.set_class(bool(error), "-error")
        self.tooltip = error
        self.update(describe_sync(state))
