"""The running demo: embedded PostgreSQL, the API server, the sync daemon.

:meth:`System.close` (or leaving a ``with System(dirs):`` block) stops everything
started, whatever happened in between: the daemon and the server together, then
PostgreSQL.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime

from server.embedded import EmbeddedPostgres
from server.settings import DATABASE_URL_ENV
from storage import Store
from storage.profile import Profile
from syncd import ProfileLock, Settings, run_once

from .demo_dirs import DemoDirs
from .demo_procs import Child, free_port, healthy, pipetrack_args, stop_all

SERVER_START_S = 60.0
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

    def launch_server(self, database_url: str, port: int | None) -> str:
        """``pipetrack serve`` on 127.0.0.1 (not waited for: :meth:`wait_server`); its URL."""
        port = port or free_port()
        args = pipetrack_args("serve", "--host", "127.0.0.1", "--port", str(port))
        env = {DATABASE_URL_ENV: database_url}  # not on the command line, where ps shows it
        self._child(Child("the API server", args, self.dirs.server_log, env))
        return f"http://127.0.0.1:{port}"

    def wait_server(self, url: str) -> None:
        self.children[0].wait_until(lambda: healthy(url), SERVER_START_S, "answering")

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
