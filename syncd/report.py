"""Recording sync state in the store, for ``pipetrack status`` and the TUI's sync bar.

Writes only when something changes (or a sync succeeded): a write wakes the daemon's own
file watcher, so recording "still online" after every idle check would loop.
"""

from __future__ import annotations

import logging

from storage import Store

log = logging.getLogger("syncd")

TOKEN_REFUSED = "token refused - run pipetrack login"


class Reporter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._last: tuple[bool, str | None] | None = None

    @property
    def online(self) -> bool:
        return self._last is not None and self._last[0]

    def ok(self, *, synced: bool) -> bool:
        """The server answered. True when this ends a failure (the other loop may want
        to stop backing off)."""
        recovered = self._last is not None and not self._last[0]
        self._record(True, None, synced)
        return recovered

    def failed(self, error: str) -> None:
        self._record(False, error, False)

    def stopped(self) -> None:
        self._record(False, None, False)

    def _record(self, online: bool, error: str | None, synced: bool) -> None:
        if not synced and self._last == (online, error):
            return
        self.store.record_sync(online=online, error=error, synced=synced)
        self._last = (online, error)
