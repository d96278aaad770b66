"""Fixtures every part's tests share: a profile directory and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.support.fixtures",  # pg_cluster, database_url, server, make_user
    "tests.support.figures",  # the fault suite's figures, printed at the end
]


class FakeClock:
    """A clock tests move by hand; pass it as ``Store.open(..., clock=clock)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty profile directory, also set as PIPETRACK_HOME for subprocesses."""
    path = tmp_path / "profile"
    path.mkdir()
    monkeypatch.setenv("PIPETRACK_HOME", str(path))
    return path


@pytest.fixture
def daemon_lock(home: Path):
    """A sync daemon runs on the profile: this process holds its lock (syncd/lock.py), as
    the daemon does. Without one the store never reports "online"."""
    from syncd import ProfileLock

    with ProfileLock(home) as lock:
        yield lock


@pytest.fixture
def dead_daemons_error(home: Path):
    """``dead_daemons_error("cannot reach ...")``: that error recorded, offline, by another
    process that has ended since (a daemon killed while the server was down)."""
    import subprocess
    import sys

    def record(error: str) -> None:
        script = (
            "import sys; from storage import Store\n"
            "with Store.open(sys.argv[1]) as s: s.record_sync(online=False, error=sys.argv[2])"
        )
        subprocess.run(
            [sys.executable, "-c", script, str(home / "pipetrack.db"), error], check=True
        )

    return record
