"""TUI fixtures: a real store on a real file in the test's profile, local time = UTC."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tuihelp import seed_store

from storage import Store


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The TUI shows local time; tests (and snapshots) pin it to UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(home: Path, clock) -> Iterator[Store]:
    with Store.open(home / "pipetrack.db", clock=clock, user="tester") as opened:
        yield opened


@pytest.fixture
def uids(store: Store, clock) -> dict[str, str]:
    """Ten fixed targets (see tuihelp.SEEDS), synced with the server; name -> uid."""
    return seed_store(store, clock)


@pytest.fixture
def other(home: Path, clock, store: Store) -> Iterator[Store]:
    """A second connection to the same file: another process, such as the sync daemon."""
    with Store.open(home / "pipetrack.db", clock=clock, user="daemon") as opened:
        yield opened
