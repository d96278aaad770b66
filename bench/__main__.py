"""``python -m bench [--quick] [--only NAME ...]``: run the benchmarks, print, write JSON.

Each benchmark prints its table and writes ``bench/results/<name>.json``; a summary of
all of them ends the run (``bench/results/summary.json``). Exit 1 when a benchmark
failed to run (a missed goal is a result, not a failure; ``--strict`` makes it one).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

from .context import Context
from .env import Cluster
from .harness import RESULTS_DIR, Report, machine, now, table

#: In running order (``memory`` reads the reports of ``tui`` and ``backlog``).
BENCHMARKS = ("push", "catchup", "commit", "propagation", "tui", "load", "backlog", "memory")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="each workload at a tenth of its size")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these (repeat or comma-separate): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="where the JSON goes (default: bench/results)",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for each in args.only for n in each.split(",") if n.strip()]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    args.names = [n for n in BENCHMARKS if n in names] if names else list(BENCHMARKS)
    return args


def run_one(name: str, ctx: Context) -> Report | None:
    module = importlib.import_module(f"bench.{name}")
    start = now()
    try:
        report = module.run(ctx)
    except Exception:
        traceback.print_exc()
        print(f"== {name}: FAILED after {now() - start:.0f} s", flush=True)
        return None
    report.duration_s = round(now() - start, 1)
    ctx.reports[name] = report
    report.emit(ctx.results)
    print(f"   ({name} took {report.duration_s:.0f} s)\n", flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    ctx = Context(quick=args.quick, cluster=Cluster(), results=args.results)
    start = now()
    outcomes: dict[str, Report | None] = {}
    try:
        for name in args.names:
            outcomes[name] = run_one(name, ctx)
    finally:
        ctx.cluster.close()
    rows = []
    for name, report in outcomes.items():
        verdict = (
            "FAILED" if report is None else {True: "met", False: "MISSED", None: "-"}[report.met]
        )
        rows.append([name, verdict, f"{report.duration_s:.0f} s" if report else "-"])
    total = now() - start
    print(table(["benchmark", "goals", "time"], rows))
    print(f"total {total:.0f} s ({'quick' if args.quick else 'full'} run)")
    summary = {
        "quick": args.quick,
        "total_s": round(total, 1),
        "machine": machine(),
        "benchmarks": {n: (r.to_json() if r else None) for n, r in outcomes.items()},
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    if any(r is None for r in outcomes.values()):
        return 1
    return 1 if args.strict and any(r.met is False for r in outcomes.values() if r) else 0


if __name__ == "__main__":
    sys.exit(main())
