"""The sync bar: online or offline, pending changes, conflicts, last sync."""

from __future__ import annotations

from rich.cells import cell_len
from textual.geometry import Size

from storage import SyncState

from ..display import describe_sync
from .fitting import FittingLabel


class SyncBar(FittingLabel):
    """One line of sync state; its classes (``-offline``, ``-conflicts``) colour it.

    It is the offline-first signal, so it is never squeezed out by what sits beside it
    (the counts and filter, which are cut instead): it takes the room its text needs.
    The time of the last sync is the least of it: left out when the whole text would
    leave the labels beside it less than the shortest version of theirs needs;
    connection, pending, conflicts and rejected always show.
    """

    def show_state(self, state: SyncState) -> None:
        self.set_class(not state.online, "-offline")
        self.set_class(bool(state.conflicts or state.rejected), "-conflicts")
        error = None if state.error_from_before else state.last_error
        self.set_class(bool(error), "-error")
        self.tooltip = error
        self.show_texts((describe_sync(state), describe_sync(state, last_sync=False)))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        # ``container`` is the line less this bar's own gutter
        beside = sum(
            w.least_width for w in self.siblings if isinstance(w, FittingLabel) and w.display
        )
        return cell_len(self.fitting(container.width - beside))
