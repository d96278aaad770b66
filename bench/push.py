"""1. push: offline status changes pushed by ``pipetrack sync --once`` until all are
committed with their audit rows, against the same changes applied set-based in
PostgreSQL from one connection (bench/limits.py: the limit).

Setup: 1,000 targets seeded on the server, adopted by a device's store; 10 status
changes queued per target (10,000). The commit time is when the server holds all
10,000 new audit rows (polled every 50 ms). Once the device has also recorded every
result (outbox empty) the process is stopped: the pull that follows is what the
``catchup`` benchmark measures.

Beside it, for reading the gap (no goal), each against the same limit: the fixed cost of
the command, ``sync --once`` with nothing to push or pull (process start, imports,
opening the store, one empty push round and pull), the median of three runs after the
backlog has been pushed and pulled; and the same pushes without the process start, and
by the API alone (bench/push_parts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocol.wire import Change
from server.migrate import apply_migrations
from storage import Store

from . import push_parts
from .context import Context
from .env import Env, Run
from .harness import Report, median
from .limits import set_based_push
from .local import queue_changes, synced_profile
from .seed import seed_server
from .watch import AuditCount, Poll, max_audit_id, pending, time_to

NAME = "push"
USER = "bench"
PER_TARGET = 10
BASELINE_REPEATS = 3


def seeded_database(env: Env, targets: int, history: int = 1) -> str:
    url = env.database()
    apply_migrations(url)
    seed_server(url, targets, history)
    return url


@dataclass
class QueuedDevice:
    """A server over a seeded database and a device with changes queued on every target."""

    database_url: str
    server_url: str
    token: str
    home: Path

    @property
    def db(self) -> Path:
        return self.home / "pipetrack.db"


def queued_device(env: Env, targets: int, per_target: int, name: str = "device") -> QueuedDevice:
    """``targets`` seeded targets on a new server, adopted by a device's store, which
    then queues ``per_target`` status changes on each."""
    url = seeded_database(env, targets)
    srv = env.server(url)
    token = env.token(srv, USER)
    home = env.profile(name, srv, token)
    queue_changes(home / "pipetrack.db", synced_profile(home, srv.url, token), per_target)
    return QueuedDevice(url, srv.url, token, home)


@dataclass
class PushRun:
    """One device pushing its queued changes with ``sync --once`` (see :func:`push_backlog`)."""

    total: int
    changes: list[Change]  # when kept
    device: str
    commit_s: float  # until the server held every audit row (projected when not reached)
    committed: bool
    drained_s: float  # until the device had recorded every result
    drained: bool
    once: Run
    home: Path


def push_backlog(
    env: Env, targets: int, per_target: int, limit: float, keep: bool = False
) -> PushRun:
    """Seed ``targets`` targets, queue ``per_target`` changes on each in a synced device,
    run ``sync --once`` (stopped once everything is committed and recorded, or at
    ``limit`` seconds) while polling the server's audit rows and the device's outbox.
    ``keep``: also read the queued changes back (for a baseline replaying them)."""
    total = targets * per_target
    queued = queued_device(env, targets, per_target)
    url, home, db = queued.database_url, queued.home, queued.db
    with Store.open(db) as store:
        changes, device = (store.take_batch(total) if keep else []), store.device_id
    since = max_audit_id(url)
    every = 0.1 if total <= 10_000 else 0.5  # polling must not compete with the daemon
    with Poll(AuditCount(url, since), every) as committed, Poll(pending(db), every) as left:
        once = env.sync_once(home, limit, until=lambda: committed.last == total and left.last == 0)
    commit_s, commit_done = time_to(committed, total, once.started)
    drained_s, drained_done = time_to(left, 0, once.started, falling=True)
    return PushRun(
        total, changes, device, commit_s, commit_done, drained_s, drained_done, once, home
    )


def idle_once(env: Env, home: Path, runs: int = 3) -> float:
    """Median seconds of ``sync --once`` with nothing to do (after one that pulls what
    is left)."""
    env.sync_once(home, 120)
    return median(env.sync_once(home, 60).seconds for _ in range(runs))


def run(ctx: Context) -> Report:
    targets = ctx.size(1_000)
    total = targets * PER_TARGET
    report = Report(
        NAME,
        "offline status changes pushed by sync --once",
        {"targets": targets, "changes": total, "baseline": "set-based SQL, one connection"},
    )
    with Env(ctx.cluster, NAME) as env:
        with report.phase("measure"):
            pushed = push_backlog(env, targets, PER_TARGET, ctx.limit(180, 25), keep=True)
        with report.phase("idle"):
            idle = idle_once(env, pushed.home)
        with report.phase("parts"):
            parts = {
                name: part(queued_device(env, targets, PER_TARGET, name), total)
                for name, part in (
                    ("warm", push_parts.in_warm_process),
                    ("api", push_parts.api_alone),
                )
            }
        with report.phase("baseline"):
            baseline = median(
                set_based_push(seeded_database(env, targets), pushed.changes, pushed.device, USER)
                for _ in range(BASELINE_REPEATS)
            )
    ratio = baseline / pushed.commit_s
    report.figure(
        "all committed" + ("" if pushed.committed else " (projected)"),
        pushed.commit_s,
        "s",
        baseline=baseline,
        ratio=ratio,
        goal=">= 0.5 of the limit",
        met=pushed.committed and ratio >= 0.5,
    )
    report.figure(
        "throughput", total / pushed.commit_s, "changes/s", baseline=total / baseline, ratio=ratio
    )
    report.figure(
        "outbox drained" + ("" if pushed.drained else " (projected)"),
        pushed.drained_s,
        "s",
        baseline=baseline,
        ratio=baseline / pushed.drained_s,
    )
    # its ratio is the ceiling: a run that pushed in no time would still take this long
    report.versus("sync --once with nothing to do", idle, baseline, "s", inverse=True)
    report.versus(
        "the same pushes in a warm process (no process start)",
        parts["warm"],
        baseline,
        "s",
        inverse=True,
    )
    report.versus(
        "the API alone: the same bodies, 2 warm clients", parts["api"], baseline, "s", inverse=True
    )
    if not pushed.once.finished:
        report.note(f"sync --once stopped at its {pushed.once.seconds:.0f} s limit; projected")
    report.figure("peak RSS sync --once", pushed.once.peak_rss_mb, "MiB")
    report.details = {"run": pushed_summary(pushed), "log_tail": pushed.once.log[-2000:]}
    return report


def pushed_summary(pushed: PushRun) -> dict:
    """What the ``backlog`` benchmark reuses as its 10,000-change case."""
    return {
        "changes": pushed.total,
        "commit_s": pushed.commit_s,
        "committed": pushed.committed,
        "drained_s": pushed.drained_s,
        "peak_rss_mb": pushed.once.peak_rss_mb,
    }
