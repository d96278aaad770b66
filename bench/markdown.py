"""``python -m bench.markdown``: the results of the last run as Markdown tables, in the
form of docs/benchmarks.md (one table per benchmark, from ``bench/results/*.json``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .__main__ import BENCHMARKS
from .harness import RESULTS_DIR, _fmt


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: ""}[met]


def render(result: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in result["params"].items())
    lines = [
        f"**{result['name']}** ({params}; took {result['duration_s']:.0f} s)",
        "",
        "| metric | value | baseline | ratio | goal | |",
        "|---|---|---|---|---|---|",
    ]
    for f in result["figures"]:
        cells = [
            f["metric"].strip(),
            _fmt(f["value"], f["unit"]),
            _fmt(f["baseline"], f["unit"]),
            _fmt(f["ratio"]),
            f["goal"],
            verdict(f["met"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [f"\n_{note}_" for note in result["notes"]]
    return "\n".join(lines)


def main(directory: Path = RESULTS_DIR) -> int:
    for name in BENCHMARKS:
        path = directory / f"{name}.json"
        if path.exists():
            print(render(json.loads(path.read_text())) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS_DIR))
