"""5. TUI at 100,000 targets against the same app at 1,000 (Textual Pilot, headless, in a
child process each: ``bench/tui_probe.py`` says what is timed). The profiles hold
synced targets (as after a catch-up), written by ``bench.local.adopt``.

Beside them, for the commit benchmark (3): what a sort index buys at 100,000 targets, a
page of the list halfway down sorted by days in status, through ``Store.list_targets``,
with its index and with it dropped. The six sort and filter indexes a status change
moves are about half of its commit's WAL frames.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from storage import Store, TargetQuery

from .context import Context
from .env import Env
from .harness import PeakRss, Report, median, timed
from .local import adopt, team_targets

NAME = "tui"


def profile_name(targets: int) -> str:
    return f"tui-{targets}"


def probe(env: Env, targets: int, keys: int, limit: float) -> dict:
    home = env.home(profile_name(targets))
    adopt(home / "pipetrack.db", team_targets(targets))
    launched = time.time()  # what "from launch" counts from: the command being started
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.tui_probe", str(home), str(keys), repr(launched)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with PeakRss(proc.pid) as peak:
            out, err = proc.communicate(timeout=limit)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    if proc.returncode != 0:
        raise RuntimeError(f"tui probe at {targets} targets failed:\n{err[-3000:]}")
    return {**json.loads(out.strip().splitlines()[-1]), "peak_rss_mb": peak.peak_mb}


def sorted_page(db: Path, targets: int, rounds: int = 5) -> tuple[float, float]:
    """Median seconds of reading a page halfway down the list sorted by days in status:
    without the sort's index, then with it."""
    query = TargetQuery(sort="days", offset=targets // 2, limit=50)

    def page_s(store: Store) -> float:
        times = []
        for _ in range(rounds):
            with timed() as t:
                store.list_targets(query)
            times.append(t.seconds)
        return median(times)

    with Store.open(db) as store:
        indexed = page_s(store)
        conn = store._ctx.db.connection()
        [(sql,)] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'targets_since'")
        conn.execute("DROP INDEX targets_since")
        try:
            unindexed = page_s(store)
        finally:
            conn.execute(sql)
    return unindexed, indexed


def run(ctx: Context) -> Report:
    big, small = ctx.size(100_000), ctx.size(1_000)
    keys = 10 if ctx.quick else 20  # keystrokes of each kind
    report = Report(NAME, "the TUI at many targets", {"targets": big, "baseline_targets": small})
    with Env(ctx.cluster, NAME) as env:
        with report.phase("baseline"):
            base = probe(env, small, keys, ctx.limit(300, 60))
        with report.phase("measure"):
            ours = probe(env, big, keys, ctx.limit(300, 60))
        unindexed, indexed = sorted_page(env.root / profile_name(big) / "pipetrack.db", big)
    paint = ours["paint_from_launch_s"]
    report.versus(
        "first paint from launch",
        paint,
        base["paint_from_launch_s"],
        "s",
        goal="< 1 s",
        met=paint < 1.0,
    )
    report.versus(
        "first paint from app start", ours["paint_from_app_s"], base["paint_from_app_s"], "s"
    )
    for key, label in (("search", "search keystroke"), ("filter", "filter key (t)")):
        value = median(ours[f"{key}_s"])
        report.versus(
            f"{label} -> repaint (median of {len(ours[f'{key}_s'])})",
            value,
            median(base[f"{key}_s"]),
            "ms",
            scale=1e3,
            goal="< 50 ms",
            met=value < 0.05,
        )
        report.versus(
            "  of which store reads (median)",
            median(ours[f"{key}_read_s"]),
            median(base[f"{key}_read_s"]),
            "ms",
            scale=1e3,
        )
        counted, base_counted = ours.get(f"{key}_count_s"), base.get(f"{key}_count_s")
        if counted:  # broad queries: counted exactly after the paint, in a worker
            metric = f"  exact count after the paint (median of {len(counted)})"
            if base_counted:
                report.versus(metric, median(counted), median(base_counted), "ms", scale=1e3)
            else:
                report.figure(metric, median(counted) * 1e3, "ms")
    report.versus("peak RSS", ours["peak_rss_mb"], base["peak_rss_mb"], "MiB")
    report.versus(
        "sorted by days, page at the middle: no index vs its index",
        unindexed,
        indexed,
        "ms",
        scale=1e3,
    )
    report.details = {"measured": ours, "baseline": base}
    return report
