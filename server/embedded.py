"""The embedded PostgreSQL (pgserver) used when no database URL is given.

pgserver keeps one PostgreSQL per data directory and counts the processes that hold
it (so ``pipetrack admin`` can share the one a running ``pipetrack serve`` started);
the last holder to close stops it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil

with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    import pgserver
    from pgserver._commands import pg_ctl
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

log = logging.getLogger("pipetrack.server")

_HANDLES = ".handle_pids.json"


class EmbeddedPostgres:
    """PostgreSQL 16 in ``data_dir/pgdata``, listening on a unix socket only."""

    def __init__(self, data_dir: Path, *, delete_on_close: bool = False) -> None:
        data_dir = Path(data_dir).expanduser().resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata = data_dir / "pgdata"
        _forget_dead_holders(self.pgdata)
        self._server = pgserver.get_server(
            self.pgdata, cleanup_mode="delete" if delete_on_close else "stop"
        )
        self._socket_dir = self._server.get_postmaster_info().socket_dir

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
        """Let go of PostgreSQL; stops it when no other process holds it."""
        self._server.cleanup()


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
def open_database(database_url: str | None, data_dir: Path) -> Iterator[str]:
    """The given URL, or an embedded PostgreSQL in ``data_dir`` (closed on exit)."""
    if database_url:
        yield database_url
        return
    embedded = EmbeddedPostgres(data_dir)
    log.info("embedded PostgreSQL in %s", embedded.pgdata)
    try:
        yield embedded.url()
    finally:
        embedded.close()
