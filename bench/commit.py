"""3. local commit: status changes through ``Store.set_status`` (each one durable
transaction: target view + audit row + outbox row), against bare one-row SQLite inserts
with the same pragmas (apsw, WAL, synchronous=FULL, one transaction each).

The series are interleaved (each goes first in a third of the rounds) so the machine's
noise falls on all alike; each latency is one call, measured alone. Each file is first
written until its WAL has been checkpointed and starts again from its beginning, as in a
store in use: a new WAL file grows at every commit, and growing a file makes each
fdatasync dearer, which would favour whichever series writes more frames per commit.

Beside them, for reading the gap (no goal): the *floor*, the same rows a status change
writes (target view, audit, outbox) in a second store file, by hand through apsw with
no Python work around them; and WAL pages per commit. What separates the store from the
floor is its own Python; what separates the floor from the bare insert is the schema's
I/O (a status change moves ~22 pages: its row and its entries in five or six sort and
filter indexes, audit and outbox rows with their indexes; the bare insert 1). Where the
disk is slow, fsync time hides both gaps.

And the *disk* under both: a commit's WAL frames written as SQLite writes them (a
24-byte header and a page, one pwrite each) then fdatasync, for the store's frames per
commit against one frame, no SQLite at all. It is what the store's schema costs on this
disk before any CPU work, so the goal is out of reach for any schema that moves as many
pages. Last, the *CPU alone*: the store's changes and the floor's again with
``synchronous=OFF`` (no fsync), against the durable bare insert.
"""

from __future__ import annotations

import math
import os
import struct
import uuid
from collections.abc import Callable
from pathlib import Path

import apsw

from storage import Store, TargetQuery
from storage.db import PRAGMAS

from .context import Context
from .env import Env
from .harness import Report, now, percentile
from .seed import STATUSES

NAME = "commit"
TARGETS = 1_000


def bare_connection(path: Path) -> apsw.Connection:
    """The store's pragmas (storage/db.py) on a one-table file."""
    conn = apsw.Connection(str(path))
    conn.set_busy_timeout(10_000)
    for name, value in PRAGMAS:
        conn.execute(f"PRAGMA {name} = {value}").fetchall()
    conn.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, uid TEXT, status TEXT, at TEXT)")
    return conn


def bare_insert(conn: apsw.Connection, i: int) -> float:
    start = now()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO rows (uid, status, at) VALUES (?, ?, datetime('now'))",
        (f"uid-{i}", STATUSES[i % len(STATUSES)]),
    )
    conn.execute("COMMIT")
    return now() - start


_ORDERS = (("store", "bare", "floor"), ("bare", "floor", "store"), ("floor", "store", "bare"))
_FLOOR = (
    "SELECT id, status, server_version FROM targets WHERE uid = ?",
    "INSERT INTO audit (change_id, target, old_status, new_status, changed_at, changed_by,"
    " origin) VALUES (?, ?, ?, ?, ?, 'bench', 'local')",
    "INSERT INTO outbox (change_id, target, op, base_version, status, changed_at)"
    " VALUES (?, ?, 'set_status', ?, ?, ?)",
    "UPDATE targets SET status = ?, status_since = ?, updated_at = ?, sync = 'pending'"
    " WHERE id = ?",
)


def floor_change(conn: apsw.Connection, uid: str, status: str, at: str) -> float:
    """The rows of one status change written by hand: the floor of the store's schema."""
    find, audit, outbox, view = _FLOOR
    start = now()
    conn.execute("BEGIN IMMEDIATE")
    ((id_, old, version),) = conn.execute(find, (uid,)).fetchall()
    change_id = str(uuid.uuid4())
    conn.execute(audit, (change_id, uid, old, status, at))
    conn.execute(outbox, (change_id, uid, version or 0, status, at))
    conn.execute(view, (status, at, at, id_))
    conn.execute("COMMIT")
    return now() - start


