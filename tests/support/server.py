"""``ServerProcess``: a real API server (``pipetrack serve``, uvicorn) for tests.

::

    with ServerProcess(database_url) as srv:      # started, /healthz answered 200
        token = srv.add_user("alice")
        httpx.get(f"{srv.url}/v1/pull", headers={"Authorization": f"Bearer {token}"})
        srv.kill()                                 # SIGKILL (crash); srv.start() again
        srv.restart()                              # graceful stop + start, same port

Its output goes to a log file (``srv.log_text()``; in ``log_dir`` if given, else a
temporary file removed when the ``with`` block ends), shown when start-up fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from server.migrate import apply_migrations
from server.users import add_user

#: One TLS context for every test HTTP client: httpx builds (and loads CA certificates
#: into) a new one per client otherwise, ~50 ms of CPU each, even for http:// URLs.
TLS = ssl.create_default_context()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A ``pipetrack serve --database-url ...`` process on 127.0.0.1 (or, with
    ``database_url=None``, ``--data-dir data_dir``: its own embedded PostgreSQL)."""

    def __init__(
        self,
        database_url: str | None,
        port: int | None = None,
        workers: int = 1,
        data_dir: Path | None = None,
        log_dir: Path | None = None,
        options: Sequence[str] = (),
    ) -> None:
        if database_url is None and data_dir is None:
            raise ValueError("a database_url or a data_dir is needed")
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = port or free_port()
        self.workers = workers
        self.options = list(options)  # more of ``serve``'s options
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen | None = None
        # the log stays in log_dir (e.g. a pytest tmp dir); a temporary one is removed
        # when the ``with`` block ends
        fd, name = tempfile.mkstemp(prefix="pipetrack-server-", suffix=".log", dir=log_dir)
        os.close(fd)
        self.log_path = Path(name)
        self._own_log = log_dir is None
        self._http: httpx.Client | None = None  # for /healthz polls (one client: cheap)

    # -- life cycle -------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Start the process and wait until ``/healthz`` answers 200."""
        self.launch()
        self.wait_healthy(timeout)
        return self

    def launch(self) -> None:
        """Start the process without waiting (then :meth:`wait_healthy`), e.g. to start
        several servers at once."""
        cmd = [
            sys.executable,
            "-m",
            "pipetrack.server_cmd",  # the serve command alone (not the whole pipetrack CLI)
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        if self.database_url is not None:
            cmd += ["--database-url", self.database_url]
        else:
            cmd += ["--data-dir", str(self.data_dir)]
        cmd += self.options
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                raise RuntimeError(f"server exited at start-up:\n{self.log_text()[-4000:]}")
            if self.health() == 200:
                return
            time.sleep(0.05)
        raise TimeoutError(f"server not healthy after {timeout}s:\n{self.log_text()[-4000:]}")

    def health(self) -> int | None:
        """Status code of ``GET /healthz``; None when nothing answers."""
        if self._http is None:
            self._http = httpx.Client(timeout=5, verify=TLS)
        try:
            return self._http.get(f"{self.url}/healthz").status_code
        except httpx.TransportError:
            return None

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM), SIGKILL of the whole process group if it hangs."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout)
        self._kill_group()

    def kill(self) -> None:
        """SIGKILL the server and its workers at once: a crash, no clean-up."""
        self._kill_group()

    def restart(self, timeout: float = 30.0) -> None:
        """Stop gracefully and start again on the same port."""
        self.stop()
        self.start(timeout)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _kill_group(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait(10)
        self._proc = None

    def __enter__(self) -> ServerProcess:
        return self.start() if self._proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._http is not None:
            self._http.close()
        if self._own_log:
            self.log_path.unlink(missing_ok=True)

    # -- helpers --------------------------------------------------------------------------
    def add_user(self, name: str) -> str:
        """Create a user in the server's database (migrating it first); returns its token."""
        if self.database_url is None:
            raise RuntimeError("add_user needs a database_url; use `pipetrack admin add-user`")
        apply_migrations(self.database_url)
        return add_user(self.database_url, name)

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")
