"""Storage fixtures: a store on a real file in the test's profile directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Store
from tests.storage.storehelp import result, state


@pytest.fixture
def db_path(home: Path) -> Path:
    return home / "pipetrack.db"


@pytest.fixture
def store(db_path: Path, clock) -> Iterator[Store]:
    with Store.open(db_path, clock=clock, user="alice") as opened:
        yield opened


@pytest.fixture
def fetch(store: Store):
    """Raw SQL against the store's file, for checking what was (not) written."""

    def run(sql: str, *params):
        return list(store._ctx.db.execute_sql(sql, params).fetchall())

    return run


@pytest.fixture
def rejected(store, clock):
    """Acme synced at v1 (Cold); then Hot (rejected by the server) and Closed (held
    behind it); an hour later. (uid, rejected change id, held change id)"""
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Cold"))])
    bad = store.set_status(t.uid, "Hot", note="x")
    later = store.set_status(t.uid, "Closed")
    store.apply_push_results([result(bad.change_id, "rejected", error="no")])
    clock.advance(hours=1)
    return t.uid, bad.change_id, later.change_id