class RawFrames:
    """Frames written to a plain file as SQLite's WAL writes them, then fdatasync. The file
    is written once in full first and then over from its start, as a WAL in use is (a
    file growing at every commit costs each fdatasync more)."""

    def __init__(self, path: Path, page_size: int = 4096, size: int = 16 << 20) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.header, self.page, self.end, self.size = b"\0" * 24, b"\1" * page_size, 0, size
        chunk = b"\0" * (1 << 20)
        for offset in range(0, size, len(chunk)):
            os.pwrite(self.fd, chunk, offset)
        os.fsync(self.fd)

    def commit(self, frames: int) -> float:
        start = now()
        if self.end + frames * (len(self.header) + len(self.page)) > self.size:
            self.end = 0
        for _ in range(frames):
            os.pwrite(self.fd, self.header, self.end)
            os.pwrite(self.fd, self.page, self.end + len(self.header))
            self.end += len(self.header) + len(self.page)
        os.fdatasync(self.fd)
        return now() - start

    def close(self) -> None:
        os.close(self.fd)


def disk_bound(root: Path, frames: int, rounds: int) -> tuple[list[float], list[float]]:
    """Latencies of committing ``frames`` raw frames and of one frame, interleaved."""
    many, one = RawFrames(root / "frames.raw"), RawFrames(root / "frame.raw")
    wide, narrow = [], []
    try:
        for i in range(rounds):
            for which in ("wide", "narrow") if i % 2 else ("narrow", "wide"):
                if which == "wide":
                    wide.append(many.commit(frames))
                else:
                    narrow.append(one.commit(1))
    finally:
        many.close()
        one.close()
    return wide, narrow


class WalPages:
    """WAL pages written per commit, read from the frame count in the WAL index (the
    ``mxFrame`` of the -shm file's header): it grows by each commit's frames, and a commit
    that restarts the WAL after a checkpoint starts it again from 0."""

    MX_FRAME = struct.Struct("=I")  # native byte order, at offset 16 of the -shm file

    def __init__(self, path: Path) -> None:
        self.shm = os.open(f"{path}-shm", os.O_RDONLY)
        self.pages, self.commits, self.last = 0, 0, self._frames()

    def _frames(self) -> int:
        return self.MX_FRAME.unpack(os.pread(self.shm, 4, 16))[0]

    def count(self) -> None:
        frames = self._frames()
        self.pages += frames - self.last if frames >= self.last else frames
        self.commits += 1
        self.last = frames

    def close(self) -> None:
        os.close(self.shm)

    @property
    def per_commit(self) -> float:
        return self.pages / max(1, self.commits)


def warm_up(path: Path, write: Callable[[int], object], limit: int) -> int:
    """Write (``write(0)``, ``write(1)``...) until the WAL of ``path`` has been checkpointed
    and is written again from its start: the state of a store in use. A new WAL grows its
    file at every commit, which costs each fdatasync more than writing in place; without
    this the bare insert (one frame a commit) would never get there in the run while the
    store (~22) would. Returns the writes made."""
    wal = Path(f"{path}-wal")
    last = wal.stat().st_size if wal.exists() else 0
    for i in range(limit):
        write(i)
        size = wal.stat().st_size
        if 0 < size <= last:
            return i + 1
        last = size
    raise RuntimeError(f"the WAL of {path.name} never restarted in {limit} writes")


def store_change(store: Store, uid: str, status: str) -> float:
    start = now()
    change = store.set_status(uid, status)
    seconds = now() - start
    if not change.changed:
        raise RuntimeError(f"set_status({uid}, {status}) changed nothing")
    return seconds


