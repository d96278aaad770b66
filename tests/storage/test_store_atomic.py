"""All or nothing: a failure between the writes of one action leaves none of them."""

from __future__ import annotations

import pytest

import storage.actions
from protocol import InvalidInput
from storage import Store
from tests.storage.storehelp import result, state


class Boom(Exception):
    pass


def fail_at(monkeypatch, step):
    def hook(reached):
        if reached == step:
            raise Boom(step)

    monkeypatch.setattr(storage.actions, "_fault_hook", hook)


def counts(fetch):
    return {t: fetch(f"SELECT count(*) FROM {t}")[0][0] for t in ("targets", "audit", "outbox")}


@pytest.mark.parametrize("step", ["audit", "outbox", "view"])
def test_status_change_failing_between_writes_leaves_nothing(store, fetch, monkeypatch, step):
    t = store.create_target("Acme", status="Cold")
    before = counts(fetch)
    fail_at(monkeypatch, step)
    with pytest.raises(Boom):
        store.set_status(t.uid, "Hot")
    assert counts(fetch) == before
    assert store.get(t.uid) == t
    monkeypatch.setattr(storage.actions, "_fault_hook", None)
    assert store.set_status(t.uid, "Hot").changed  # and the store goes on working


@pytest.mark.parametrize("step", ["target", "audit", "outbox", "view"])
def test_create_failing_between_writes_leaves_nothing(store, fetch, monkeypatch, step):
    fail_at(monkeypatch, step)
    with pytest.raises(Boom):
        store.create_target("Acme", markets=["EU"], status="Hot")
    with pytest.raises(Boom):
        store.import_targets([{"name": f"T{i}", "status": "Cold"} for i in range(150)])
    assert counts(fetch) == {"targets": 0, "audit": 0, "outbox": 0}
    assert fetch("SELECT count(*) FROM target_markets") == [(0,)]
    assert store.list_targets() == [] and store.markets() == []


def test_an_import_failing_in_a_later_chunk_leaves_nothing_of_the_earlier_ones(
    store, fetch, monkeypatch
):
    """New targets are written a chunk at a time, all in the import's one transaction."""
    import storage.importer

    monkeypatch.setattr(storage.importer, "WRITE_CHUNK", 40)
    saved: list[tuple[int, int]] = []
    chunks = iter(range(10))

    def hook(step: str) -> None:
        if step == "view" and next(chunks) == 2:  # the third chunk, written last
            raise Boom(step)

    monkeypatch.setattr(storage.actions, "_fault_hook", hook)
    rows = [{"name": f"T{i}", "status": "Cold"} for i in range(100)]
    with pytest.raises(Boom):
        store.import_targets(rows, lambda done, total: saved.append((done, total)))
    assert saved == [(40, 100), (80, 100)]  # told of the chunks written before the failure
    assert counts(fetch) == {"targets": 0, "audit": 0, "outbox": 0}
    monkeypatch.setattr(storage.actions, "_fault_hook", None)
    assert store.import_targets(rows) == (100, 0) and store.count_targets() == 100


def test_other_processes_never_see_half_a_change(store, db_path, monkeypatch, clock):
    t = store.create_target("Acme", status="Cold")
    with Store.open(db_path, clock=clock) as other:

        def hook(step):
            # mid-transaction: another connection still sees the committed state only
            assert other.get(t.uid).status == "Cold"
            assert len(other.history(t.uid)) == 1
            assert len(other.take_batch()) == 1

        monkeypatch.setattr(storage.actions, "_fault_hook", hook)
        store.set_status(t.uid, "Hot")
        monkeypatch.setattr(storage.actions, "_fault_hook", None)
        assert other.get(t.uid).status == "Hot"


def test_push_results_are_one_transaction(store, clock, fetch):
    a = store.create_target("A")
    b = store.create_target("B")
    ca, cb = store.take_batch()
    bad = state(b.uid, 1, clock.now).model_copy(update={"status": "warm"})  # cannot be stored
    with pytest.raises(InvalidInput):
        store.apply_push_results(
            [
                result(ca, "applied", state(a.uid, 1, clock.now, name="A")),
                result(cb, "applied", bad),
            ]
        )
    assert fetch("SELECT count(*) FROM outbox") == [(2,)]
    assert store.get(a.uid).version is None


def test_pull_is_one_transaction(store, clock):
    a = store.create_target("A")
    bad = state(a.uid, 2, clock.now).model_copy(update={"status": "warm"})
    with pytest.raises(InvalidInput):
        store.apply_pull([state(a.uid, 1, clock.now, name="A1"), bad], [], "cursor-2")
    assert store.get(a.uid).version is None
    assert store.pull_cursor() is None
