"""Pulling the team's changes: from the stored cursor, applied through the store.

The pull never waits for the outbox: the store keeps a target's pending changes on top
of whatever the server says, so both directions run independently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from protocol.wire import PULL_LIMIT_MAX
from storage import PullSummary, StagedPage, Store

from .client import ApiClient, ApiError, Refused
from .interrupt import Direct
from .retry import Backoff

log = logging.getLogger("syncd")

#: Pages of half the server's maximum: the page's JSON is held up to ~4 times while it is
#: stored (bytes, text, JSONB, the next page fetched meanwhile); at 10,000 a catch-up's
#: peak RSS was ~234 MiB (goal < 200), for a few % less time.
PULL_LIMIT = PULL_LIMIT_MAX // 2


@dataclass(frozen=True)
class Pulled:
    """One page stored: what it held (``history``: entries recorded) and whether the
    server has more."""

    targets: int
    history: int
    more: bool


class MalformedAnswer(ApiError):
    """The server's pull answer is not a pull answer: nothing of it was stored. Not
    :class:`~syncd.client.Transient`: retrying at once would fetch the same page."""


@dataclass
class PullTally:
    targets: int = 0
    history: int = 0

    def add(self, page: Pulled) -> PullTally:
        self.targets += page.targets
        self.history += page.history
        return self

    def __str__(self) -> str:
        targets = "target" if self.targets == 1 else "targets"
        entries = "entry" if self.history == 1 else "entries"
        return f"pulled {self.targets} {targets}, {self.history} history {entries}"


class Puller:
    """``requests``: how each pull is waited for; the daemon's lets its network watch
    give up one waiting on a dead connection (:mod:`syncd.interrupt`)."""

    def __init__(
        self,
        store: Store,
        client: ApiClient,
        backoff: Backoff,
        limit: int = PULL_LIMIT,
        requests: Direct = Direct(),
    ) -> None:
        self.store = store
        self.client = client
        self.backoff = backoff
        self.limit = limit
        self.requests = requests

    def pull_available(
        self, each: Callable[[Pulled], object] | None = None, wait: float = 0.0
    ) -> PullTally:
        """Pull page after page from the stored cursor until the server has nothing more;
        the first request long-polls ``wait`` s (the server answers as soon as something
        new commits). ``each`` is told of every page once it is stored. The next page is
        fetched and read into rows (another thread, outside the store) while this one is
        written: it starts from this page's cursor, which the store saves with this page,
        so a failure anywhere leaves the store at a page boundary as before."""
        tally = PullTally()
        if self.backoff.stop.is_set():
            return tally
        with ThreadPoolExecutor(1, thread_name_prefix="pull-ahead") as ahead:
            page = self._read(self._fetch(self.store.pull_cursor(), wait))
            while True:
                following = ahead.submit(self._read_next, page.cursor) if page.more else None
                stored = self._write(page)
                tally.add(stored)
                if each is not None:
                    each(stored)
                if following is None or self.backoff.stop.is_set():
                    break
                page = following.result()
        return tally

    def _fetch(self, cursor: str | None, wait: float) -> bytes:
        log.debug(
            "pulling (wait %.0f s, %s)", wait, "from a cursor" if cursor else "from the start"
        )
        try:
            return self._get(cursor, wait)
        except Refused as err:
            if cursor is None or err.status_code != 400:
                raise
            # The server no longer knows our cursor (e.g. a restored database): start
            # over; the store recognises what it already has, and takes the server's
            # state even where a version went back.
            log.warning("the server refused the pull cursor (%s); pulling everything", err)
            self.store.restart_pull()
            return self._get(None, wait)

    def _read_next(self, cursor: str) -> StagedPage:
        return self._read(self._get(cursor, 0.0))

    @staticmethod
    def _read(body: bytes) -> StagedPage:
        """The page checked and converted into rows (no model objects, the store not
        touched: see Store.read_pull_json)."""
        try:
            return Store.read_pull_json(body)
        except ValueError as err:
            raise MalformedAnswer(f"unexpected answer from /v1/pull: {err}") from None

    def _write(self, page: StagedPage) -> Pulled:
        stored: PullSummary = self.store.write_pull_page(page)
        said = (
            (logging.WARNING, stored.resent, "change", "the server had lost {} of ours (its"
             " database restored from a backup?): queued to be sent again"),
            (logging.INFO, stored.settled, "conflict", "{} settled: the newest change on the"
             " server is the same as yours (sent again, to be answered converged)"),
        )  # fmt: skip
        for level, count, noun, text in said:
            if count:
                log.log(level, text.format(f"{count} {noun}{'' if count == 1 else 's'}"))
        return Pulled(stored.targets, stored.history, bool(page.more))

    def _get(self, cursor: str | None, wait: float) -> bytes:
        def ask() -> bytes:
            return self.client.pull_raw(cursor, limit=self.limit, wait=wait)

        return self.backoff.call("pull", lambda: self.requests.call("pull", ask))
