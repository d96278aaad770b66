"""Opening the SQLite file: pragmas, private file mode, schema checks, error wording."""

from __future__ import annotations

import logging
import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import apsw
from playhouse.apsw_ext import APSWDatabase

from .errors import StoreError
from .migrations import APPLICATION_ID, LATEST, migrate, schema_version

#: Waiting this long for another process's write beats failing with "database is locked".
BUSY_TIMEOUT_S = 30.0

PRAGMAS = [
    ("journal_mode", "wal"),
    ("synchronous", "full"),
    ("foreign_keys", 1),
    ("cache_size", -32_000),  # KiB: random uuid keys need a large page cache to write fast
    # Pages of WAL before a commit also checkpoints (default 1,000). A status change
    # writes ~20 pages (its row and five indexes, audit, outbox), so the default made
    # every ~50th change pay a checkpoint; at 10,000 it is every ~500th, and a page
    # written many times in between is copied back once.
    ("wal_autocheckpoint", 10_000),
]


#: A wait for the file longer than this is said (a warning: on stderr for a command).
BUSY_NOTICE_S = 1.0

log = logging.getLogger("pipetrack.store")


class _BusyWait:
    """Busy handler: retry every few milliseconds until the timeout; a wait of over
    :data:`BUSY_NOTICE_S` is logged once (a command waiting behind a large import sat
    silent for up to 30 s, then failed).

    SQLite's own busy timeout backs off to 100 ms sleeps, so a process that writes in a
    loop re-takes the lock in the short gaps between its transactions and a waiting
    process starves until its timeout. Short jittered sleeps catch those gaps.
    """

    def __init__(self, timeout: float, path: str) -> None:
        self.timeout = timeout
        self.path = path
        self.since = 0.0
        self.said = False

    def __call__(self, tries: int) -> bool:
        now = time.monotonic()
        if tries == 0:
            self.since = now
            self.said = False
        elif now - self.since > self.timeout:
            return False
        elif not self.said and now - self.since > BUSY_NOTICE_S:
            self.said = True
            log.warning(
                "%s is in use by another pipetrack process (a large import?): waiting up to"
                " %.0f s…",
                self.path,
                self.timeout,
            )
        time.sleep(random.uniform(0.0005, 0.002 if tries < 50 else 0.01))
        return True


class _Database(APSWDatabase):
    def _connect(self) -> apsw.Connection:
        conn = super()._connect()
        conn.set_busy_handler(_BusyWait(BUSY_TIMEOUT_S, self.database))
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


def _emptied(path: Path) -> bool:
    """A database file with no bytes and no WAL: truncated, since new files are linked
    into place whole (:func:`_create`). SQLite would take it for a new database, so its
    targets would vanish silently."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size == 0 and (not wal.exists() or wal.stat().st_size == 0)


def _make_private(path: Path) -> None:
    """0600 for the file and its -wal/-shm (SQLite gives those the file's mode)."""
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if each.exists() and each.stat().st_mode & 0o077:
            each.chmod(0o600)


def _connect(path: Path) -> APSWDatabase:
    db = _Database(str(path), timeout=BUSY_TIMEOUT_S, pragmas=PRAGMAS)
    try:
        db.connect()
        _check_and_migrate(db, path)
    except BaseException:
        db.close()
        raise
    return db


def _create(path: Path) -> None:
    """Build a new database beside ``path`` and link it into place whole, so that
    ``path`` never exists half made, even when two processes create it at once."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.new")
    os.close(os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        _connect(tmp).close()  # closing the last connection folds the WAL into the file
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # no hard links on this file system
            if not path.exists():
                os.replace(tmp, path)
    finally:
        for each in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            each.unlink(missing_ok=True)


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
        if not path.exists():
            _create(path)
        if _emptied(path):
            raise StoreError(
                f"{path} is empty: it was truncated (or never fully created). Restore it "
                "from a backup if it held targets; otherwise delete it and run pipetrack "
                "again (a new database is made and the server's targets pulled again)"
            )
        _make_private(path)
        return _connect(path)
