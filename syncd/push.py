"""Pushing the outbox: target-disjoint pushes in flight side by side, results applied
through the store.

The store decides what is pushable (``take_batch`` skips targets held behind a conflict
or a rejection); this module only plans, sends, splits and records. Nothing leaves the
outbox except through :meth:`Store.apply_push_results`, so a push whose answer was lost
is taken and sent again as it was (the server answers ``duplicate``).

A cycle takes a snapshot of the outbox (up to :data:`SNAPSHOT` changes, creation
order) and cuts it into pushes of whole targets (:func:`plan_pushes`): every change of a
target in the snapshot goes in one push, in order, so the server decides a target's
changes in one transaction exactly as it would in one long serial queue (a conflict or
a rejection blocks the target's later changes in the same push). Pushes never share a
target, so :data:`IN_FLIGHT` of them go out at once while the results of the previous
ones are booked. The next snapshot is taken only once every result of this one is
booked: a change is never in two pushes at a time.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Protocol, TypeVar

from pydantic import ValidationError

from protocol.wire import MAX_CHANGES_PER_PUSH
from storage import PushResult, PushSummary, Store, WireChange

from .client import ApiClient, PullFirst, Refused, ServerError
from .interrupt import Direct
from .retry import Backoff

log = logging.getLogger("syncd")

#: The most changes in one push: what the server takes.
BATCH_MAX = MAX_CHANGES_PER_PUSH
#: Changes taken from the store per cycle step, then cut into pushes. Large, so a long
#: backlog made in rounds over many targets still sends each target's changes together
#: (one target update per push, not one per change): 100,000 pending went 41 s -> 20 s,
#: peak RSS 139 -> 155 MiB (bench backlog).
SNAPSHOT = 100 * BATCH_MAX
#: Pushes sent side by side (each its own server transaction on other targets).
IN_FLIGHT = 2
#: Answers about the batch's content (too large, schema): split it to find the culprit.
SPLIT_ON = frozenset({413, 422})
#: What :func:`plan_pushes` cuts: anything with a ``target`` (wire rows, models in tests).
C = TypeVar("C", bound="HasTarget")


class HasTarget(Protocol):
    @property
    def target(self) -> object: ...


#: Outcomes after which the target's later changes must wait (the store holds them).
STOPS_TARGET = frozenset({"conflict", "rejected", "blocked"})


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
        # converged (the same change was there first) and duplicate (sent before, its
        # answer lost) wrote nothing on the server; held: waiting behind a conflict or a
        # rejection of their target. Each said when there are any, so the parts add up.
        counts = [
            ("applied", o.applied, True),
            ("converged", o.converged, False),
            ("duplicate", o.duplicate, False),
            ("conflicts", o.conflict, True),
            ("rejected", o.rejected, True),
            ("held", o.blocked, False),
        ]
        parts = [f"{word} {n}" for word, n, always in counts if n or always]
        text = f"pushed {self.sent} ({', '.join(parts)})"
        if o.rebased:  # the server's database was restored: their bases are gone there
            text += f"; {o.rebased} to send again on the restored server's versions"
        return text

    @property
    def settled(self) -> int:
        """Changes that got a final answer (everything but ``blocked``)."""
        return self.sent - self.outcomes.blocked


def quarantine(change: WireChange, err: Refused) -> PushResult:
    """A local ``rejected`` result for a change the server refuses to even receive, so
    the store keeps it aside (shown with the reason) and the queue moves on."""
    return PushResult(change.change_id, "rejected", error=f"the server refused it: {err}")


def plan_pushes(changes: Sequence[C], size: int) -> list[list[C]]:
    """``changes`` (creation order) as pushes of at most ``size`` changes, each target's
    changes together and in order, targets in the order of their first change. A target
    with more than ``size`` changes sends its first ``size``; the rest wait for the next
    snapshot (taken after these results are booked)."""
    by_target: dict[object, list[C]] = {}
    for change in changes:
        by_target.setdefault(change.target, []).append(change)
    pushes: list[list[C]] = []
    current: list[C] = []
    for group in by_target.values():
        group = group[:size]
        if current and len(current) + len(group) > size:
            pushes.append(current)
            current = []
        current.extend(group)
    if current:
        pushes.append(current)
    return pushes


class Pusher:
    """Sends everything pushable, a snapshot at a time, until nothing is left.
    ``requests``: how each push is waited for (see :class:`~syncd.pull.Puller`)."""

    def __init__(
        self, store: Store, client: ApiClient, backoff: Backoff, requests: Direct = Direct()
    ) -> None:
        self.store = store
        self.client = client
        self.backoff = backoff
        self.requests = requests
        #: Changes per push; halved when the server refuses a push as too large, grown
        #: back after pushes that went through.
        self.limit = BATCH_MAX
        #: Our pull cursor when the pushes in flight were taken (the server's check that
        #: its database is the one our bases come from).
        self._cursor: str | None = None

    def push_pending(self, each: Callable[[PushTally], object] | None = None) -> PushTally:
        """One push cycle. Transient errors are retried per ``backoff`` (the same push
        again); 413/422 split a push down to the one change to quarantine;
        :class:`~syncd.client.Unauthorized` and other errors propagate (after the
        results of the pushes already answered are booked). ``each`` is given the tally
        so far after every push's results are booked."""
        tally = PushTally()
        while not self.backoff.stop.is_set():
            if self.store.pulling_again():  # bases from before a restore: pull first
                log.debug("not pushing until the pull from the start has ended")
                break
            snapshot = self.store.take_wire_batch(SNAPSHOT)
            if not snapshot:
                break
            before = tally.settled
            try:
                self._push_snapshot(plan_pushes(snapshot, self.limit), tally, each)
            except PullFirst as err:
                if self.store.pull_cursor() != self._cursor:
                    # the pull loop pulled since (from the start): push with its cursor, or
                    # wait while it is still pulling again (the loop's first check)
                    continue
                log.warning("the server refused our push (%s); pulling everything first", err)
                self.store.restart_pull()
                break
            if tally.settled == before:
                # Everything came back blocked: taking again would send the same changes
                # forever. Leave them for the next cycle.
                log.warning("push made no progress (%d blocked); waiting", tally.outcomes.blocked)
                break
        return tally

    def _push_snapshot(
        self,
        pushes: list[list[WireChange]],
        tally: PushTally,
        each: Callable[[PushTally], object] | None,
    ) -> None:
        """Send ``pushes`` with up to :data:`IN_FLIGHT` at once; book each answer as it
        comes (pushes share no target, so their order does not matter). The next push
        leaves before an answer is booked: the server works while we book."""
        answers: queue.Queue[list[PushResult] | BaseException] = queue.Queue()
        device_id = self.store.device_id  # the store is this thread's alone
        self._cursor = self.store.pull_cursor()  # sent with each push: see PullFirst
        waiting, in_flight = list(reversed(pushes)), 0
        error: BaseException | None = None

        def send_more() -> None:
            nonlocal in_flight
            while waiting and in_flight < IN_FLIGHT and not self.backoff.stop.is_set():
                batch = waiting.pop()
                log.debug("pushing %d changes (%d in flight)", len(batch), in_flight + 1)
                threading.Thread(
                    target=self._worker, args=(device_id, batch, answers), daemon=True
                ).start()
                in_flight += 1

        send_more()
        while in_flight:
            answer = answers.get()
            in_flight -= 1
            if isinstance(answer, BaseException):
                error = error or answer
                waiting.clear()
                continue
            send_more()
            try:
                summary = self.store.apply_push_results(answer)
            except ValidationError as err:  # a malformed target state: nothing was booked
                error = error or ServerError(
                    f"unexpected target state in a push answer: {err.error_count()} problem(s)"
                )
                waiting.clear()
                continue
            tally.add(len(answer), summary)
            if each is not None:
                each(tally)
            if self.backoff.stop.is_set():
                waiting.clear()
        if error is not None:
            raise error

    def _worker(self, device_id: str, batch: list[WireChange], answers: queue.Queue) -> None:
        """A push's thread: only the HTTP client (thread-safe), never the store."""
        try:
            answers.put(self._send_split(device_id, batch))
        except BaseException as err:  # handed to the cycle's thread, raised there
            answers.put(err)

    def _send_split(self, device_id: str, batch: list[WireChange]) -> list[PushResult]:
        """The results of ``batch``; when the server refuses it for its content, of its
        halves in turn (the second without the targets the first one stopped, which the
        store will hold), down to single changes quarantined."""
        try:
            results = self._send(device_id, batch)
        except Refused as err:
            if err.status_code not in SPLIT_ON:
                raise
            if len(batch) == 1:
                log.error("change %s quarantined: %s", batch[0].change_id, err)
                return [quarantine(batch[0], err)]
            half = len(batch) // 2
            self.limit = min(self.limit, half)
            log.info("push of %d changes refused (%s); trying %d", len(batch), err, half)
            first = self._send_split(device_id, batch[:half])
            target_of = {c.change_id: c.target for c in batch}
            stopped = {target_of[r.change_id] for r in first if r.outcome in STOPS_TARGET}
            rest = [c for c in batch[half:] if c.target not in stopped]
            return first + (self._send_split(device_id, rest) if rest else [])
        self.limit = min(BATCH_MAX, self.limit * 2)
        return results

    def _send(self, device_id: str, batch: Sequence[WireChange]) -> list[PushResult]:
        what = f"push of {len(batch)} change{'' if len(batch) == 1 else 's'}"
        return self.backoff.call(
            what,
            lambda: self.requests.call(
                what, lambda: self.client.push(device_id, batch, self._cursor)
            ),
        )
