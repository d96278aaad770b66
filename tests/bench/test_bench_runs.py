"""``make bench-quick`` runs end to end: every benchmark measures, states each figure
against its baseline, writes its JSON, and the tables print again from the JSON.

The bench is not part of ``make test`` (its figures need a quiet machine), but it calls
into the store, the daemon and the server: this keeps it from rotting between runs.
Only that it ran and what it wrote are checked here, never a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS

ROOT = Path(__file__).resolve().parents[2]
#: The benchmarks whose goals are stated against a baseline of the same run.
WITH_BASELINE = {"push", "catchup", "commit", "tui", "backlog"}


def bench(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    results = tmp_path_factory.mktemp("bench-results")
    run = bench("--quick", "--results", str(results))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return results, run.stdout


def test_every_benchmark_runs_and_writes_its_json(quick_run: tuple[Path, str]) -> None:
    results, out = quick_run
    summary = json.loads((results / "summary.json").read_text())
    assert summary["quick"] is True
    assert list(summary["benchmarks"]) == list(BENCHMARKS)
    for name in BENCHMARKS:
        report = json.loads((results / f"{name}.json").read_text())
        assert report["figures"] == summary["benchmarks"][name]["figures"], name
        assert report["figures"], f"{name} measured nothing"
        assert f"== {name}: " in out
    assert "total" in out.splitlines()[-1] and "(quick run)" in out.splitlines()[-1]


def test_each_ratio_is_its_figure_against_the_baseline_of_the_same_run(
    quick_run: tuple[Path, str],
) -> None:
    results, _ = quick_run
    for name in BENCHMARKS:
        report = json.loads((results / f"{name}.json").read_text())
        goals = [f for f in report["figures"] if f["met"] is not None]
        assert goals, f"{name} states no goal"
        assert report["met"] == all(f["met"] for f in goals)
        for fig in report["figures"]:
            if fig["baseline"] is None:
                continue
            value, baseline, ratio = fig["value"], fig["baseline"], fig["ratio"]
            assert value > 0 and baseline > 0, (name, fig)
            # "fraction of the limit" figures are baseline/value, the others value/baseline
            assert min(abs(ratio - value / baseline), abs(ratio - baseline / value)) <= (
                1e-6 * max(ratio, 1)
            ), (name, fig)
        if name in WITH_BASELINE:
            assert any(f["met"] is not None and f["baseline"] for f in report["figures"]), name


def test_the_tables_print_again_from_the_json(quick_run: tuple[Path, str]) -> None:
    results, _ = quick_run
    run = subprocess.run(
        [sys.executable, "-m", "bench.markdown", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for name in BENCHMARKS:
        assert f"**{name}**" in run.stdout
    assert "| metric | value | baseline | ratio | goal | |" in run.stdout


def test_an_unknown_benchmark_is_refused_before_anything_starts(tmp_path: Path) -> None:
    run = bench("--only", "push,pusj", "--results", str(tmp_path), timeout=60)
    assert run.returncode == 2
    assert "unknown benchmark pusj" in run.stderr
    assert not list(tmp_path.iterdir())


def test_the_commit_benchmark_counts_the_pages_each_commit_writes(
    quick_run: tuple[Path, str],
) -> None:
    results, _ = quick_run
    report = json.loads((results / "commit.json").read_text())
    pages = {f["metric"]: f["value"] for f in report["figures"] if "WAL pages" in f["metric"]}
    assert 0.9 <= pages["WAL pages per commit, bare"] <= 1.2  # its row's leaf page
    assert 10 <= pages["WAL pages per commit"] <= 40  # a target's row, indexes, audit, outbox


def test_the_push_benchmark_measures_its_parts_against_the_same_limit(
    quick_run: tuple[Path, str],
) -> None:
    """What bounds the push: the command's start, the same pushes without it, the API
    alone (each part checked, inside the bench, to have written every audit row)."""
    results, _ = quick_run
    report = json.loads((results / "push.json").read_text())
    figures = {f["metric"]: f for f in report["figures"]}
    limit = figures["all committed"]["baseline"]
    for part in (
        "sync --once with nothing to do",
        "the same pushes in a warm process (no process start)",
        "the API alone: the same bodies, 2 warm clients",
    ):
        assert figures[part]["baseline"] == limit, part
        assert figures[part]["value"] > 0, part
