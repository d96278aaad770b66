"""2. catch-up: a fresh profile pulls the team's whole history with ``pipetrack sync --once``,
against ``COPY (SELECT ...) TO STDOUT`` of the same rows (bench/limits.py).

Setup: 100,000 targets and 200,000 audit rows seeded on the server by SQL. Progress is
the number of targets in the device's store (``Store.count_targets``, polled); a pull
still running at its time limit is stopped and its time projected from its progress.
"""

from __future__ import annotations

from pathlib import Path

from storage import Store, TargetQuery
from syncd.pull import PULL_LIMIT

from .context import Context
from .env import Env
from .harness import Report, now
from .limits import copy_out
from .local import pull_pages
from .push import seeded_database
from .watch import Poll, StoreProbe

NAME = "catchup"
HISTORY = 2  # audit rows per target


def sample_history(db: Path) -> float:
    """Mean number of audit entries of 20 targets of the store (each should have HISTORY)."""
    with Store.open(db) as store:
        targets = store.list_targets(TargetQuery(limit=20))
        return sum(len(store.history(t.uid)) for t in targets) / max(len(targets), 1)


def wire_only(url: str, token: str, pages: int, limit: float) -> float:
    """Seconds to fetch and parse the pull's ``pages`` pages without storing them (the
    server's and the wire's share); after ``limit`` s, projected from the pages done."""
    done = 0
    start = now()
    for _ in pull_pages(url, token, PULL_LIMIT):
        done += 1
        if now() - start > limit:
            break
    return (now() - start) * max(pages, done) / done


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
        wire_s = wire_only(srv.url, token, targets * HISTORY // PULL_LIMIT, ctx.limit(30, 10))
        per_target = sample_history(db) if once.finished else None
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
        "  wire only: same pages over HTTP, parsed, not stored",
        wire_s,
        "s",
        baseline=copy_s,
        ratio=copy_s / wire_s,
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
