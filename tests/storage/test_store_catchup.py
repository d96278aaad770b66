"""A fresh profile's first pull sets the secondary indexes aside and builds them again at
its last page (storage/catchup.py): the tables, the answers of every sort and the schema
after are those of a store that never set anything aside, also across a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from protocol.wire import PullResponse
from storage import Store, TargetQuery
from storage.catchup import SET_ASIDE
from tests.storage.storehelp import entry, state

AT = datetime(2026, 3, 1, tzinfo=UTC)
_INDEXES = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
_SORTS = ["name", "status", "days", "markets", "sync", "updated"]


def _pages(n_pages: int = 3, per_page: int = 40) -> list[str]:
    """Pull pages as the server writes them: targets (names, markets, statuses varied)
    with a status change each; the last says nothing more follows."""
    pages = []
    for p in range(n_pages):
        targets, history = [], []
        for i in range(per_page):
            uid = str(uuid.UUID(int=p * 1000 + i + 1))
            status = ["Cold", "Hot", None, "Active"][i % 4]
            targets.append(
                state(
                    uid,
                    2,
                    AT,
                    name=f"Target {(i * 7) % per_page:03d} p{p}",
                    markets=(f"M{i % 3}",),
                    status=status,
                ).model_dump(mode="json")
            )
            change_id = str(uuid.UUID(int=10**9 + p * 1000 + i))
            pulled = entry(
                change_id, uid, AT, old=None, new="Hot", version=2, entry_id=p * 1000 + i
            )
            history.append(pulled.model_dump(mode="json"))
        more = p < n_pages - 1
        pages.append(
            json.dumps({"targets": targets, "history": history, "cursor": f"c{p}", "more": more})
        )
    return pages


def _rows(store: Store, sql: str) -> list[tuple]:
    return list(store._ctx.db.execute_sql(sql).fetchall())


def _tables(store: Store) -> dict[str, list[tuple]]:
    return {
        t: _rows(store, f"SELECT * FROM {t} ORDER BY 1, 2")
        for t in ("targets", "audit", "target_markets", "outbox")
    }


def _listed(store: Store) -> dict[str, list[str]]:
    return {
        sort: [t.uid for t in store.list_targets(TargetQuery(sort=sort, descending=d))]
        for sort in _SORTS
        for d in (False, True)
    } | {"search": [t.uid for t in store.list_targets(TargetQuery(search="get 01"))]}


def test_a_fresh_profile_pulls_without_indexes_and_ends_with_all_of_them(tmp_path, clock):
    pages = _pages()
    with (
        Store.open(tmp_path / "fresh.db", clock=clock) as fresh,
        Store.open(tmp_path / "models.db", clock=clock) as models,
    ):
        all_indexes = _rows(fresh, _INDEXES)
        for k, body in enumerate(pages):
            parsed = PullResponse.model_validate_json(body)
            assert fresh.apply_pull_json(body) == models.apply_pull(
                parsed.targets, parsed.history, parsed.cursor
            )
            last = k == len(pages) - 1
            aside = _rows(fresh, f"SELECT value FROM meta WHERE key = '{SET_ASIDE}'")
            assert bool(aside) is not last
            if not last:  # set aside: fewer indexes, the same tables and answers
                assert len(_rows(fresh, _INDEXES)) < len(all_indexes)
            assert _tables(fresh) == _tables(models)
            assert _listed(fresh) == _listed(models)
        assert _rows(fresh, _INDEXES) == all_indexes == _rows(models, _INDEXES)
        assert fresh.pull_cursor() == "c2"


def test_the_user_works_while_the_catch_up_runs(tmp_path, clock):
    pages = _pages()
    with Store.open(tmp_path / "p.db", clock=clock, user="alice") as store:
        all_indexes = _rows(store, _INDEXES)
        store.apply_pull_json(pages[0])
        uid = str(uuid.UUID(int=1))
        assert store.set_status(uid, "Closed").changed
        mine = store.create_target("Made during the catch-up", markets=["EU"])
        for body in pages[1:]:
            store.apply_pull_json(body)
        assert _rows(store, _INDEXES) == all_indexes
        assert store.get(uid).status == "Closed"  # pending: kept over the pull
        found = store.list_targets(TargetQuery(search="during the catch"))
        assert [t.uid for t in found] == [mine.uid]


@pytest.mark.parametrize(
    "before",
    ["a local target", "a pull cursor", "a one-page pull"],
)
def test_a_profile_holding_anything_never_sets_indexes_aside(store, before):
    pages = _pages()
    if before == "a local target":
        store.create_target("Mine")
    elif before == "a pull cursor":
        store.apply_pull_json(
            json.dumps({"targets": [], "history": [], "cursor": "c", "more": False})
        )
    all_indexes = _rows(store, _INDEXES)
    if before == "a one-page pull":  # more: false at once: nothing to gain
        pages = pages[-1:]
    for body in pages:
        store.apply_pull_json(body)
        assert _rows(store, _INDEXES) == all_indexes
        assert not _rows(store, f"SELECT 1 FROM meta WHERE key = '{SET_ASIDE}'")


def test_a_refused_page_leaves_the_indexes_as_they_were(store):
    all_indexes = _rows(store, _INDEXES)
    page = json.loads(_pages()[0])
    page["targets"][0]["uid"] = "not-a-uid"
    with pytest.raises(ValueError):
        store.apply_pull_json(json.dumps(page))
    assert _rows(store, _INDEXES) == all_indexes


_APPLY = """
import sys
from storage import Store
with Store.open(sys.argv[1]) as store:
    for path in sys.argv[2:]:
        store.apply_pull_json(open(path).read())
        print("applied", path, flush=True)
    print("done", flush=True)
    sys.stdin.read()  # wait to be killed
