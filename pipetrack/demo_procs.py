"""The demo's background processes: the API server and the sync daemon.

Each runs in its own session, so Ctrl-C in the terminal reaches only ``pipetrack demo``,
which then stops them together with :func:`stop_all`: SIGTERM, a second signal, a wait,
SIGKILL of the process group if one hangs. On Linux a child also gets SIGTERM if
the demo itself dies without cleaning up (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

_PR_SET_PDEATHSIG = 1


def pipetrack_args(*args: str) -> list[str]:
    """The command line running ``pipetrack ARGS`` with this Python."""
    return [sys.executable, "-m", "pipetrack", *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One background process, its output appended to ``log_path``."""

    def __init__(self, name: str, args: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_path
        self.url = ""  # where it answers, for a server
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def failure(self) -> str:
        """Why it stopped: exit code and the end of its log."""
        tail = self.log_path.read_text(errors="replace").splitlines()[-15:]
        return f"{self.name} exited with code {self.proc.returncode}:\n" + "\n".join(tail)

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``ready`` until it is true: RuntimeError if the process exits first,
        TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.running():
                raise RuntimeError(self.failure())
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not {what} after {timeout:.0f} s")
            time.sleep(0.05)

    def send(self, sig: int) -> None:
        if self.running():
            self.proc.send_signal(sig)

    def reap(self, deadline: float) -> None:
        """Wait for the exit until ``deadline`` (monotonic); then SIGKILL the whole process
        group (a hang, or workers left behind)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


def stop_all(children: list[Child], grace: float = 1.0, timeout: float = 10.0) -> None:
    """Stop ``children`` together: SIGTERM to each; after ``grace`` seconds SIGINT to
    those still running (uvicorn's second signal: stop waiting for open long-polls);
    SIGKILL after ``timeout``."""
    deadline = time.monotonic() + timeout
    for child in children:
        child.send(signal.SIGTERM)
    until = time.monotonic() + grace
    while any(c.running() for c in children) and time.monotonic() < until:
        time.sleep(0.05)
    for child in children:
        child.send(signal.SIGINT)
    for child in children:
        child.reap(deadline)


def healthy(url: str) -> bool:
    """``GET url/healthz`` answers 200."""
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
