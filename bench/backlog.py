"""7. backlog: 100,000 pending changes (10,000 targets x 10) pushed by ``sync --once``,
against the 10,000-change case (1,000 targets x 10: the ``push`` benchmark's run when
it ran in this invocation, else measured here). Same depth per target, ten times the
changes: the time should be about ten times (linear, no collapse).

A run still going at its time limit is stopped; its time is projected from the rate at
which the server received audit rows until then.
"""

from __future__ import annotations

from .context import Context
from .env import Env
from .harness import Report
from .push import PER_TARGET, push_backlog, pushed_summary

NAME = "backlog"


def run(ctx: Context) -> Report:
    small, big = ctx.size(1_000), ctx.size(10_000)
    report = Report(
        NAME,
        "a large backlog pushed by sync --once",
        {"changes": big * PER_TARGET, "baseline_changes": small * PER_TARGET},
    )
    with Env(ctx.cluster, NAME) as env:
        push = ctx.reports.get("push")
        if push is not None and push.details["run"]["changes"] == small * PER_TARGET:
            base = push.details["run"]
            report.note("the 10x smaller case is the push benchmark's run")
        else:
            with report.phase("baseline"):
                base = pushed_summary(push_backlog(env, small, PER_TARGET, ctx.limit(240, 25)))
    with Env(ctx.cluster, NAME) as env, report.phase("measure"):
        run_ = pushed_summary(push_backlog(env, big, PER_TARGET, ctx.limit(90, 20)))
    ratio = run_["commit_s"] / base["commit_s"]
    exact = run_["committed"] and base["committed"]
    report.figure(
        "all committed" + ("" if exact else " (projected)"),
        run_["commit_s"],
        "s",
        baseline=base["commit_s"],
        ratio=ratio,
        goal="about 10 (<= 12)",
        met=exact and ratio <= 12,
    )
    report.figure(
        "peak RSS sync --once",
        run_["peak_rss_mb"],
        "MiB",
        baseline=base["peak_rss_mb"],
        ratio=run_["peak_rss_mb"] / base["peak_rss_mb"],
    )
    if not run_["committed"]:
        report.note("the large run was stopped at its time limit; its time is projected")
    report.details = {"measured": run_, "baseline": base}
    return report
