"""The world a benchmark runs in: embedded PostgreSQL, API servers, profiles, daemons.

One embedded PostgreSQL (``tests.support.pg.PgCluster``) serves the whole bench run;
each benchmark gets fresh databases in it. Everything a benchmark starts (servers,
daemons, temp directories) is registered on its :class:`Env` and stopped when the
benchmark ends, also on error::

    with Env(cluster, "push") as env:
        url = env.database()
        srv = env.server(url)
        home = env.profile("a", srv, env.token(srv, "alice"))
        env.sync_once(home)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from storage.profile import Profile
from tests.support.pg import PgCluster
from tests.support.server import ServerProcess

from .harness import PeakRss, now

PIPETRACK = [sys.executable, "-m", "pipetrack"]
#: Daemons in benchmarks retry quickly (the default backoff cap is 60 s).
DAEMON_ENV = {"PIPETRACK_SYNC_BACKOFF_MAX": "2"}


class Cluster:
    """The run's PostgreSQL, started on first use."""

    def __init__(self) -> None:
        self._pg: PgCluster | None = None

    @property
    def pg(self) -> PgCluster:
        if self._pg is None:
            self._pg = PgCluster.start()
        return self._pg

    def database(self) -> str:
        return self.pg.create_database()

    def drop(self, url: str) -> None:
        self.pg.drop_database(url)

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
            self._pg = None


@dataclass
class Run:
    """One ``pipetrack sync --once``: when it started (``harness.now()``), how long it ran,
    whether it finished before its time limit (else it was killed), its peak RSS."""

    started: float
    seconds: float
    finished: bool
    peak_rss_mb: float
    log: str


class Daemon:
    """``pipetrack --home H sync`` in the background (its own session, killed as a group)."""

    def __init__(self, home: Path, log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*PIPETRACK, "--home", str(home), "sync"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **DAEMON_ENV},
                start_new_session=True,
            )

    def wait_log(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log_path.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daemon never logged {text!r}:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


class Env:
    """Everything one benchmark starts; :meth:`close` (or ``with``) ends all of it."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.root = Path(tempfile.mkdtemp(prefix=f"pipetrack-bench-{name}-"))
        self._stack = ExitStack()
        self._stack.callback(shutil.rmtree, self.root, ignore_errors=True)

    def __enter__(self) -> Env:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    # ---- central side ------------------------------------------------------------------
    def database(self) -> str:
        """A fresh empty database, dropped when the benchmark ends."""
        url = self.cluster.database()
        self._stack.callback(self.cluster.drop, url)
        return url

    def server(self, database_url: str) -> ServerProcess:
        """A started ``pipetrack serve`` process on a free loopback port."""
        srv = ServerProcess(database_url)
        self._stack.callback(srv.log_path.unlink, missing_ok=True)
        self._stack.callback(srv.stop)
        srv.start(timeout=60)
        return srv

    def token(self, srv: ServerProcess, user: str) -> str:
        return srv.add_user(user)

    # ---- devices ------------------------------------------------------------------------
    def home(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(mode=0o700)
        return path

    def profile(self, name: str, srv: ServerProcess, token: str) -> Path:
        """A profile logged in to ``srv``: what ``pipetrack login`` saves once the server
        accepted the token (written directly: a login process per device costs seconds)."""
        home = self.home(name)
        profile = Profile(home)
        profile.save_server(srv.url)
        profile.save_token(token)
        return home

    def daemon(self, home: Path) -> Daemon:
        daemon = Daemon(home, self.root / f"{home.name}-daemon.log")
        self._stack.callback(daemon.stop)
        return daemon

    def sync_once(
        self, home: Path, limit: float = 900.0, until: Callable[[], bool] | None = None
    ) -> Run:
        """``pipetrack sync --once``, timed, with the peak RSS of the process; killed
        after ``limit`` seconds (``finished`` False), or as soon as ``until()`` holds
        (checked every 0.2 s; ``finished`` True). A failure raises."""
        log_path = self.root / f"{home.name}-once.log"
        with open(log_path, "wb") as log:
            started = now()
            proc = subprocess.Popen(
                [*PIPETRACK, "--home", str(home), "sync", "--once"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **DAEMON_ENV},
                start_new_session=True,
            )
            try:
                with PeakRss(proc.pid) as peak:
                    code = _wait(proc, now() + limit, until)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
            seconds = now() - started
        text = log_path.read_text(errors="replace")
        if code not in (0, None):
            raise RuntimeError(f"pipetrack sync --once exited {code}:\n{text[-3000:]}")
        return Run(started, seconds, code == 0, peak.peak_mb, text)


def _wait(proc: subprocess.Popen, deadline: float, until: Callable[[], bool] | None) -> int | None:
    """The exit code; 0 when ``until()`` held first; None at the deadline."""
    while now() < deadline:
        with contextlib.suppress(subprocess.TimeoutExpired):
            return proc.wait(min(0.2, max(deadline - now(), 0.01)))
        if until is not None and until():
            return 0
    return None
