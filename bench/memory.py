"""8. memory: peak RSS of the sync process during ``backlog`` (100,000 changes) and of the
TUI process during ``tui`` (100,000 targets), each against its own smaller case
(10,000 changes; 1,000 targets) in the same run. Reads those benchmarks' reports when
they ran in this invocation, else runs them first.
"""

from __future__ import annotations

from . import backlog, tui
from .context import Context
from .harness import Report

NAME = "memory"
GOALS_MB = {"backlog": 200, "tui": 250}
LABELS = {"backlog": "sync --once pushing the backlog", "tui": "TUI"}


def source(ctx: Context, name: str) -> Report:
    if name not in ctx.reports:
        module = {"backlog": backlog, "tui": tui}[name]
        ctx.reports[name] = module.run(ctx)
    return ctx.reports[name]


def run(ctx: Context) -> Report:
    report = Report(NAME, "peak resident memory", {"sampled_every_ms": 20})
    for name, goal in GOALS_MB.items():
        peak = next(f for f in source(ctx, name).figures if f.metric.startswith("peak RSS"))
        report.figure(
            f"{LABELS[name]} peak RSS",
            peak.value,
            "MiB",
            baseline=peak.baseline,
            ratio=peak.ratio,
            goal=f"< {goal} MB",
            met=peak.value < goal,
        )
    return report
