"""Pushing the outbox: batches in creation order, results applied through the store.

The store decides what is pushable (``take_batch`` skips targets held behind a conflict
or a rejection); this module only sends, splits and records. Nothing leaves the outbox
except through :meth:`Store.apply_push_results`, so a batch whose answer was lost is
taken and sent again exactly as it was (the server answers ``duplicate``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from protocol.wire import Change, Result
from storage import PushSummary, Store

from .client import ApiClient, Refused
from .retry import Backoff

log = logging.getLogger("syncd")

BATCH_MAX = 500
#: Answers about the batch's content (too large, schema): split it to find the culprit.
SPLIT_ON = frozenset({413, 422})


@dataclass
class PushTally:
    """What one push cycle did: changes sent and the store's outcomes, summed over batches."""

    sent: int = 0
    outcomes: PushSummary = field(default_factory=PushSummary)

    def add(self, sent: int, summary: PushSummary) -> None:
        self.sent += sent
        self.outcomes = PushSummary(
            **{
                f.name: getattr(self.outcomes, f.name) + getattr(summary, f.name)
                for f in fields(PushSummary)
            }
        )

    def __str__(self) -> str:
        o = self.outcomes
        done = o.applied + o.duplicate + o.converged
        return f"pushed {self.sent} (applied {done}, conflicts {o.conflict}, rejected {o.rejected})"

    @property
    def settled(self) -> int:
        """Changes that got a final answer (everything but ``blocked``)."""
        return self.sent - self.outcomes.blocked


def quarantine(change: Change, err: Refused) -> Result:
    """A local ``rejected`` result for a change the server refuses to even receive, so
    the store keeps it aside (shown with the reason) and the queue moves on."""
    return Result(
        change_id=change.change_id, outcome="rejected", error=f"the server refused it: {err}"
    )


class Pusher:
    """Sends everything pushable, one batch at a time, until nothing is left."""

    def __init__(self, store: Store, client: ApiClient, backoff: Backoff) -> None:
        self.store = store
        self.client = client
        self.backoff = backoff

    def push_pending(self) -> PushTally:
        """One push cycle. Transient errors are retried per ``backoff`` (the same batch
        again); 413/422 split the batch down to the one change to quarantine;
        :class:`~syncd.client.Unauthorized` and other errors propagate."""
        tally = PushTally()
        limit = BATCH_MAX
        while not self.backoff.stop.is_set():
            batch = self.store.take_batch(limit)
            if not batch:
                break
            log.debug("pushing %d changes (batch limit %d)", len(batch), limit)
            try:
                results = self._send(batch)
            except Refused as err:
                if err.status_code not in SPLIT_ON:
                    raise
                if len(batch) > 1:
                    limit = max(1, len(batch) // 2)
                    log.info("push of %d changes refused (%s); trying %d", len(batch), err, limit)
                    continue
                log.error("change %s quarantined: %s", batch[0].change_id, err)
                results = [quarantine(batch[0], err)]
            summary = self.store.apply_push_results(results)
            before = tally.settled
            tally.add(len(batch), summary)
            if tally.settled == before:
                # Everything came back blocked: taking again would send the same batch
                # forever. Leave it for the next cycle.
                log.warning("push made no progress (%d blocked); waiting", summary.blocked)
                break
            limit = min(BATCH_MAX, limit * 2)
        return tally

    def _send(self, batch: Sequence[Change]) -> list[Result]:
        device_id = self.store.device_id
        return self.backoff.call(
            f"push of {len(batch)} changes", lambda: self.client.push(device_id, batch)
        )
