"""3. local commit: status changes through ``Store.set_status`` (each one durable
transaction: target view + audit row + outbox row), against bare one-row SQLite inserts
with the same pragmas (apsw, WAL, synchronous=FULL, one transaction each).

The two are interleaved (store, bare, bare, store, ...) so the machine's noise falls on
both alike; each latency is one call, measured alone.
"""

from __future__ import annotations

from pathlib import Path

import apsw

from storage import Store, TargetQuery

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
    for pragma in ("journal_mode = wal", "synchronous = full", "foreign_keys = 1"):
        conn.execute(f"PRAGMA {pragma}").fetchall()
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
    with Env(ctx.cluster, NAME) as env, Store.open(env.root / "store.db") as store:
        store.import_targets([{"name": f"Target {i:06d}"} for i in range(TARGETS)])
        uids = [t.uid for t in store.list_targets(TargetQuery())]
        bare = bare_connection(env.root / "bare.db")
        mine, base = [], []
        for i in range(changes):
            uid = uids[i % len(uids)]
            status = STATUSES[(i // len(uids)) % len(STATUSES)]
            if i % 2:
                base.append(bare_insert(bare, i))
                mine.append(store_change(store, uid, status))
            else:
                mine.append(store_change(store, uid, status))
                base.append(bare_insert(bare, i))
        bare.close()
    for p in (50, 99):
        ours, theirs = percentile(mine, p), percentile(base, p)
        report.versus(
            f"p{p} latency", ours, theirs, "ms", scale=1e3, goal="<= 1.5x", met=ours / theirs <= 1.5
        )
    report.details = {"store_ms": [round(x * 1e3, 3) for x in mine]}
    return report
