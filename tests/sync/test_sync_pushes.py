"""How the pusher cuts the outbox into pushes and keeps several in flight: never two
pushes on one target at once, a target's changes in order, a held target's later changes
never sent past the change that holds them."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest

from protocol.wire import Change
from syncd import push as push_mod
from syncd.client import ApiClient, ServerError
from syncd.pull import Puller
from syncd.push import Pusher, plan_pushes
from syncd.retry import Backoff, Wakeable
from tests.sync.faultproxy import BAD_STATUS, FaultProxy
from tests.sync.synchelp import Device, audit_change_ids, server_history

STATUSES = ["Cold", "Active", "Hot"]


def change(target: uuid.UUID) -> Change:
    return Change(
        change_id=uuid.uuid4(),
        target=target,
        op="set_status",
        base_version=1,
        status="Hot",
        changed_at=datetime.now(UTC),
    )


def test_pushes_hold_whole_targets_in_order_and_at_most_size_changes():
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    changes = [change(t) for t in (a, b, a, c, b, a, d, c, d, d)]
    pushes = plan_pushes(changes, 5)
    assert [[ch.target for ch in p] for p in pushes] == [[a, a, a, b, b], [c, c, d, d, d]]
    flat = [ch for p in pushes for ch in p]
    for t in (a, b, c, d):  # each target's changes in creation order
        assert [ch for ch in flat if ch.target == t] == [ch for ch in changes if ch.target == t]
    assert all(len(p) <= 5 for p in pushes)


def test_a_target_with_more_changes_than_a_push_sends_its_first_ones_only():
    a, b = uuid.uuid4(), uuid.uuid4()
    changes = [change(a) for _ in range(7)] + [change(b)]
    pushes = plan_pushes(changes, 3)
    assert pushes == [changes[:3], [changes[7]]]


class SpyClient(ApiClient):
    """The real client, recording which targets each push carries while it is in flight."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.in_flight: list[set[uuid.UUID]] = []
        self.overlaps: list[tuple[set, set]] = []
        self.most_in_flight = 0

    def push(self, device_id, changes, cursor=None):
        targets = {c.target for c in changes}
        with self.lock:
            self.overlaps += [(targets, other) for other in self.in_flight if other & targets]
            self.in_flight.append(targets)
            self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        try:
            return super().push(device_id, changes, cursor)
        finally:
            with self.lock:
                self.in_flight.remove(targets)


def test_pushes_in_flight_never_share_a_target_and_a_rejection_still_holds_its_target(
    a: Device, proxy: FaultProxy, server, token: str, database_url: str, monkeypatch
):
    monkeypatch.setattr(push_mod, "BATCH_MAX", 10)  # many pushes...
    monkeypatch.setattr(push_mod, "SNAPSHOT", 40)  # ...over several snapshots, targets cut
    with a.store() as store:
        uids = [store.create_target(f"P{i}").uid for i in range(24)]
        for status in STATUSES:  # rounds: a target's changes far apart in the outbox
            for uid in uids:
                store.set_status(uid, status)
        poisoned = {uids[5], uids[17]}
        proxy.poison.update(poisoned)
        with SpyClient(proxy.url, token) as client:
            backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=3)
            tally = Pusher(store, client, backoff).push_pending()
        device = store.device_id
        held = {r.target: r.reason for r in store.rejected()}
        state = store.sync_state()

    assert client.overlaps == []
    assert client.most_in_flight <= push_mod.IN_FLIGHT
    assert max(proxy.push_sizes) <= 10 and len(proxy.push_sizes) >= 10
    assert tally.outcomes.rejected == 2 and tally.outcomes.conflict == 0
    assert held.keys() == poisoned and all(BAD_STATUS in r for r in held.values())
    assert (state.rejected, state.pending) == (2, 4)  # each poisoned target's 2 later changes
    assert len(audit_change_ids(database_url, device)) == 24 + 22 * 3  # each once
    for uid in uids:
        history = server_history(server.url, token, uid).history
        wanted = [None] if uid in poisoned else [None, *STATUSES]
        assert [e.new_status for e in history] == wanted


