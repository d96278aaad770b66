"""Stagnation at its boundaries, with a fixed clock; the labels and the SQL filter agree."""

from __future__ import annotations

from datetime import timedelta

import pytest

from protocol import InvalidInput
from storage import Store, TargetQuery
from tests.storage.storehelp import result, state

STATES = ("fresh", "aging", "stale", "snoozed")


def label(store, uid):
    """The target's label, checked against every stagnation filter of the list."""
    got = store.get(uid).stagnation
    for each in STATES:
        listed = [t.uid for t in store.list_targets(TargetQuery(stagnation=(each,)))]
        assert (uid in listed) == (each == got), (each, got)
    return got


@pytest.mark.parametrize(
    ("status", "aging_at", "threshold"),
    [("Hot", 12, 14), ("Active", 24, 30), ("Cold", 48, 60)],  # aging from ceil(80 %)
)
def test_boundaries(store, clock, status, aging_at, threshold):
    uid = store.create_target("Acme", status=status).uid
    start = clock.now
    steps = [
        (timedelta(days=aging_at) - timedelta(seconds=1), aging_at - 1, "fresh"),
        (timedelta(days=aging_at), aging_at, "aging"),
        (timedelta(days=threshold + 1) - timedelta(microseconds=1), threshold, "aging"),
        (timedelta(days=threshold + 1), threshold + 1, "stale"),  # longer than the threshold
    ]
    for delta, days, expected in steps:
        clock.now = start + delta
        assert store.get(uid).days_in_status == days
        assert label(store, uid) == expected, delta


@pytest.mark.parametrize("status", ["Passed", "Closed", None])
def test_terminal_and_no_status_never_stagnate(store, clock, status):
    uid = store.create_target("Acme", status=status).uid
    clock.advance(days=1000)
    assert store.get(uid).days_in_status == 1000
    assert label(store, uid) == "fresh"
    assert store.stale_targets() == []


def test_snooze_hides_stale_until_the_day(store, clock):
    uid = store.create_target("Acme", status="Hot").uid
    clock.advance(days=20)
    assert label(store, uid) == "stale"
    until = (clock.now + timedelta(days=3)).date()
    store.snooze(uid, until)
    assert label(store, uid) == "snoozed"
    assert store.stale_targets() == []
    clock.advance(days=2, hours=11)  # 23:00 the day before
    assert label(store, uid) == "snoozed"
    clock.now = clock.now.replace(hour=0, minute=0) + timedelta(days=1)
    assert clock.now.date() == until
    assert label(store, uid) == "stale"  # snoozed *until* that day, not through it


def test_snooze_does_not_label_a_fresh_target(store, clock):
    uid = store.create_target("Acme", status="Hot").uid
    store.snooze(uid, (clock.now + timedelta(days=30)).date())
    assert label(store, uid) == "fresh"
    clock.advance(days=12)
    assert label(store, uid) == "snoozed"


def test_custom_thresholds(db_path, clock):
    with Store.open(db_path, clock=clock, thresholds={"hot": 7}) as store:
        hot = store.create_target("H", status="Hot").uid
        cold = store.create_target("C", status="Cold").uid
        clock.advance(days=6)
        assert label(store, hot) == "aging"  # ceil(5.6)
        clock.advance(days=2)
        assert label(store, hot) == "stale"
        assert label(store, cold) == "fresh"  # the defaults stay for the others
    for bad in ({"warm": 3}, {"Hot": 0}, {"none": 5}):
        with pytest.raises(InvalidInput):
            Store.open(db_path, clock=clock, thresholds=bad)


def test_status_changed_locally_while_another_is_pending(store, clock):
    t = store.create_target("Acme", status="Hot")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Hot"))])
    clock.advance(days=10)
    cold = store.set_status(t.uid, "Cold")
    clock.advance(days=10)
    active = store.set_status(t.uid, "Active")
    assert store.get(t.uid).status_since == clock.now
    # the first pending change goes through; the second still counts from its own time
    store.apply_push_results(
        [
            result(
                cold.change_id, "applied", state(t.uid, 2, cold.target.status_since, status="Cold")
            )
        ]
    )
    view = store.get(t.uid)
    assert (view.status, view.status_since) == ("Active", active.target.status_since)
    clock.advance(days=30)
    assert label(store, t.uid) == "aging"
    clock.advance(days=1)
    assert label(store, t.uid) == "stale"


def test_status_since_comes_from_the_server_when_nothing_is_pending(store, clock):
    uid = store.create_target("Acme").uid
    [create] = store.take_batch()
    created = clock.now - timedelta(days=100)
    changed = clock.now - timedelta(days=40)
    store.apply_push_results(
        [result(create, "applied", state(uid, 1, created, status="Active", status_at=changed))]
    )
    view = store.get(uid)
    assert (view.status_since, view.days_in_status, view.stagnation) == (changed, 40, "stale")
    store.apply_pull([state(uid, 2, created, name="Acme")], [], "c")  # no status: since creation
    view = store.get(uid)
    assert (view.status, view.status_since, view.days_in_status) == (None, created, 100)


def test_became_stale_since_last_open(store, clock):
    a = store.create_target("A", status="Hot").uid
    clock.advance(days=5)
    store.create_target("B", status="Hot")
    clock.advance(days=10)  # A: 15 days, stale; B: 10 days
    assert store.became_stale_since_last_open() == 1  # the first call counts every stale one
    assert store.became_stale_since_last_open() == 0
    clock.advance(days=5)  # B turns stale
    assert store.became_stale_since_last_open() == 1
    store.set_status(a, "Cold")
    clock.advance(days=61)
    assert store.became_stale_since_last_open() == 1  # A again, in its new status


def test_summary_buckets(store, clock):
    start = clock.now
    for days in (0, 7, 8, 30, 31, 90, 91):
        clock.now = start - timedelta(days=days)
        store.create_target(f"T{days}", status="Hot")
    clock.now = start
    store.create_target("none")
    got = store.summary()
    assert got.total == 8
    assert got.by_status["Hot"] == 7 and got.by_status[None] == 1 and got.by_status["Cold"] == 0
    assert got.buckets["Hot"] == (2, 2, 2, 1)
    assert got.buckets[None] == (1, 0, 0, 0)


def test_stale_targets_longest_first(store, clock):
    for name, days_ago in [("Recent", 20), ("Oldest", 90), ("Fresh", 1), ("Middle", 40)]:
        clock.advance(days=-days_ago)
        store.create_target(name, status="Hot")
        clock.advance(days=days_ago)
    assert [t.name for t in store.stale_targets()] == ["Oldest", "Middle", "Recent"]
    assert all(t.stagnation == "stale" for t in store.stale_targets())
