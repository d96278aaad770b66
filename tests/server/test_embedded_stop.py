"""``serve`` stops the embedded PostgreSQL it uses when it exits, even one (re)started
under it, unless another process still holds it. Real processes: the server, an admin
command, PostgreSQL stopped behind the server's back."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.server import ServerProcess

from .test_admin_cli import pipetrack

NO_URL = {"PIPETRACK_DATABASE_URL": ""}


def _postmaster(data_dir: Path) -> int | None:
    """The pid of the PostgreSQL running in ``data_dir/pgdata``, else None."""
    try:
        pid = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE or "postgres" not in process.name():
            return None
    except psutil.NoSuchProcess:
        return None
    return pid


def _wait_until(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {check.__doc__ or check}")


def _stop_postgres_behind_its_back(data_dir: Path) -> None:
    """A fast shutdown (SIGINT to the postmaster, as ``pg_ctl -m fast stop`` sends): not
    through pipetrack, so no process holding it hears of it."""
    pid = _postmaster(data_dir)
    assert pid
    os.kill(pid, signal.SIGINT)
    _wait_until(lambda: _postmaster(data_dir) is None)
    t = time.monotonic()
    _wait_until(lambda: not psutil.pid_exists(pid), 60)
    print("REAPED after", time.monotonic() - t)


def _restart_with_an_admin_command(data_dir: Path) -> int:
    """An admin command starts it again for the moment (and leaves it to the server)."""
    listed = pipetrack("admin", "list-users", "--data-dir", str(data_dir), env=NO_URL)
    assert listed.returncode == 0, listed.stderr
    pid = _postmaster(data_dir)
    assert pid, "the admin command left PostgreSQL stopped"
    return pid


def _stopped(server: ServerProcess) -> None:
    """SIGTERM, and its exit awaited (not ``stop()``: no SIGKILL of its process group
    after it, which could hide what it left running)."""
    server._proc.send_signal(signal.SIGTERM)
    assert server._proc.wait(30) == 0
    server._proc = None


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """The servers' data dir; a PostgreSQL a failed test left running in it is stopped.
    Not under pytest's tmp_path: as root, PostgreSQL runs as the pgserver user, and any
    pytest session starting meanwhile makes pytest's base dir the owner's alone again."""
    base = Path(tempfile.mkdtemp(prefix="pipetrack-stop-"))
    yield base / "srv"
    pid = _postmaster(base / "srv")
    if pid:
        os.kill(pid, signal.SIGINT)
        _wait_until(lambda: _postmaster(base / "srv") is None)
    shutil.rmtree(base, ignore_errors=True)


def test_serve_stops_a_postgres_restarted_while_it_ran(data_dir, tmp_path):
    """Before, the server kept the details of the PostgreSQL it had started and, at
    exit, found that one dead and stopped nothing: the one an admin command had
    started again kept running, held by no one."""
    with ServerProcess(None, data_dir=data_dir, log_dir=tmp_path) as srv:
        first = _postmaster(data_dir)
        _stop_postgres_behind_its_back(data_dir)
        assert _restart_with_an_admin_command(data_dir) != first
        srv.wait_healthy(30)  # the server uses the new one
        _stopped(srv)
    _wait_until(lambda: _postmaster(data_dir) is None)


def test_the_last_server_on_a_data_dir_stops_the_restarted_postgres(data_dir, tmp_path):
    """Two servers share one embedded PostgreSQL: after a restart under them, the first
    to stop leaves it to the other (still served), the last stops it."""
    with (
        ServerProcess(None, data_dir=data_dir, log_dir=tmp_path) as one,
        ServerProcess(None, data_dir=data_dir, log_dir=tmp_path) as two,
    ):
        _stop_postgres_behind_its_back(data_dir)
        again = _restart_with_an_admin_command(data_dir)
        one.wait_healthy(30)
        two.wait_healthy(30)
        _stopped(one)
        assert _postmaster(data_dir) == again
        assert two.health() == 200
        _stopped(two)
        _wait_until(lambda: _postmaster(data_dir) is None)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_hang_up_stops_serve_and_its_postgres(data_dir, tmp_path, workers):
    """SIGHUP (the terminal closed, an ssh session dropped) killed serve on the spot, the
    embedded PostgreSQL left running with nothing logged (with --workers, uvicorn
    restarted the workers instead). Now it stops as on SIGTERM."""
    with ServerProcess(None, data_dir=data_dir, log_dir=tmp_path, workers=workers) as srv:
        assert _postmaster(data_dir)
        srv._proc.send_signal(signal.SIGHUP)
        assert srv._proc.wait(30) == 0
        srv._proc = None
        assert "hang-up (SIGHUP" in srv.log_text()
    _wait_until(lambda: _postmaster(data_dir) is None)
