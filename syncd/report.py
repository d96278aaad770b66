"""Recording sync state in the store, for ``pipetrack status`` and the TUI's sync bar.

Writes only when something changes (or a sync succeeded): a write wakes the daemon's own
file watcher, so recording "still online" after every idle check would loop.
"""

from __future__ import annotations

import logging
import threading

from storage import Store

from .client import ApiError, NotTheServer, ServerError, Unauthorized, UseHttps

log = logging.getLogger("syncd")

#: A 401: the token was disabled, or replaced by ``admin new-token``; only a new one helps.
NEW_TOKEN = "ask your admin for a new token, then run pipetrack login URL --token NEW"
TOKEN_REFUSED = f"token refused (disabled or replaced): {NEW_TOKEN}"
#: What the sync bar says beside "offline" when the daemon knows why. A few words: at 80
#: columns the bar has ~54 for "offline (…) · 30 pending · synced …" (the error itself
#: is in its tooltip and in ``pipetrack status``).
HINTS: tuple[tuple[type[ApiError], str], ...] = (
    # not "log in again": the same token is refused again; only the admin has a new one
    (Unauthorized, "token refused: ask your admin for a new one"),
    (NotTheServer, "Wi-Fi sign-in?"),
    (UseHttps, "log in with https"),
    (ServerError, "server trouble"),  # the network is fine; changes wait, retried
)


class Failures:
    """The daemon's loops' failures, shared: what one loop records must not be wiped by
    the other's success (pulls working while every push is answered 503 read "online",
    no error, while changes could not go out). The daemon is failing while either loop
    is; the most recent failure is the one said."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, tuple[str, str | None]] = {}  # loop -> (error, hint)

    def set(
        self, loop: str, failure: tuple[str, str | None] | None
    ) -> tuple[str, str | None] | None:
        """Record ``loop``'s failure (None: it succeeded); the failure to say now."""
        with self.lock:
            self.now.pop(loop, None)
            if failure is not None:
                self.now[loop] = failure  # last in: the most recent
            return next(reversed(self.now.values()), None)


class Reporter:
    """One loop's reports (``loop`` names it among those sharing ``failures``)."""

    def __init__(self, store: Store, failures: Failures | None = None, loop: str = "sync") -> None:
        self.store = store
        self.failures = failures or Failures()
        self.loop = loop
        self._failing = False  # this loop's own last report
        self._last: tuple[bool, str | None, str | None] | None = None  # as written

    @property
    def online(self) -> bool:
        return self._last is not None and self._last[0]

    def ok(self, *, synced: bool) -> bool:
        """The server answered this loop. True when this ends the loop's failure, or the
        other loop's failure still stands: that one may stop backing off and try now (a
        push after an outage, by a loop that had nothing to push meanwhile, left the
        daemon "offline" until the pull's next try, up to the backoff's cap later)."""
        recovered, self._failing = self._failing, False
        said = self.failures.set(self.loop, None)
        if said is None:
            self._record(True, None, synced)
        elif synced:  # the other loop still fails: said as it is, the sync time stamped
            self._record(False, said[0], True, said[1])
        return recovered or said is not None

    def failed(self, error: str, hint: str | None = None) -> None:
        self._failing = True
        said = self.failures.set(self.loop, (error, hint))
        assert said is not None
        self._record(False, said[0], False, said[1])

    def failed_on(self, err: ApiError) -> None:
        """``err``, with a hint of what the user can do about it when there is one."""
        hint = next((text for kind, text in HINTS if isinstance(err, kind)), None)
        self.failed(TOKEN_REFUSED if isinstance(err, Unauthorized) else str(err), hint)

    def stopped(self) -> None:
        self._record(False, None, False)

    def _record(
        self, online: bool, error: str | None, synced: bool, hint: str | None = None
    ) -> None:
        if not synced and self._last == (online, error, hint):
            return
        self.store.record_sync(online=online, error=error, synced=synced, hint=hint)
        self._last = (online, error, hint)
