"""The installed pipetrack's version, which both sides report (``pipetrack --version``,
the server's ``/healthz``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def installed_version() -> str:
    try:
        return version("pipetrack")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
