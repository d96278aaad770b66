"""``pipetrack demo`` as a real process for the tests: its output, its processes."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import psutil
from typer.testing import CliRunner, Result

from pipetrack.cli import app
from tests.sync.synchelp import SCRIPT, wait_until

#: Generous: the setup (initdb, server start, seeding, two syncs) on a busy machine.
READY_S = 120.0


class DemoProcess:
    """``pipetrack demo ARGS`` with its output collected line by line."""

    def __init__(self, data: Path, *args: str) -> None:
        self.data = data
        self.home = data.with_name(data.name + "-profile")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRACK_")}
        self.proc = subprocess.Popen(
            [str(SCRIPT), "demo", "--data-dir", str(data), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self) -> str:
        """The ``ready:`` line; fails when the demo exits before it."""

        def ready() -> str | None:
            found = [line for line in self.lines if line.startswith("ready:")]
            assert found or self.proc.poll() is None, f"the demo exited:\n{self.output}"
            return found[0] if found else None

        return wait_until(ready, READY_S, 0.1, "the demo's ready line")

    def wait_exit(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def processes(self) -> list[psutil.Process]:
        """Every process the demo started: its children (server, its workers, daemon)
        and the PostgreSQL postmaster."""
        found = psutil.Process(self.proc.pid).children(recursive=True)
        postmaster = self.data / "postgres" / "pgdata" / "postmaster.pid"
        found.append(psutil.Process(int(postmaster.read_text().split()[0])))
        return found

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.wait_exit()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def cli(self, *args: str, home: Path | None = None) -> Result:
        """``pipetrack --home HOME ARGS`` in this process (the demo profile unless told)."""
        return run_cli("--home", str(home or self.home), *args)

    def json(self, *args: str) -> Any:
        done = self.cli(*args, "--json")
        assert done.exit_code == 0, done.output
        return json.loads(done.stdout)


def run_cli(*args: str) -> Result:
    """The ``pipetrack`` app in-process (no interpreter start); the logging set up by
    ``sync`` is put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