"""


def test_a_catch_up_killed_between_pages_is_finished_by_the_next_pull(tmp_path, clock):
    """A process killed -9 after its first page leaves the indexes aside; the next
    process's last page builds every one of them again."""
    pages = []
    for k, body in enumerate(_pages()):
        pages.append(tmp_path / f"page{k}.json")
        pages[-1].write_text(body)
    db = tmp_path / "crash.db"
    with Store.open(db, clock=clock) as store:
        all_indexes = _rows(store, _INDEXES)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _APPLY, str(db), str(pages[0])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.stdout.readline().startswith("applied")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    with Store.open(db, clock=clock) as store:
        assert _rows(store, f"SELECT 1 FROM meta WHERE key = '{SET_ASIDE}'")
        assert len(_rows(store, _INDEXES)) < len(all_indexes)
        assert store.pull_cursor() == "c0"
        for page in pages[1:]:
            store.apply_pull_json(page.read_text())
        assert _rows(store, _INDEXES) == all_indexes
        assert store.count_targets() == 120


def _synchronous(store: Store) -> int:
    [(level,)] = _rows(store, "PRAGMA synchronous")
    return level


def test_a_pull_page_leaves_every_later_write_fully_durable(store):
    """Pull pages commit with synchronous=NORMAL (fetched again if a power cut undoes
    them); the user's writes after them, and after a refused page, stay FULL (2)."""
    assert _synchronous(store) == 2
    store.apply_pull_json(_pages()[0])
    assert _synchronous(store) == 2
    with pytest.raises(ValueError):
        store.apply_pull_json("{not json")
    assert _synchronous(store) == 2
    assert store.set_status(str(uuid.UUID(int=1)), "Closed").changed


def test_the_sync_state_says_a_catch_up_is_under_way_until_its_last_page(tmp_path, clock):
    """``pulling`` (the sync bar's "catching up", what ``sync --once`` beside a daemon
    waits for) holds from a page that says more follows to the one that says no more,
    and only while the process that pulls them runs."""
    from syncd import ProfileLock

    first, middle, last = _pages()
    with Store.open(tmp_path / "pipetrack.db", clock=clock) as store:
        with ProfileLock(tmp_path):  # this process is the profile's sync daemon
            store.record_sync(online=True, synced=True)
            assert store.sync_state().pulling is False
            store.apply_pull_json(first)
            assert store.sync_state().pulling is True
            store.apply_pull_json(middle)
            assert store.sync_state().pulling is True
            store.apply_pull_json(last)
            assert store.sync_state().pulling is False
            store.apply_pull_json(first)  # a cursor refused: from the start again
            assert store.sync_state().pulling is True
        state = store.sync_state()  # the daemon stopped part way: nobody is pulling
        assert (state.pulling, state.daemon_running) == (False, False)
