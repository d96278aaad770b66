"""Devices for the sync tests: a profile directory each, driven through the real
``pipetrack`` console script in subprocesses, checked through :class:`storage.Store`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg

from protocol.wire import HistoryResponse
from storage import Store
from storage.profile import Profile

SCRIPT = Path(sys.executable).parent / "pipetrack"
#: Short backoff so tests see retries quickly (the default cap is 60 s).
TEST_ENV = {"PIPETRACK_SYNC_BACKOFF_MAX": "2"}

T = TypeVar("T")


def wait_until(
    check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(interval)


class DaemonProcess:
    """``pipetrack --home X sync`` running in the background, logging to a file."""

    def __init__(self, device: Device, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.log_path = device.home.parent / f"{device.name}-daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(SCRIPT), "--home", str(device.home), "sync", *args],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_log(self, pattern: str, timeout: float = 15.0, count: int = 1) -> list[str]:
        """Wait until ``pattern`` (a regex) matched ``count`` log lines; those lines."""

        def found() -> list[str] | None:
            assert self.proc.poll() is None or count == 0, f"daemon exited:\n{self.log()}"
            lines = [line for line in self.log().splitlines() if re.search(pattern, line)]
            return lines if len(lines) >= count else None

        return wait_until(found, timeout, what=f"{count} x {pattern!r} in the daemon log")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def terminate(self, timeout: float = 10.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._log.close()
        return code

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self._log.close()


@dataclass
class Device:
    """One field laptop: a profile directory (pipetrack.db, config.toml, token)."""

    name: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)
    daemons: list[DaemonProcess] = field(default_factory=list)

    @property
    def profile(self) -> Profile:
        return Profile(self.home)

    def connect(self, url: str, token: str) -> None:
        """What ``pipetrack login`` saves, without asking the server."""
        self.profile.save_server(url)
        self.profile.save_token(token)

    @contextmanager
    def store(self) -> Iterator[Store]:
        self.profile.ensure()
        store = Store.open(self.profile.db_path)
        try:
            yield store
        finally:
            store.close()

    def environ(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIPETRACK_")}
        return {**env, **TEST_ENV, **self.env, **(extra or {})}

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 120, **extra: str
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(SCRIPT), "--home", str(self.home), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.environ(extra),
        )

    def sync_once(self) -> subprocess.CompletedProcess:
        result = self.run("sync", "--once")
        assert result.returncode == 0, f"sync --once on {self.name} failed:\n{result.stderr}"
        return result

    def start_daemon(self, *args: str, **extra: str) -> DaemonProcess:
        daemon = DaemonProcess(self, args, self.environ(extra))
        self.daemons.append(daemon)
        return daemon

    # ---- reading the store ------------------------------------------------------------
    def status_of(self, uid: str) -> str | None:
        with self.store() as store:
            return store.get(uid).status

    def history_of(self, uid: str) -> list[tuple[str, str | None]]:
        with self.store() as store:
            return [(h.change_id, h.new_status) for h in store.history(uid)]

    def pending(self) -> int:
        with self.store() as store:
            return store.sync_state().pending

    def online(self) -> bool:
        """Its daemon has reached the server (the state it recorded says online)."""
        with self.store() as store:
            return store.sync_state().online


# ---- the server's side ------------------------------------------------------------------
def audit_change_ids(database_url: str, device_id: str | None = None) -> list[str]:
    """Change ids of the server's audit rows (of one device), in the order recorded."""
    query = "SELECT change_id::text FROM audit_log"
    params: tuple[str, ...] = ()
    if device_id is not None:
        query += " WHERE device_id = %s"
        params = (device_id,)
    with psycopg.connect(database_url) as conn:
        return [row[0] for row in conn.execute(query + " ORDER BY id", params)]


def server_history(url: str, token: str, uid: str) -> HistoryResponse:
    response = httpx.get(
        f"{url}/v1/targets/{uid}/history", headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return HistoryResponse.model_validate_json(response.content)
