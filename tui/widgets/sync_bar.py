"""The sync bar: online or offline, pending changes, conflicts, last sync."""

from __future__ import annotations

from math import ceil

from rich.cells import cell_len
from textual.geometry import Size

from storage import SyncState

from ..display import describe_sync
from .fitting import FittingLabel

#: The share of the line the sync bar leaves to what sits beside it (the counts and
#: filter) before it drops the time of the last sync.
BESIDE = 0.4


class SyncBar(FittingLabel):
    """One line of sync state; its classes (``-offline``, ``-conflicts``) colour it.

    It is the offline-first signal, so it is never squeezed out by what sits beside it
    (the counts and filter, which are cut instead): it takes the room its text needs.
    When the whole text would leave less than :data:`BESIDE` of the line beside it, the
    time of the last sync is left out; connection, pending, conflicts and rejected
    always show.
    """

    def show_state(self, state: SyncState) -> None:
        self.set_class(not state.online, "-offline")
        self.set_class(bool(state.conflicts or state.rejected), "-conflicts")
        error = None if state.error_from_before else state.last_error
        self.set_class(bool(error), "-error")
        self.tooltip = error
        self.show_texts((describe_sync(state), describe_sync(state, last_sync=False)))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        # From the line's width alone: a measure of the counts beside it would be stale
        # (Textual keeps this widget's size until the bar itself changes).
        room = container.width - ceil(container.width * BESIDE) - self.styles.gutter.width
        return cell_len(self.fitting(room))
