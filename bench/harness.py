"""What every benchmark shares: timing, percentiles, peak RSS, the report table and JSON.

Every figure is stated against a baseline measured in the same run (the machines are
shared and noisy, so only ratios compare across runs)::

    report = Report("push", "10,000 offline status changes", params={...})
    report.figure("commit time", 3.2, "s", baseline=0.4, ratio=0.4 / 3.2, goal=">= 0.5",
                  met=0.4 / 3.2 >= 0.5)
    report.note("bounded by ...")
    report.emit()          # prints the table, writes bench/results/push.json
"""

from __future__ import annotations

import json
import math
import os
import platform
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

RESULTS_DIR = Path(__file__).parent / "results"


# ---- timing --------------------------------------------------------------------------------


def now() -> float:
    return time.perf_counter()


@dataclass
class Elapsed:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Elapsed]:
    """``with timed() as t: ...`` then ``t.seconds``."""
    result = Elapsed()
    start = now()
    try:
        yield result
    finally:
        result.seconds = now() - start


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0-100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(samples_s: list[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max of samples in seconds, as milliseconds."""
    return {
        "n": len(samples_s),
        "p50_ms": percentile(samples_s, 50) * 1e3,
        "p90_ms": percentile(samples_s, 90) * 1e3,
        "p99_ms": percentile(samples_s, 99) * 1e3,
        "max_ms": max(samples_s, default=math.nan) * 1e3,
    }


def median(values: Iterable[float]) -> float:
    return percentile(values, 50)


# ---- memory --------------------------------------------------------------------------------


def rss_mb(proc: psutil.Process, children: bool = True) -> float:
    """Resident memory of a process (and its children), in MiB; 0 once it is gone."""
    procs = [proc]
    try:
        if children:
            procs += proc.children(recursive=True)
    except psutil.Error:
        return 0.0
    total = 0
    for each in procs:
        with suppress(psutil.Error):
            total += each.memory_info().rss
    return total / 2**20


class PeakRss:
    """Samples a process's RSS in a thread until stopped; ``peak_mb`` is the highest seen.

    ``with PeakRss(pid) as peak: ...`` (a pid of a child process, or ``os.getpid()``).
    """

    def __init__(self, pid: int, interval: float = 0.02, children: bool = True) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.children = children
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def _run(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, rss_mb(self.proc, self.children))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


# ---- the report ------------------------------------------------------------------------------


@dataclass
class Figure:
    """One measured value, its baseline from the same run, and the ratio the goal reads."""

    metric: str
    value: float
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None  # None: no goal on this figure


def machine() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory.total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: ""}[met]


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


@dataclass
class Report:
    name: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    duration_s: float = 0.0

    def figure(self, metric: str, value: float, unit: str, **kwargs: Any) -> Figure:
        fig = Figure(metric, value, unit, **kwargs)
        self.figures.append(fig)
        return fig

    def versus(
        self,
        metric: str,
        value: float,
        baseline: float,
        unit: str,
        *,
        scale: float = 1.0,
        inverse: bool = False,
        goal: str = "",
        met: bool | None = None,
    ) -> Figure:
        """A figure and its baseline (both shown times ``scale``); the ratio is
        value/baseline, or baseline/value with ``inverse`` (for "fraction of the limit")."""
        ratio = baseline / value if inverse else value / baseline
        return self.figure(
            metric, value * scale, unit, baseline=baseline * scale, ratio=ratio, goal=goal, met=met
        )

    def note(self, text: str) -> None:
        self.notes.append(text)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a step of the benchmark itself (setup, measuring...) into ``phases``."""
        with timed() as took:
            yield
        self.phases[name] = round(self.phases.get(name, 0.0) + took.seconds, 2)

    @property
    def met(self) -> bool | None:
        """False when a goal was missed, True when every goal was met, None: no goals."""
        verdicts = [f.met for f in self.figures if f.met is not None]
        return all(verdicts) if verdicts else None

    def render(self) -> str:
        rows = [
            [
                f.metric,
                _fmt(f.value, f.unit),
                _fmt(f.baseline, f.unit),
                _fmt(f.ratio),
                f.goal,
                _verdict(f.met),
            ]
            for f in self.figures
        ]
        header = ["metric", "value", "baseline", "ratio", "goal", ""]
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        lines = [f"== {self.name}: {self.title}", f"   ({params})", table(header, rows)]
        lines += [f"   * {n}" for n in self.notes]
        if self.phases:
            lines.append(
                "   phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.phases.items())
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met, "machine": machine()}

    def emit(self, directory: Path = RESULTS_DIR) -> Path:
        print(self.render(), flush=True)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.name}.json"
        path.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")
        return path
