"""Opening the SQLite file: pragmas, private file mode, schema checks, error wording."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import apsw
from playhouse.apsw_ext import APSWDatabase

from .errors import StoreError
from .migrations import APPLICATION_ID, LATEST, migrate, schema_version

#: Waiting this long for another process's write beats failing with "database is locked".
BUSY_TIMEOUT_S = 30.0

_PRAGMAS = [
    ("journal_mode", "wal"),
    ("synchronous", "full"),
    ("foreign_keys", 1),
    ("cache_size", -32_000),  # KiB: random uuid keys need a large page cache to write fast
]


class _BusyWait:
    """Busy handler: retry every few milliseconds until the timeout.

    SQLite's own busy timeout backs off to 100 ms sleeps, so a process that writes in a
    loop re-takes the lock in the short gaps between its transactions and a waiting
    process starves until its timeout. Short jittered sleeps catch those gaps.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.since = 0.0

    def __call__(self, tries: int) -> bool:
        now = time.monotonic()
        if tries == 0:
            self.since = now
        elif now - self.since > self.timeout:
            return False
        time.sleep(random.uniform(0.0005, 0.002 if tries < 50 else 0.01))
        return True


class _Database(APSWDatabase):
    def _connect(self) -> apsw.Connection:
        conn = super()._connect()
        conn.set_busy_handler(_BusyWait(BUSY_TIMEOUT_S))
        return conn


def _find_apsw_error(err: BaseException) -> apsw.Error | None:
    """peewee wraps apsw's exceptions; the original is in ``args`` or the chain."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, apsw.Error):
            return seen
        first = seen.args[0] if seen.args else None
        if isinstance(first, apsw.Error):
            return first
        seen = seen.__cause__ or seen.__context__
    return None


def describe(err: BaseException, path: Path) -> str | None:
    """What went wrong and what to do, for errors a user can act on; None for bugs."""
    found = _find_apsw_error(err)
    if isinstance(found, apsw.FullError):
        return f"the disk holding {path} is full, so nothing was saved: free some space and retry"
    if isinstance(found, apsw.NotADBError | apsw.CorruptError):
        return (
            f"{path} is not a pipetrack database or is damaged: move it aside "
            "(keep it, it may hold unsynced changes) and run pipetrack again"
        )
    if isinstance(found, apsw.BusyError):
        return (
            f"{path} stayed locked by another pipetrack process for {BUSY_TIMEOUT_S:.0f} s: "
            "try again, or close the other process"
        )
    if isinstance(
        found, apsw.CantOpenError | apsw.PermissionsError | apsw.ReadOnlyError | apsw.IOError
    ):
        return f"cannot read or write {path} ({found}): check that you own it and its folder"
    if found is None and isinstance(err, OSError):
        return f"cannot use {path}: {err.strerror or err}"
    return None


@contextmanager
def translating(path: Path) -> Iterator[None]:
    """Turn the database errors a user can act on into :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except Exception as err:
        message = describe(err, path)
        if message is None:
            raise
        raise StoreError(message) from err


def _make_private(path: Path) -> None:
    """Create the file 0600 before SQLite does (its -wal/-shm copy the mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if each.exists() and each.stat().st_mode & 0o077:
            each.chmod(0o600)


def _check_and_migrate(db: APSWDatabase, path: Path) -> None:
    cursor = db.cursor()
    if schema_version(cursor) == LATEST:
        return
    with db.atomic("IMMEDIATE"):
        version = schema_version(cursor)
        app_id = cursor.execute("PRAGMA application_id").fetchall()[0][0]
        has_tables = cursor.execute("SELECT count(*) FROM sqlite_master").fetchall()[0][0] > 0
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and has_tables):
            raise StoreError(
                f"{path} is an SQLite file of some other program, not a pipetrack database: "
                "choose another profile directory (--home) or move the file aside"
            )
        if version > LATEST:
            raise StoreError(
                f"{path} was written by a newer pipetrack (schema {version}, this one knows "
                f"up to {LATEST}): upgrade pipetrack to use this profile"
            )
        migrate(cursor)


def open_database(path: Path) -> APSWDatabase:
    """Connect (this thread; other threads connect on first use) and bring the schema
    up to date. Raises StoreError for a file that cannot be used."""
    with translating(path):
        _make_private(path)
        db = _Database(str(path), timeout=BUSY_TIMEOUT_S, pragmas=_PRAGMAS)
        try:
            db.connect()
            _check_and_migrate(db, path)
        except BaseException:
            db.close()
            raise
    return db
