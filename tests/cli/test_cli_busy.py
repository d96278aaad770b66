"""A command that waits for the profile's file (another pipetrack process writes it: a
large import) says so after a second, then goes on when the file is free. It sat
silent for up to 30 s before, then failed, so a user took it for hung."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import apsw

from storage import Store

from .conftest import SCRIPT, Cli


def test_a_command_waiting_for_the_file_says_so_and_then_saves(cli: Cli, home: Path) -> None:
    cli("add", "Busy Co", "--status", "Cold")
    holder = apsw.Connection(str(home / "pipetrack.db"))
    holder.execute("BEGIN IMMEDIATE")  # as an import's one transaction holds it
    release = threading.Timer(2.5, lambda: holder.execute("COMMIT"))
    started = time.monotonic()
    release.start()
    try:
        run = subprocess.run(
            [str(SCRIPT), "set", "Busy Co", "Hot"], capture_output=True, text=True, timeout=60
        )
    finally:
        release.join()
        holder.close()
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started >= 2.5
    [line] = run.stderr.strip().splitlines()
    assert line == (
        f"{home / 'pipetrack.db'} is in use by another pipetrack process (a large import?):"
        " waiting up to 30 s…"
    )
    with Store.open(home / "pipetrack.db") as store:
        assert store.resolve("Busy Co").status == "Hot"
