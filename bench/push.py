"""1. push: offline status changes pushed by ``pipetrack sync --once`` until all are
committed with their audit rows, against the same changes applied set-based in
PostgreSQL from one connection (bench/limits.py: the limit).

Setup: 1,000 targets seeded on the server, adopted by a device's store; 10 status
changes queued per target (10,000). The commit time is when the server holds all
10,000 new audit rows (polled every 50 ms). Once the device has also recorded every
result (outbox empty) the process is stopped: the pull that follows is what the
``catchup`` benchmark measures.
"""

from __future__ import annotations

from server.migrate import apply_migrations
from storage import Store

from .context import Context
from .env import Env
from .harness import Report, median
from .limits import set_based_push
from .local import queue_changes, synced_profile
from .seed import seed_server
from .watch import AuditCount, LocalPending, Poll, max_audit_id, time_to

NAME = "push"
USER = "bench"
PER_TARGET = 10
BASELINE_REPEATS = 3


def seeded_database(env: Env, targets: int, history: int = 1) -> str:
    url = env.database()
    apply_migrations(url)
    seed_server(url, targets, history)
    return url


def run(ctx: Context) -> Report:
    targets = ctx.size(1_000)
    total = targets * PER_TARGET
    report = Report(
        NAME,
        "offline status changes pushed by sync --once",
        {"targets": targets, "changes": total, "baseline": "set-based SQL, one connection"},
    )
    with Env(ctx.cluster, NAME) as env:
        url = seeded_database(env, targets)
        srv = env.server(url)
        token = env.token(srv, USER)
        home = env.profile("device", srv, token)
        db = home / "pipetrack.db"
        queue_changes(db, synced_profile(home, srv.url, token), PER_TARGET)
        with Store.open(db) as store:
            changes, device = store.take_batch(total), store.device_id
        since = max_audit_id(url)
        with Poll(AuditCount(url, since)) as committed, Poll(LocalPending(db), 0.2) as pending:
            once = env.sync_once(
                home,
                ctx.limit(600, 60),
                until=lambda: committed.last == total and pending.last == 0,
            )
        baseline = median(
            set_based_push(seeded_database(env, targets), changes, device, USER)
            for _ in range(BASELINE_REPEATS)
        )
    commit_s, commit_done = time_to(committed, total, once.started)
    drained_s, drained_done = time_to(pending, 0, once.started, falling=True)
    ratio = baseline / commit_s
    report.figure(
        "all committed" + ("" if commit_done else " (projected)"),
        commit_s,
        "s",
        baseline=baseline,
        ratio=ratio,
        goal=">= 0.5 of the limit",
        met=commit_done and ratio >= 0.5,
    )
    report.figure(
        "throughput", total / commit_s, "changes/s", baseline=total / baseline, ratio=ratio
    )
    report.figure(
        "outbox drained" + ("" if drained_done else " (projected)"),
        drained_s,
        "s",
        baseline=baseline,
        ratio=baseline / drained_s,
    )
    if not once.finished:
        report.note(f"sync --once stopped at its {once.seconds:.0f} s limit; times projected")
    report.figure("peak RSS sync --once", once.peak_rss_mb, "MiB")
    report.details = {"log_tail": once.log[-2000:]}
    return report
