"""The installed pipetrack's version, which both sides report (``pipetrack --version``,
the server's ``/healthz``)."""

from __future__ import annotations


def installed_version() -> str:
    # imported here: importlib.metadata costs every command ~15 ms of start-up (it brings
    # email and zipfile), and only --version and the server ask
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pipetrack")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
