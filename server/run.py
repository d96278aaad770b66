"""Run the API with uvicorn: one process, or ``workers`` processes on one socket."""

from __future__ import annotations

import logging
import os
import signal
import socket
from pathlib import Path

import psycopg
import uvicorn
from uvicorn.supervisors import Multiprocess

from protocol import InvalidInput

from .db import redact
from .embedded import check_data_dir, open_database
from .migrate import apply_migrations
from .settings import (
    DATABASE_URL_ENV,
    POOL_MAX_DEFAULT,
    POOL_MAX_ENV,
    setup_logging,
    uvicorn_log_config,
)

log = logging.getLogger("pipetrack.server")


def run(
    host: str,
    port: int,
    database_url: str | None,
    data_dir: Path,
    workers: int = 1,
    access_log: bool = True,
    db_connections: int = POOL_MAX_DEFAULT,
) -> None:
    """Serve until interrupted. Every worker applies migrations at start (advisory
    lock): InvalidInput (exit 2), from here before any worker starts, for a database
    that is not pipetrack's or holds a newer schema (:func:`migrate.apply_migrations`).
    The embedded PostgreSQL used here is stopped on exit unless another process holds
    it. ``access_log``: a log line per request. ``db_connections``: the pool's size in
    each worker (each also holds one LISTEN connection)."""
    setup_logging()
    if not database_url:
        check_data_dir(data_dir, create=True)  # a bad one: exit 2 before anything else
    check_port(host, port)
    # uvicorn re-raises SIGTERM after its graceful shutdown; make that an exit that
    # unwinds (so an embedded PostgreSQL is stopped) instead of an abrupt death.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # A hang-up (the terminal closed, an ssh session dropped) stops it the same way: by
    # default it killed the process on the spot, the embedded PostgreSQL left running.
    signal.signal(signal.SIGHUP, _hang_up)
    with open_database(database_url, data_dir) as url:
        # Here first, so a database that cannot be used is one line from the command
        # (inside uvicorn's start-up it was a traceback and exit 3); then a no-op in
        # each worker.
        check_connections(url, workers, db_connections, embedded=not database_url)
        apply_migrations(url)
        os.environ[DATABASE_URL_ENV] = url  # read by each worker's app factory
        os.environ[POOL_MAX_ENV] = str(db_connections)
        kind = "given" if database_url else "embedded"
        log.info(
            "pipetrack server on http://%s:%d (%d worker%s, up to %d database connections"
            " each + 1 to listen), %s database %s",
            f"[{host}]" if ":" in host else host,  # an IPv6 address, as a URL writes it
            port,
            workers,
            "" if workers == 1 else "s",
            db_connections,
            kind,
            redact(url),
        )
        options = dict(
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=uvicorn_log_config(access_log),
            access_log=access_log,
            timeout_graceful_shutdown=5,
        )
        if workers == 1:
            uvicorn.run("server.app:app_from_env", **options)
        else:  # as uvicorn.run does, with a supervisor that stops on a hang-up
            config = uvicorn.Config("server.app:app_from_env", **options)
            _Workers(config, sockets=[config.bind_socket()]).run()


#: Connections left for admin commands (and a psql) when --workers × (--db-connections +
#: 1) is compared with the database's max_connections.
ADMIN_ROOM = 5


def check_connections(url: str, workers: int, db_connections: int, *, embedded: bool) -> None:
    """Whether ``workers`` processes of ``db_connections`` + 1 connections each fit the
    database's ``max_connections`` (with :data:`ADMIN_ROOM` to spare): InvalidInput for
    the embedded PostgreSQL (nothing else uses it), a warning for a given database
    (other hosts share it; its limit may be raised)."""
    with psycopg.connect(url) as conn:
        (limit,) = conn.execute("SELECT current_setting('max_connections')::int").fetchone()
    need = workers * (db_connections + 1)
    if need <= limit - ADMIN_ROOM:
        return
    room = limit - ADMIN_ROOM
    fits = []  # each keeps the other option as given
    if room // workers - 1 >= 2:
        fits.append(f"--db-connections {room // workers - 1} or fewer")
    if room // (db_connections + 1) >= 1:
        fits.append(f"--workers {room // (db_connections + 1)} or fewer")
    lower = ", or ".join(fits) or f"--workers {room // 3} or fewer with --db-connections 2"
    said = (
        f"--workers {workers} × (--db-connections {db_connections} + 1) = {need} connections,"
        f" more than the {'embedded ' if embedded else ''}PostgreSQL's max_connections"
        f" {limit} with {ADMIN_ROOM} left for admin commands: give {lower}"
    )
    if embedded:
        raise InvalidInput("db_connections", said)
    log.warning("%s (or raise max_connections)", said)


def check_port(host: str, port: int) -> None:
    """OSError saying so when ``host:port`` cannot be listened on (another server has
    it, or the address is not this machine's): before an embedded PostgreSQL starts,
    instead of uvicorn's log line after it and exit 3. Bound as uvicorn binds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise OSError(err.errno, f"cannot listen on {host}:{port}: {err.strerror}") from None


def _exit_on_signal(signum, frame) -> None:
    raise SystemExit(0)


def _hang_up(signum, frame) -> None:
    """SIGHUP: stop as on SIGTERM (uvicorn's graceful shutdown when it runs, then
    :func:`_exit_on_signal`)."""
    log.info("hang-up (SIGHUP: the terminal closed?): stopping")
    signal.raise_signal(signal.SIGTERM)


class _Workers(Multiprocess):
    """uvicorn's supervisor of ``--workers`` processes, but SIGHUP stops it as SIGTERM
    does (uvicorn's restarts the workers: the server outlived its terminal, and its
    embedded PostgreSQL with it)."""

    def handle_hup(self) -> None:
        log.info("hang-up (SIGHUP: the terminal closed?): stopping")
        self.should_exit.set()
