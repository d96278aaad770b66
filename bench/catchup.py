"""2. catch-up: a fresh profile pulls the team's whole history with ``pipetrack sync --once``,
against ``COPY (SELECT ...) TO STDOUT`` of the same rows (bench/limits.py).

Setup: 100,000 targets and 200,000 audit rows seeded on the server by SQL. Progress is
the number of targets in the device's store (``Store.count_targets``, polled); a pull
still running at its time limit is stopped and its time projected from its progress.

Beside it, for reading the gap (no goal): "wire only", the same pages fetched but not
read (the server's and the wire's share); "reading", those pages checked and converted
into rows as the daemon does (``Store.read_pull_json``), not stored; and the *floor*,
the rows the catch-up stored written by hand into an empty store (the least SQLite work
of the local schema: what bounds any catch-up into it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage import Store, TargetQuery, catchup
from storage.pull import PULL_CURSOR
from syncd.pull import PULL_LIMIT

from .context import Context
from .env import Env
from .harness import Report, now
from .limits import copy_out
from .local import raw_pages
from .push import seeded_database
from .watch import Poll, StoreProbe

NAME = "catchup"
HISTORY = 2  # audit rows per target


def sample_history(db: Path) -> float:
    """Mean number of audit entries of 20 targets of the store (each should have HISTORY)."""
    with Store.open(db) as store:
        targets = store.list_targets(TargetQuery(limit=20))
        return sum(len(store.history(t.uid)) for t in targets) / max(len(targets), 1)


_STORED = ("targets", "target_markets", "audit")


def _columns(conn, table: str) -> list[str]:
    """The columns a row is written with (generated ones are computed)."""
    return [r[1] for r in conn.execute(f"PRAGMA table_xinfo({table})") if r[6] == 0]


def storage_floor(db: Path, root: Path) -> float:
    """Seconds to write the rows the catch-up stored (targets, markets, audit) into an
    empty store by hand: prepared inserts in one transaction, the secondary indexes set
    aside and built after as the catch-up does (storage/catchup.py), the FTS filled by
    one statement. The least SQLite work this schema needs for them; no JSON, no checks."""
    with Store.open(db) as pulled:
        conn = pulled._ctx.db.connection()
        rows = {
            t: conn.execute(f"SELECT {', '.join(_columns(conn, t))} FROM {t}").fetchall()
            for t in _STORED
        }
    with Store.open(root / "floor.db") as empty:
        ctx = empty._ctx
        conn = ctx.db.connection()
        start = now()
        with ctx.write():
            catchup.begin(ctx, PULL_CURSOR)
            for table in _STORED:
                names = ", ".join(_columns(conn, table))
                marks = ", ".join("?" * len(_columns(conn, table)))
                if table == "targets":  # one INSERT ... SELECT: FTS5 flushes per statement
                    conn.execute(f"CREATE TEMP TABLE staged AS SELECT {names} FROM targets WHERE 0")
                    conn.executemany(f"INSERT INTO temp.staged VALUES ({marks})", rows[table])
                    conn.execute(f"INSERT INTO targets ({names}) SELECT {names} FROM temp.staged")
                else:
                    conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[table])
            catchup.finish(ctx)
        seconds = now() - start
        [(count,)] = conn.execute("SELECT count(*) FROM audit").fetchall()
    if count != len(rows["audit"]):
        raise RuntimeError(f"the floor wrote {count} audit rows of {len(rows['audit'])}")
    return seconds


@dataclass
class Wire:
    """The pull's pages fetched (``fetch_s``, the server's and the wire's share) and then
    read into rows as the daemon reads them (``read_s``); projected to ``pages`` pages
    when the fetching passed its time limit."""

    fetch_s: float
    read_s: float


def wire_only(url: str, token: str, pages: int, limit: float) -> Wire:
    bodies: list[bytes] = []
    start = now()
    for body in raw_pages(url, token, PULL_LIMIT):
        bodies.append(body)
        if now() - start > limit:
            break
    fetch_s = now() - start
    start = now()
    for body in bodies:
        Store.read_pull_json(body)
    read_s = now() - start
    scale = max(pages, len(bodies)) / len(bodies)
    return Wire(fetch_s * scale, read_s * scale)


def run(ctx: Context) -> Report:
    targets = ctx.size(100_000)
    rows = targets * (1 + HISTORY)
    report = Report(
        NAME,
        "a fresh profile pulls everything",
        {"targets": targets, "audit_rows": targets * HISTORY, "baseline": "COPY TO STDOUT"},
    )
    with Env(ctx.cluster, NAME) as env:
        url = seeded_database(env, targets, HISTORY)
        srv = env.server(url)
        token = env.token(srv, "bench")
        home = env.profile("fresh", srv, token)
        db = home / "pipetrack.db"
        with Poll(StoreProbe(db, lambda store: store.count_targets()), 0.5) as pulled:
            once = env.sync_once(home, ctx.limit(120, 30))
        copy_s, size = min(copy_out(url) for _ in range(2))
        wire = wire_only(srv.url, token, targets * HISTORY // PULL_LIMIT, ctx.limit(30, 10))
        per_target = sample_history(db) if once.finished else None
        floor_s = storage_floor(db, env.root) if once.finished else None
    if once.finished:
        pull_s = once.seconds
    else:
        # Pages carry PULL_LIMIT targets and as many audit rows until the targets run out:
        # project from the pages done (assumes every page costs the same). No page done:
        # count one, which makes the projection a lower bound.
        pages = max(pulled.last or 0, PULL_LIMIT) / PULL_LIMIT
        pull_s = once.seconds * targets * HISTORY / PULL_LIMIT / pages
        report.note(
            f"sync --once stopped at its {once.seconds:.0f} s limit with {pulled.last:,} of "
            f"{targets:,} targets; the time is projected from the pages done"
            + ("" if pulled.last else " (none: counted as one, so a lower bound)")
        )
    ratio = copy_s / pull_s
    suffix = "" if once.finished else " (projected)"
    report.figure(
        f"pull all{suffix}",
        pull_s,
        "s",
        baseline=copy_s,
        ratio=ratio,
        goal=">= 0.3 of COPY",
        met=once.finished and ratio >= 0.3,
    )
    report.figure(f"rows/s{suffix}", rows / pull_s, "rows/s", baseline=rows / copy_s, ratio=ratio)
    report.figure(
        "  wire only: same pages over HTTP, not read",
        wire.fetch_s,
        "s",
        baseline=copy_s,
        ratio=copy_s / wire.fetch_s,
    )
    report.figure(
        "  reading: those pages checked and made rows, not stored",
        wire.read_s,
        "s",
        baseline=copy_s,
        ratio=copy_s / wire.read_s,
    )
    if floor_s is not None:
        report.figure(
            "  floor: the stored rows written by hand into an empty store",
            floor_s,
            "s",
            baseline=copy_s,
            ratio=copy_s / floor_s,
        )
    report.figure("peak RSS sync --once", once.peak_rss_mb, "MiB")
    if per_target is not None:
        report.figure(
            "history entries per target (sample)",
            per_target,
            "",
            goal=f"= {HISTORY}",
            met=per_target == HISTORY,
        )
    report.details = {"copy_bytes": size, "log_tail": once.log[-2000:]}
    return report
