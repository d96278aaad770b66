"""Storage fixtures: a store on a real file in the test's profile directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Store


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
