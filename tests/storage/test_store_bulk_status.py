"""set_status_many: one status on many targets, one transaction."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

import storage.actions
from protocol import InvalidInput
from storage import NotFound, Store, TargetQuery
from tests.storage.storehelp import acknowledge, new_id, pull_target, state
from tests.storage.test_store_atomic import Boom, counts, fail_at
from tests.storage.test_store_status import assert_views_recomputed


@pytest.fixture
def three(store):
    return [
        store.create_target(n, status=s).uid for n, s in [("A", "Cold"), ("B", "Hot"), ("C", None)]
    ]


def test_changes_every_target_not_already_in_the_status(store, clock, fetch, three):
    a, b, c = three
    clock.advance(days=2)
    assert store.set_status_many([a, b, c], "Hot", note="push them") == 2
    assert [store.get(u).status for u in three] == ["Hot", "Hot", "Hot"]
    assert store.get(b).status_since < clock.now == store.get(a).status_since
    rows = fetch(
        "SELECT o.target, o.op, o.base_version, o.status, o.note, a.old_status, a.new_status"
        " FROM outbox o JOIN audit a USING (change_id) WHERE o.op = 'set_status' ORDER BY o.id"
    )
    assert rows == [
        (a, "set_status", 0, "Hot", "push them", "Cold", "Hot"),
        (c, "set_status", 0, "Hot", "push them", None, "Hot"),
    ]
    assert [h.days_in_previous for h in store.history(a)][-1] == 2
    assert store.set_status_many(three, "hot") == 0  # all there already: nothing written
    assert len(fetch("SELECT * FROM outbox")) == 5
    assert_views_recomputed(store)


def test_a_uid_twice_counts_once_and_nothing_is_a_no_op(store, fetch, three):
    a, _, _ = three
    assert store.set_status_many([a, a], "Closed") == 1
    assert store.set_status_many([], "Closed") == 0
    assert fetch("SELECT count(*) FROM audit WHERE new_status = 'Closed'") == [(1,)]


def test_clearing_the_status_of_many(store, three):
    assert store.set_status_many(three, None) == 2
    assert {store.get(u).status for u in three} == {None}


def test_an_unknown_uid_writes_nothing(store, fetch, three):
    before = counts(fetch)
    unknown = new_id()
    with pytest.raises(NotFound) as err:
        store.set_status_many([three[0], unknown, three[1]], "Passed")
    assert str(err.value) == str(pytest.raises(NotFound, store.set_status, unknown, "Hot").value)
    assert counts(fetch) == before
    assert store.get(three[0]).status == "Cold"


def test_a_bad_status_or_note_is_refused_before_anything(store, fetch, three):
    before = counts(fetch)
    with pytest.raises(InvalidInput, match="unknown status"):
        store.set_status_many(three, "warm")
    with pytest.raises(InvalidInput):
        store.set_status_many(three, "Hot", note="x" * 100_000)
    assert counts(fetch) == before


@pytest.mark.parametrize("step", ["audit", "outbox", "view"])
def test_a_failure_mid_way_leaves_nothing(store, fetch, monkeypatch, three, step):
    before = counts(fetch)
    views = [store.get(u) for u in three]
    fail_at(monkeypatch, step)
    with pytest.raises(Boom):
        store.set_status_many(three, "Active")
    assert counts(fetch) == before
    assert [store.get(u) for u in three] == views
    monkeypatch.setattr(storage.actions, "_fault_hook", None)
    assert store.set_status_many(three, "Active") == 3


def test_undo_after_a_bulk_change_takes_it_back_whole(store, fetch, three):
    a, b, c = three
    assert store.set_status_many(three, "Passed") == 3
    undone = store.undo_last()
    assert (undone.count, undone.status) == (3, "Passed")
    assert [store.get(u).status for u in three] == ["Cold", "Hot", None]
    notes = fetch("SELECT note FROM audit WHERE note LIKE 'undo of %' ORDER BY id")
    bulk = fetch("SELECT change_id FROM audit WHERE new_status = 'Passed' ORDER BY id")
    assert sorted(notes) == sorted((f"undo of {cid}",) for (cid,) in bulk)
    assert store.undo_last().target.uid == b  # then the change before it: B's create
    assert_views_recomputed(store)


def test_undo_of_a_bulk_change_brings_back_each_targets_days(store, clock, three):
    before = {u: store.get(u).status_since for u in three}
    clock.advance(days=70)
    assert store.set_status_many(three, "Closed") == 3
    clock.advance(hours=1)
    store.undo_last()
    assert {u: store.get(u).status_since for u in three} == before
    assert store.get(three[0]).stagnation == "stale"  # Cold for 70 days, as before


def test_a_target_changed_since_the_bulk_change_keeps_that_change(store):
    """Undo never overwrites what came after: a teammate's change pulled since the bulk
    change stays, the bulk change's other targets go back."""
    names = ["North", "South", "West"]
    uids = [pull_target(store, name) for name in names]
    assert store.set_status_many(uids, "Hot") == 3
    acknowledge(store, dict(zip(uids, names, strict=True)), "Hot", version=2)
    teammate = state(uids[0], 3, datetime.now(UTC), name="North", status="Cold")
    store.apply_pull([teammate], [], "after-teammate")

    undone = store.undo_last()

    assert undone.count == 2
    assert undone.words().endswith(
        "; 1 more kept as they are (changed since, or waiting on a conflict)"
    )
    assert [store.get(u).status for u in uids] == ["Cold", None, None]
    assert store.undo_last() is None  # nothing of ours stands any more


def test_pending_changes_stay_in_order_and_go_out_as_one_change_each(store, three):
    a, b, c = three
    store.set_status(a, "Active")
    store.set_status_many([c, a], "Closed")
    batch = store.take_batch()
    assert [(str(x.target), x.status) for x in batch[3:]] == [
        (a, "Active"),
        (c, "Closed"),
        (a, "Closed"),
    ]


def test_100k_targets_in_seconds(tmp_path):
    n = 100_000
    with Store.open(tmp_path / "big.db", user="alice") as store:
        store.import_targets([{"name": f"T{i:06d}", "status": "Cold"} for i in range(n)])
        uids = [t.uid for t in store.list_targets(TargetQuery())]
        start = time.perf_counter()
        assert store.set_status_many(uids, "Active", note="all of them") == n
        took = time.perf_counter() - start
        assert store.count_targets(TargetQuery(statuses=("Active",))) == n
        assert store.sync_state().pending == 2 * n
    print(f"set_status_many of {n:,} targets: {took:.1f} s")
    assert took < 60  # minutes before; a few seconds now, with room for a loaded machine
