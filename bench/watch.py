"""Watching progress from the side while a process works: a poll thread with samples.

::

    with Poll(AuditCount(database_url, since_id)) as committed:
        run = env.sync_once(home)
    t = committed.first(lambda n: n >= expected)   # harness.now() time, or None
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import psycopg

from storage import Store

from .harness import now


class Probe(Protocol):
    def __call__(self) -> Any: ...
    def close(self) -> None: ...


class Poll:
    """Calls ``probe()`` every ``interval`` s in a thread; keeps (time, value) samples."""

    def __init__(self, probe: Probe, interval: float = 0.05) -> None:
        self.probe = probe
        self.interval = interval
        self.samples: list[tuple[float, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="poll", daemon=True)

    def _run(self) -> None:
        try:
            while True:
                value = self.probe()
                self.samples.append((now(), value))
                if self._stop.wait(self.interval):
                    break
        finally:
            self.probe.close()

    def __enter__(self) -> Poll:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def first(self, pred: Callable[[Any], bool]) -> float | None:
        return next((t for t, v in self.samples if pred(v)), None)

    @property
    def last(self) -> Any:
        return self.samples[-1][1] if self.samples else None


class AuditCount:
    """Audit rows on the server with an id above ``since`` (the primary key range)."""

    def __init__(self, database_url: str, since: int) -> None:
        self.url = database_url
        self.since = since
        self._conn: psycopg.Connection | None = None

    def __call__(self) -> int:
        if self._conn is None:
            self._conn = psycopg.connect(self.url, autocommit=True)
        (count,) = self._conn.execute(
            "SELECT count(*) FROM audit_log WHERE id > %s", (self.since,)
        ).fetchone()
        return count

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def max_audit_id(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()
    return top


class StoreProbe:
    """A value read from a device's store: ``StoreProbe(db, lambda s: s.count_targets())``.
    The store is opened on first use (in the poll thread); 0 until the file exists."""

    def __init__(self, db_path: Path, read: Callable[[Store], int]) -> None:
        self.db_path = db_path
        self.read = read
        self._store: Store | None = None

    def __call__(self) -> int:
        if not self.db_path.exists():
            return 0
        if self._store is None:
            self._store = Store.open(self.db_path)
        return self.read(self._store)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def pending(db_path: Path) -> StoreProbe:
    """Changes still pending in a device's outbox."""
    return StoreProbe(db_path, lambda store: store.sync_state().pending)


def time_to(
    poll: Poll, goal: float, started: float, *, falling: bool = False
) -> tuple[float, bool]:
    """Seconds from ``started`` until the polled value reached ``goal`` (rising count) or
    fell to it (``falling``), and True; when it never did, a projection at the rate seen
    so far, and False."""
    reached = poll.first((lambda v: v <= goal) if falling else (lambda v: v >= goal))
    if reached is not None:
        return reached - started, True
    if not poll.samples:
        return float("inf"), False
    first_value, (t_last, last_value) = poll.samples[0][1], poll.samples[-1]
    done = (first_value - last_value) if falling else (last_value - first_value)
    todo = (first_value - goal) if falling else (goal - first_value)
    elapsed = t_last - started
    return (elapsed * todo / done if done > 0 else float("inf")), False
