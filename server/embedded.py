"""The embedded PostgreSQL (pgserver) used when no database URL is given.

pgserver keeps one PostgreSQL per data directory and counts the processes that hold
it (their pids in ``pgdata/.handle_pids.json``, so ``pipetrack admin`` can share the one
a running ``pipetrack serve`` started); the last holder to close stops it: the
PostgreSQL running in it then, whoever started it (:meth:`EmbeddedPostgres.close`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil

from protocol import InvalidInput

with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    import pgserver
    from pgserver._commands import pg_ctl
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

log = logging.getLogger("pipetrack.server")

_HANDLES = ".handle_pids.json"


class EmbeddedError(Exception):
    """The embedded PostgreSQL cannot start; the reason in one line (its log's last
    FATAL line when it has one)."""


def no_server_data(data_dir: Path) -> InvalidInput:
    return InvalidInput(
        "data_dir",
        f"no pipetrack server data in {data_dir} (give the --data-dir `pipetrack serve`"
        " uses, or --database-url)",
    )


def check_data_dir(data_dir: Path, *, create: bool) -> Path:
    """``data_dir`` resolved, or InvalidInput (before anything is touched) when it is a
    PostgreSQL data directory itself (the server's ``pgdata``, an easy slip: initdb in
    it would nest a cluster in the live one), not a directory, or, unless ``create``,
    holds no server database yet."""
    data_dir = Path(data_dir).expanduser().resolve()
    if (data_dir / "PG_VERSION").exists():
        if data_dir.name == "pgdata":
            instead = f"give the directory it is in: --data-dir {data_dir.parent}"
        else:
            instead = "give a directory of pipetrack's own (`pipetrack serve` makes pgdata/ in it)"
        raise InvalidInput("data_dir", f"{data_dir} is a PostgreSQL data directory; {instead}")
    if data_dir.exists() and not data_dir.is_dir():
        raise InvalidInput("data_dir", f"{data_dir} is not a directory")
    if not create and not (data_dir / "pgdata" / "PG_VERSION").is_file():
        raise no_server_data(data_dir)
    return data_dir


class EmbeddedPostgres:
    """PostgreSQL 16 in ``data_dir/pgdata``, listening on a unix socket only.

    ``create=False``: only one that exists (else InvalidInput, nothing made). One that
    cannot start raises :class:`EmbeddedError`."""

    def __init__(
        self, data_dir: Path, *, delete_on_close: bool = False, create: bool = True
    ) -> None:
        data_dir = check_data_dir(data_dir, create=create)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata = data_dir / "pgdata"
        _forget_dead_holders(self.pgdata)
        messages = _Messages()
        log_start = _size(self.pgdata / "log")
        pg_logger = logging.getLogger("pgserver")
        # its failures are PostgreSQL's whole log, dozens of lines: kept here for the
        # one line that says why, not printed
        pg_logger.addHandler(messages)
        pg_logger.propagate = False
        self._delete_on_close = delete_on_close
        try:
            self._server = pgserver.get_server(
                self.pgdata, cleanup_mode="delete" if delete_on_close else "stop"
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            raise EmbeddedError(self._why(err, log_start, messages.lines)) from None
        finally:
            pg_logger.removeHandler(messages)
            pg_logger.propagate = True
        self._socket_dir = self._server.get_postmaster_info().socket_dir

    def _why(self, err: Exception, log_start: int, logged: list[str]) -> str:
        """One line: the last FATAL line PostgreSQL logged in this attempt, else of what
        pgserver logged of the failed command (initdb's error), else the last line of
        PostgreSQL's log in this attempt (``postgres: could not access the server
        configuration file``...), else the command's exit and where the log is."""
        written = ""
        with contextlib.suppress(OSError), open(self.pgdata / "log", "rb") as log:
            log.seek(log_start)
            written = log.read().decode(errors="replace")
        said = (
            _last_line(written, "FATAL:")
            or _last_line("\n".join(logged), "FATAL:")
            or _last_line("\n".join(logged), "error:")
            or _last_line(written, "")
        )
        if not said:
            exit = "timed out" if isinstance(err, subprocess.TimeoutExpired) else str(err)
            said = f"{exit} (see {self.pgdata / 'log'})"
        return f"the embedded PostgreSQL in {self.pgdata} cannot start: {said}"

    def url(self, database: str = "postgres") -> str:
        return self._server.get_uri(database)

    def stop_postgres(self) -> None:
        """Stop PostgreSQL now (fast shutdown: clients are disconnected)."""
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)

    def start_postgres(self) -> None:
        """Start PostgreSQL again after :meth:`stop_postgres`, on the same socket."""
        args = ["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", str(self._server.log)]
        pg_ctl([*args, "start"], pgdata=self.pgdata, user=self._server.system_user, timeout=30)
        self._server._postmaster_info = PostmasterInfo.read_from_pgdata(self.pgdata)

    def close(self) -> None:
        """Let go of PostgreSQL; stops it when no other process holds it.

        What runs in ``pgdata`` is read now, not what this process found at its start:
        PostgreSQL may have been stopped and started again meanwhile (by an admin
        command, or by hand), and pgserver's own clean-up then found the first
        postmaster gone and left the new one running, held by no one."""
        server = self._server
        me = os.getpid()
        with PostgresServer._lock:
            # reopened in this process, it is held (counted) again
            PostgresServer._instances.pop(self.pgdata, None)
            holders = server.global_process_id_list.get_and_remove(me)
            if holders == [me]:
                postmaster = _running_postmaster(self.pgdata)
                if postmaster is not None:
                    self._stop(postmaster)
                if self._delete_on_close:
                    shutil.rmtree(self.pgdata, ignore_errors=True)
        atexit.unregister(server._cleanup)  # pgserver's, for a process that never closed

    def _stop(self, postmaster: psutil.Process) -> None:
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            log.warning("pg_ctl could not stop the embedded PostgreSQL in %s: killed", self.pgdata)
            with contextlib.suppress(psutil.Error):
                postmaster.send_signal(signal.SIGINT)  # a fast shutdown, as pg_ctl's
                postmaster.wait(5)
            with contextlib.suppress(psutil.Error):
                postmaster.kill()


