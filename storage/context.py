"""What every part of the store shares: the database, its models, clock, thresholds, user."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from playhouse.apsw_ext import APSWDatabase

from .db import translating
from .schema import Models, to_utc

Clock = Callable[[], datetime]


@dataclass
class Ctx:
    db: APSWDatabase
    m: Models
    path: Path
    clock: Clock
    thresholds: dict[str, int]
    user: str

    def now(self) -> datetime:
        return to_utc(self.clock())

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction, taken with BEGIN IMMEDIATE: the write lock is waited for
        up front (busy timeout), never upgraded mid-way where SQLite would fail at once."""
        with translating(self.path), self.db.atomic("IMMEDIATE"):
            yield

    @contextmanager
    def write_refetchable(self) -> Iterator[None]:
        """:meth:`write` for rows fetched again if they are lost (a pull page with its
        cursor): committed without waiting for the disk (synchronous=NORMAL, ~1/3 of a
        big page's commit). A power cut may undo the whole transaction, never part of it,
        and never one committed after it by :meth:`write` (its sync covers the WAL before
        it); the pull then fetches the page again."""
        conn = self.db.connection()
        [(was,)] = conn.execute("PRAGMA synchronous").fetchall()
        conn.execute("PRAGMA synchronous = NORMAL")
        try:
            with self.write():
                yield
        finally:
            conn.execute(f"PRAGMA synchronous = {int(was)}")

    @contextmanager
    def read(self) -> Iterator[None]:
        """One snapshot for a read made of several statements."""
        with translating(self.path), self.db.atomic():
            yield

    # ---- meta: small key/value settings ------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.m.meta.get_or_none(self.m.meta.key == key)
        return None if row is None else row.value

    def set_meta(self, key: str, value: str | None) -> None:
        self.m.meta.replace(key=key, value=value).execute()
