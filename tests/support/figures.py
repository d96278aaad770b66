"""The fault suite's figures: one line per test at the end of the session.

A plugin of the root conftest (not of ``tests/faults/conftest.py``) so that the hooks
run in pytest's main process also under xdist, where the reports of the workers
arrive. Tests attach their figures to ``user_properties`` under :data:`PROPERTY`.
"""

from __future__ import annotations

import os

import pytest

PROPERTY = "faults_figures"
#: The figures every line shows, in this order, even when a test did not set them.
HEADLINE = ("rounds", "changes", "lost", "duplicated", "server_errors")
_REPORTED: list[tuple[str, dict[str, object]]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for key, value in report.user_properties:
        if key == PROPERTY:
            _REPORTED.append((report.nodeid.split("::", 1)[-1], value))


def format_figures(name: str, found: dict[str, object]) -> str:
    keys = [k for k in HEADLINE] + [k for k in found if k not in HEADLINE]
    return f"{name}: " + " ".join(f"{k}={found.get(k, '-')}" for k in keys)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if not _REPORTED:
        return
    mode = "long" if os.environ.get("PIPETRACK_FAULTS", "").strip().lower() == "long" else "short"
    terminalreporter.section(f"fault suite figures ({mode} form)")
    for name, found in _REPORTED:
        terminalreporter.write_line(format_figures(name, found))
    if getattr(config, "cache", None) is not None:  # absent with -p no:cacheprovider
        config.cache.set(
            "faults/figures",
            {"mode": mode, "tests": [{"test": n, **f} for n, f in _REPORTED]},
        )