class _Messages(logging.Handler):
    """pgserver's log records while it starts PostgreSQL (initdb's stderr is only there)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.lines.extend(record.getMessage().splitlines())


def _last_line(text: str, marker: str) -> str | None:
    """The last line holding ``marker`` and something after it, from it on (no time
    stamp), spaces collapsed; ``marker`` "": the last line that is not blank."""
    found = [
        " ".join(line[line.index(marker) :].split())
        for line in text.splitlines()
        if marker in line and line[line.index(marker) + len(marker) :].strip()
    ]
    return found[-1] if found else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _running_postmaster(pgdata: Path) -> psutil.Process | None:
    """The postmaster running in ``pgdata`` (its ``postmaster.pid``), else None: no such
    file, or its pid is not a live postgres (a killed one's file, the pid reused)."""
    with contextlib.suppress(psutil.Error, OSError, ValueError, AssertionError):
        info = PostmasterInfo.read_from_pgdata(pgdata)
        process = info.process if info is not None else None
        if (
            process is not None
            and process.is_running()
            and process.status() != psutil.STATUS_ZOMBIE
            and process.name() == "postgres"
        ):
            return process
    return None


def _forget_dead_holders(pgdata: Path) -> None:
    """Drop pids of processes that died holding the server (e.g. killed), so the last
    live holder still stops it."""
    path = pgdata / _HANDLES
    with PostgresServer._lock, contextlib.suppress(FileNotFoundError, ValueError):
        pids = json.loads(path.read_text())
        alive = [p for p in pids if psutil.pid_exists(p)]
        if alive != pids:
            path.write_text(json.dumps(alive))


@contextlib.contextmanager
def open_database(
    database_url: str | None, data_dir: Path, *, create: bool = True
) -> Iterator[str]:
    """The given URL, or an embedded PostgreSQL in ``data_dir`` (closed on exit);
    ``create=False`` (admin commands): never a new one, InvalidInput instead."""
    if database_url:
        yield database_url
        return
    embedded = EmbeddedPostgres(data_dir, create=create)
    log.info("embedded PostgreSQL in %s", embedded.pgdata)
    try:
        yield embedded.url()
    finally:
        embedded.close()