@pytest.mark.parametrize("refuse", [413, 422])
def test_a_push_refused_for_its_content_is_split_without_passing_a_held_target(
    a: Device, proxy: FaultProxy, server, token: str, refuse: int, monkeypatch
):
    """14 changes, split 7 + 7: the target cut by the split (S3) is rejected in the first
    half, so its change in the second half is not sent (it would be rejected too)."""
    with a.store() as store:
        uids = [store.create_target(f"S{i}").uid for i in range(7)]
    a.sync_once()
    with a.store() as store:
        for uid in uids:
            store.set_status(uid, "Cold")
        for uid in uids:
            store.set_status(uid, "Hot")
        proxy.poison.add(uids[3])
        proxy.fail_pushes.append(refuse)  # the whole snapshot's one push, once
        with ApiClient(proxy.url, token) as client:
            backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=3)
            Pusher(store, client, backoff).push_pending()
        [rejected] = store.rejected()
        assert rejected.target == uids[3] and store.sync_state().pending == 1
    assert proxy.push_sizes == [7, 6]
    assert [e.new_status for e in server_history(server.url, token, uids[3]).history] == [None]
    for uid in uids[:3] + uids[4:]:
        assert [e.new_status for e in server_history(server.url, token, uid).history] == [
            None,
            "Cold",
            "Hot",
        ]


class MangledStates(ApiClient):
    """The real client, with the server's target states cut short after the server acted
    (``created_at`` dropped): an answer the protocol does not allow."""

    def push(self, device_id, changes, cursor=None):
        results = super().push(device_id, changes, cursor)
        return [
            r._replace(target={k: v for k, v in r.target.items() if k != "created_at"})
            for r in results
        ]


def test_a_malformed_target_state_in_an_answer_books_nothing_and_the_retry_is_exact(
    a: Device, server, token: str, database_url: str
):
    """Results are read without a model per row; the states the store keeps are checked
    where they are stored. A malformed one fails the cycle as a server error with
    nothing booked; the next cycle sends the same changes (duplicates, applied once)."""
    with a.store() as store:
        uids = [store.create_target(f"M{i}", status="Cold").uid for i in range(3)]
        before = store.sync_state().pending
        with MangledStates(server.url, token) as client:
            backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=1)
            with pytest.raises(ServerError, match="target state"):
                Pusher(store, client, backoff).push_pending()
        assert store.sync_state().pending == before == 3
        with ApiClient(server.url, token) as client:
            tally = Pusher(store, client, backoff).push_pending()
        assert (tally.outcomes.duplicate, store.sync_state().pending) == (3, 0)
        assert {t.uid: t.version for t in map(store.get, uids)} == dict.fromkeys(uids, 1)
        device = store.device_id
    assert len(audit_change_ids(database_url, device)) == 3


def test_the_next_push_leaves_before_an_answer_is_booked(
    a: Device, server, token: str, monkeypatch, caplog
):
    """The server is never left idle while we book: when the first answer is booked,
    IN_FLIGHT + 1 pushes have been sent (the one answered, the one still in flight and
    the next one, sent before booking)."""
    monkeypatch.setattr(push_mod, "BATCH_MAX", 5)
    caplog.set_level("DEBUG", logger="syncd")
    with a.store() as store:
        for i in range(20):
            store.create_target(f"N{i}")
        sent_at_booking: list[int] = []
        book = store.apply_push_results

        def booking(results):
            sent_at_booking.append(sum("pushing" in r.message for r in caplog.records))
            return book(results)

        monkeypatch.setattr(store, "apply_push_results", booking)
        with ApiClient(server.url, token) as client:
            backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=3)
            tally = Pusher(store, client, backoff).push_pending()
        assert (tally.sent, store.sync_state().pending) == (20, 0)
    assert sent_at_booking[0] == push_mod.IN_FLIGHT + 1
    assert sent_at_booking == sorted(sent_at_booking) and sent_at_booking[-1] == 4


def test_no_push_leaves_while_a_pull_from_the_start_is_under_way(
    a: Device, server, token: str, database_url: str
):
    """After a refused cursor (a restored server) the bases of our waiting changes may
    name versions the server lost or gave again: nothing is pushed until the pull from
    the start has ended and put them on the server's versions."""
    with a.store() as store, ApiClient(server.url, token) as client:
        uid = store.create_target("Acme").uid
        backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=3)
        pusher = Pusher(store, client, backoff)
        pusher.push_pending()
        store.set_status(uid, "Hot")
        store.restart_pull()  # as the pull loop does on a refused cursor
        assert pusher.push_pending().sent == 0
        assert store.sync_state().pending == 1
        device = store.device_id
        assert len(audit_change_ids(database_url, device)) == 1  # the create only
        Puller(store, client, backoff).pull_available()  # from the start, to the end
        assert pusher.push_pending().outcomes.applied == 1
    assert [e.new_status for e in server_history(server.url, token, uid).history] == [None, "Hot"]
