"""The running demo: embedded PostgreSQL, the API server, the sync daemon.

:meth:`System.close` (or leaving a ``with System(dirs):`` block) stops everything
started, whatever happened in between: the daemon and the server together, then
PostgreSQL.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime
from functools import partial

from server.embedded import EmbeddedPostgres
from server.settings import DATABASE_URL_ENV
from storage import Store
from storage.profile import Profile
from syncd import ProfileLock, Settings, run_once

from .demo_dirs import DemoDirs
from .demo_procs import Child, free_port, healthy, pipetrack_args, stop_all

SERVER_START_S = 60.0
SERVER_PORT_TRIES = 3
DAEMON_FIRST_SYNC_S = 20.0


class System:
    def __init__(self, dirs: DemoDirs) -> None:
        self.dirs = dirs
        self.children: list[Child] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> System:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stack.close()

    def start_postgres(self) -> str:
        """PostgreSQL in ``dirs.postgres``; its URL (a unix socket, no TCP port)."""
        embedded = EmbeddedPostgres(self.dirs.postgres)
        self._stack.callback(embedded.close)  # stops it: nobody else holds it
        return embedded.url()

    def launch_server(self, database_url: str, port: int | None) -> None:
        """Start ``pipetrack serve`` on 127.0.0.1 (on a free port unless ``port`` is
        given); :meth:`wait_server` waits for it."""
        self._server_env = {DATABASE_URL_ENV: database_url}  # ps would show an argument
        self._fixed_port = port
        self._server = self._child(self._serve(port or free_port()))

    def _serve(self, port: int) -> Child:
        args = pipetrack_args("serve", "--host", "127.0.0.1", "--port", str(port))
        child = Child("the API server", args, self.dirs.server_log, self._server_env)
        child.url = f"http://127.0.0.1:{port}"
        return child

    def wait_server(self) -> str:
        """The server's URL once it answers. A free port taken by someone else in the
        meantime means another free port (a few times)."""
        for _ in range(SERVER_PORT_TRIES):
            server = self._server
            try:
                server.wait_until(partial(healthy, server.url), SERVER_START_S, "answering")
                return server.url
            except RuntimeError:
                in_use = "address already in use" in server.failure().lower()
                if self._fixed_port or not in_use:
                    raise
            self.children.remove(server)
            self._server = self._child(self._serve(free_port()))
        raise RuntimeError(f"no free port for the API server after {SERVER_PORT_TRIES} tries")

    def start_daemon(self, profile: Profile) -> Child:
        """``pipetrack --home P sync`` logging to the profile's sync.log; returns once its
        first sync is recorded (or after a while: it may still be retrying)."""
        started = datetime.now().astimezone()
        args = pipetrack_args("--home", str(profile.home), "sync")
        daemon = self._child(Child("the sync daemon", args, self.dirs.sync_log, {}))

        def synced() -> bool:
            last = store.sync_state().last_sync_at
            return last is not None and last >= started

        with Store.open(profile.db_path) as store, contextlib.suppress(TimeoutError):
            daemon.wait_until(synced, DAEMON_FIRST_SYNC_S, "synced")
        return daemon

    def _child(self, child: Child) -> Child:
        if not self.children:  # one stop for all of them, before PostgreSQL's
            self._stack.callback(stop_all, self.children)
        self.children.append(child)
        return child

    def watch(self) -> None:
        """Sleep while every child runs; RuntimeError naming the first that stopped."""
        while True:
            for child in self.children:
                if not child.running():
                    raise RuntimeError(child.failure())
            time.sleep(0.5)


def sync_once(profile: Profile) -> None:
    """What ``pipetrack --home P sync --once`` does, in this process."""
    config = profile.load_config()
    with (
        ProfileLock(profile.home),
        Store.open(profile.db_path, thresholds=config.thresholds) as store,
    ):
        code = run_once(store, Settings.from_env(config.server or ""), profile.read_token)
    if code:
        raise RuntimeError(f"the demo profile could not sync with {config.server}")
