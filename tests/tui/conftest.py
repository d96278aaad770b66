"""TUI fixtures: a real store on a real file in the test's profile, local time = UTC."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tuihelp import seed_store

from storage import Store

ROOT = Path(__file__).resolve().parents[2]


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


BIG = 100_000


def _big_rows() -> list[dict[str, str]]:
    statuses = ["", "Passed", "Cold", "Active", "Hot", "Closed"]
    markets = ["EU", "US", "APAC;EU", "LATAM", "US;EU"]
    return [
        {"name": f"Target {n:06d}", "markets": markets[n % 5], "status": statuses[n % 6]}
        for n in range(BIG)
    ]


def _build_big(path: Path) -> None:
    with Store.open(path) as store:
        store.import_targets(_big_rows())


def _storage_fingerprint() -> str:
    """Changes whenever the store's code does, so a cached file is never stale."""
    digest = hashlib.sha256(str(BIG).encode())
    for package in ("storage", "protocol"):
        for source in sorted((ROOT / package).glob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def big_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file with 100,000 targets made by ``Store.import_targets``.

    Importing 100k takes tens of seconds, so the file is built once and kept in
    pytest's cache (keyed by the store's code); each session works on a copy.
    """
    copy = tmp_path_factory.mktemp("big") / "pipetrack.db"
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider
    if cache is None:
        _build_big(copy)
        return copy
    folder = cache.mkdir("pipetrack-tui-100k")
    built = folder / f"{_storage_fingerprint()}.db"
    if not built.exists():
        for old in folder.glob("*.db"):
            old.unlink(missing_ok=True)
        partial = folder / f"building-{os.getpid()}.tmp"  # test workers may build at once
        partial.unlink(missing_ok=True)
        _build_big(partial)
        partial.replace(built)
    shutil.copyfile(built, copy)
    return copy


@pytest.fixture
def big_store(big_db: Path) -> Iterator[Store]:
    with Store.open(big_db) as opened:
        yield opened
