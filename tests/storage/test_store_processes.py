"""Two real processes writing to one file at once."""

from __future__ import annotations

import multiprocessing

from storage import Store
from tests.storage.storehelp import change_statuses, open_new

CHANGES = 500


def test_two_processes_change_statuses_at_once(db_path, fetch, store):
    uids = [store.create_target(f"Shared {i}").uid for i in range(5)]
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    workers = [
        spawn.Process(target=change_statuses, args=(str(db_path), uids, w, CHANGES, start))
        for w in (1, 2)
    ]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]  # no "database is locked", no error

    assert fetch("SELECT count(*) FROM audit") == [(2 * CHANGES,)]
    assert fetch("SELECT count(*) FROM outbox WHERE op = 'set_status'") == [(2 * CHANGES,)]
    for w in (1, 2):
        for table in ("audit", "outbox"):
            notes = fetch(f"SELECT note FROM {table} WHERE note LIKE 'w{w}-%' ORDER BY id")
            assert [n for (n,) in notes] == [f"w{w}-{i}" for i in range(CHANGES)], table
        assert fetch("SELECT count(*) FROM audit WHERE changed_by = ?", f"worker{w}") == [
            (CHANGES,)
        ]
    # every target's view is its last change, and each audit row continues the one before
    for uid in uids:
        last = fetch("SELECT status FROM outbox WHERE target = ? ORDER BY id DESC LIMIT 1", uid)
        assert store.get(uid).status == last[0][0]
        rows = fetch("SELECT old_status, new_status FROM audit WHERE target = ? ORDER BY id", uid)
        assert all(prev[1] == cur[0] for prev, cur in zip(rows, rows[1:], strict=False))


def test_two_stores_in_one_process_stay_apart(tmp_path, clock):
    with Store.open(tmp_path / "a.db", clock=clock) as a, Store.open(tmp_path / "b.db") as b:
        a.create_target("Only in A")
        assert b.list_targets() == []
        assert a.device_id != b.device_id


def test_threads_share_one_store(store):
    """The TUI's workers may use one Store from several threads (one connection each)."""
    import threading

    uids = [store.create_target(f"T{i}").uid for i in range(3)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(30):
                store.set_status(uids[i % 3], ["Hot", "Cold", "Active"][(i // 3 + k) % 3])
                store.list_targets()
        except BaseException as err:  # reported below, with the thread's failure
            errors.append(err)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.sync_state().pending == 3 + len([h for uid in uids for h in store.history(uid)])


def test_two_processes_create_a_new_profile_at_once(tmp_path):
    path = tmp_path / "new" / "pipetrack.db"
    spawn = multiprocessing.get_context("spawn")
    start, device_ids = spawn.Event(), spawn.Queue()
    workers = [spawn.Process(target=open_new, args=(str(path), start, device_ids)) for _ in "ab"]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    first, second = device_ids.get(timeout=5), device_ids.get(timeout=5)
    assert first == second  # one file, made once
    with Store.open(path) as store:
        assert store.device_id == first and store.count_targets() == 2
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".new")) == []