def run(ctx: Context) -> Report:
    changes = ctx.size(2_000)
    report = Report(
        NAME,
        "Store.set_status, FULL durability",
        {"changes": changes, "targets": TARGETS, "baseline": "one-row INSERT, same pragmas"},
    )
    with (
        Env(ctx.cluster, NAME) as env,
        Store.open(env.root / "store.db") as store,
        Store.open(env.root / "floor.db") as floor_store,
    ):
        targets = [{"name": f"Target {i:06d}"} for i in range(TARGETS)]
        store.import_targets(targets)
        floor_store.import_targets(targets)
        uids = [t.uid for t in store.list_targets(TargetQuery())]
        floor_uids = [t.uid for t in floor_store.list_targets(TargetQuery())]
        bare = bare_connection(env.root / "bare.db")
        floor = floor_store._ctx.db.connection()  # the store's own pragmas, by hand

        # the i-th change of each series; every one really changes its target's status
        def status(i: int) -> str:
            return STATUSES[(i // len(uids)) % len(STATUSES)]

        def store_nth(i: int) -> float:
            return store_change(store, uids[i % len(uids)], status(i))

        def floor_nth(i: int) -> float:
            at = f"2026-01-01T00:00:00.{i:06d}Z"
            return floor_change(floor, floor_uids[i % len(uids)], status(i), at)

        with report.phase("warm-up"):
            ahead = warm_up(env.root / "store.db", store_nth, 5_000)
            warm_up(env.root / "floor.db", floor_nth, 5_000)
            warm_up(env.root / "bare.db", lambda i: bare_insert(bare, -i), 50_000)
        pages = {"store": WalPages(env.root / "store.db"), "bare": WalPages(env.root / "bare.db")}
        mine, base, least = [], [], []
        for i in range(ahead, ahead + changes):
            for which in _ORDERS[i % 3]:  # each of the three goes first a third of the time
                if which == "store":
                    mine.append(store_nth(i))
                elif which == "bare":
                    base.append(bare_insert(bare, i))
                else:
                    least.append(floor_nth(i))
            pages["store"].count()
            pages["bare"].count()
        bare.close()
        for each in pages.values():
            each.close()
        # the same changes with no fsync at all: what the CPU alone costs
        cpu_store, cpu_floor = [], []
        for conn in (store._ctx.db.connection(), floor):
            conn.execute("PRAGMA synchronous = OFF")
        for i in range(ahead + changes, ahead + 2 * changes):
            cpu_store.append(store_nth(i))
            cpu_floor.append(floor_nth(i))
        frames = round(pages["store"].per_commit)
        wide, narrow = disk_bound(env.root, frames, changes)
    for p in (50, 99):
        ours, theirs = percentile(mine, p), percentile(base, p)
        report.versus(
            f"p{p} latency", ours, theirs, "ms", scale=1e3, goal="<= 1.5x", met=ours / theirs <= 1.5
        )
    for p in (50, 99):
        floor_s, bare_s = percentile(least, p), percentile(base, p)
        report.versus(f"p{p} floor: same rows by hand", floor_s, bare_s, "ms", scale=1e3)
    for p in (50, 99):
        report.versus(
            f"p{p} disk alone: {frames} frames + fdatasync vs 1",
            percentile(wide, p),
            percentile(narrow, p),
            "ms",
            scale=1e3,
        )
    per_frame = (percentile(wide, 50) - percentile(narrow, 50)) / max(1, frames - 1)
    allowed = 1 + 0.5 * percentile(narrow, 50) / per_frame if per_frame > 0 else math.inf
    report.figure("frames a 1.5x commit could write, disk alone (p50, linear)", allowed, "frames")
    report.figure("WAL pages per commit", pages["store"].per_commit, "pages")
    report.figure("WAL pages per commit, bare", pages["bare"].per_commit, "pages")
    for name, series in (("the store", cpu_store), ("by hand", cpu_floor)):
        report.versus(
            f"p50 CPU alone (synchronous=OFF), {name}, vs a durable bare insert",
            percentile(series, 50),
            percentile(base, 50),
            "ms",
            scale=1e3,
        )
    report.note(f"load average {os.getloadavg()[0]:.1f} at the end (2 cores: noisy above ~2)")
    report.details = {"store_ms": [round(x * 1e3, 3) for x in mine]}
    return report
