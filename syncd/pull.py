"""Pulling the team's changes: from the stored cursor, applied through the store.

The pull never waits for the outbox: the store keeps a target's pending changes on top
of whatever the server says, so both directions run independently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from protocol.wire import PullResponse
from storage import Store

from .client import ApiClient, Refused
from .retry import Backoff

log = logging.getLogger("syncd")

PULL_LIMIT = 1_000


@dataclass
class PullTally:
    targets: int = 0
    history: int = 0

    def add(self, response: PullResponse) -> PullTally:
        self.targets += len(response.targets)
        self.history += len(response.history)
        return self

    def __str__(self) -> str:
        return f"pulled {self.targets} targets, {self.history} history entries"


class Puller:
    def __init__(
        self, store: Store, client: ApiClient, backoff: Backoff, limit: int = PULL_LIMIT
    ) -> None:
        self.store = store
        self.client = client
        self.backoff = backoff
        self.limit = limit

    def pull_page(self, wait: float = 0.0) -> PullResponse:
        """One pull from the stored cursor (long-polling ``wait`` s), applied and saved."""
        cursor = self.store.pull_cursor()
        log.debug(
            "pulling (wait %.0f s, %s)", wait, "from a cursor" if cursor else "from the start"
        )
        try:
            response = self._get(cursor, wait)
        except Refused as err:
            if cursor is None or err.status_code != 400:
                raise
            # The server no longer knows our cursor (e.g. a restored database): start
            # over; the store recognises what it already has.
            log.warning("the server refused the pull cursor (%s); pulling everything", err)
            response = self._get(None, wait)
        self.store.apply_pull(response.targets, response.history, response.cursor)
        return response

    def pull_available(self) -> PullTally:
        """Pull page after page until the server has nothing more (no long-poll)."""
        tally = PullTally()
        while not self.backoff.stop.is_set():
            response = self.pull_page()
            tally.add(response)
            if not response.more:
                break
        return tally

    def _get(self, cursor: str | None, wait: float) -> PullResponse:
        return self.backoff.call(
            "pull", lambda: self.client.pull(cursor, limit=self.limit, wait=wait)
        )
