"""The sync daemon: a push loop and a pull loop, each in its own thread with its own
store connection (SQLite connections are not shared between threads).

- The push loop sleeps until a local write (a file event from :mod:`syncd.wake`, or a
  changed ``Store.data_version()`` when polling), then pushes everything pushable.
- The pull loop long-polls the server and applies what comes back at once; it never
  waits for the outbox.
- Transient failures back off (:mod:`syncd.retry`); when one loop gets through again it
  cuts the other's backoff short. A refused token pauses a loop until ``pipetrack
  login`` replaces the token file (or the backoff cap passes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from functools import partial
from pathlib import Path
from typing import TypeVar

from storage import Store, StoreError

from .client import ApiClient, ApiError, TokenSource, Transient, Unauthorized
from .identity import learn_user_name
from .interrupt import Interruptible
from .netwatch import NetworkWatch, interface_addresses
from .progress import progress_log
from .pull import Pulled, Puller, PullTally
from .push import Pusher
from .report import TOKEN_REFUSED, Failures, Reporter
from .retry import Backoff, Wakeable
from .settings import POLL_FALLBACK, POLL_SAFETY, SETTLE_S, SETTLE_STEP, Settings
from .wake import ProfileWatcher

log = logging.getLogger("syncd")

T = TypeVar("T")
StoreFactory = Callable[[], Store]

#: How often the profile's server is looked at besides at a login (a TOML read).
SERVER_CHECK_S = 5.0

#: How long a stop waits for the loops to finish what they are doing. An abandoned
#: request is a lost response, which the protocol makes safe; store writes are atomic.
JOIN_TIMEOUT = 1.5


class Daemon:
    def __init__(
        self,
        home: Path,
        open_store: StoreFactory,
        settings: Settings,
        token: TokenSource,
        addresses: Callable[[], Hashable] = interface_addresses,
        server: Callable[[], str | None] | None = None,
    ) -> None:
        self.home = home
        #: The server the profile names now (``pipetrack login`` may name another while
        #: this runs); :attr:`moved_to` says where, once :meth:`run` stopped for it.
        self.server = server
        self.moved_to: str | None = None
        self._server_seen_at = time.monotonic()
        self.open_store = open_store
        self.settings = settings
        self.token = token
        self.stopping = threading.Event()
        self.local_write = Wakeable()
        self.push_backoff = Wakeable()
        self.pull_backoff = Wakeable()
        self.poll = POLL_FALLBACK
        self.fatal: BaseException | None = None
        self.network = NetworkWatch(self._network_changed, addresses)
        self.requests = Interruptible()
        self.failures = Failures()  # the loops' failures: one's success keeps the other's

    def stop(self) -> None:
        """Ask both loops to finish (safe from a signal handler)."""
        self.stopping.set()
        for sleeper in (self.local_write, self.push_backoff, self.pull_backoff):
            sleeper.wake()

    def run(self) -> None:
        """Run until :meth:`stop`; returns after a clean stop. When a loop fails (the
        store cannot be used...) both stop and its error is raised here."""
        watcher = ProfileWatcher(self.home, self.local_write.wake, self._token_changed)
        if self.settings.file_events and watcher.start():
            self.poll = POLL_SAFETY
        threads = [
            threading.Thread(target=self._loop, args=(loop,), name=loop.__name__, daemon=True)
            for loop in (self._push_loop, self._pull_loop)
        ]
        for thread in threads:
            thread.start()
        while not self.stopping.wait(0.5):
            self.network.check()
            if time.monotonic() - self._server_seen_at >= SERVER_CHECK_S:
                self._check_server()
        watcher.stop()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.fatal is not None:
            raise self.fatal
        store = self.open_store()
        try:
            Reporter(store).stopped()
        finally:
            store.close()
        log.info("sync daemon stopped")

    def _check_server(self) -> None:
        """The profile names another server (logged in to it): stop, for the caller to
        run again against it (the loops' clients and cursor checks are the old one's).
        Looked at when ``login`` writes the token (it saves the server first), else every
        :data:`SERVER_CHECK_S` (a config.toml edited by hand, no file events)."""
        self._server_seen_at = time.monotonic()
        try:
            now = self.server() if self.server is not None else None
        except (OSError, ValueError):  # config.toml being written, or broken: not now
            return
        if now and now != self.settings.server:
            log.info("this profile now syncs with %s (pipetrack login): switching to it", now)
            self.moved_to = now
            self.stop()

    def _token_changed(self) -> None:
        log.info("token file changed; retrying now")
        self._server_seen_at = 0.0  # login: the server may have changed with it
        self._retry_now()

    def _network_changed(self, what: str) -> None:
        """A request in flight may sit on a connection that died with the old network (or
        in the sleep): it is sent again; a failed request is retried now."""
        log.info("%s; asking again now", what)
        self.requests.interrupt()
        self._retry_now()

    def _retry_now(self) -> None:
        """End the loops' backoff waits (or, if none waits, the next one)."""
        self.push_backoff.wake()
        self.pull_backoff.wake()

    # ---- the loops ------------------------------------------------------------------
    def _loop(self, body: Callable[[Store, ApiClient, Reporter], None]) -> None:
        """A loop's thread. A loop must not die silently: if it fails, everything stops
        (exit 1; systemd restarts the daemon)."""
        try:
            store = self.open_store()
            try:
                with ApiClient(self.settings.server, self.token) as client:
                    body(store, client, Reporter(store, self.failures, body.__name__))
            finally:
                store.close()
        except StoreError as err:  # said in words: no traceback
            log.error("%s; stopping", err)
            self.fatal = err
            self.stop()
        except BaseException as err:
            log.exception("the %s failed; stopping", body.__name__.strip("_").replace("_", " "))
            self.fatal = err
            self.stop()

    def _backoff(self, sleeper: Wakeable, reporter: Reporter) -> Backoff:
        return Backoff(
            self.stopping,
            sleeper,
            cap=self.settings.backoff_max,
            on_failure=reporter.failed_on,
        )

    def _push_loop(self, store: Store, client: ApiClient, reporter: Reporter) -> None:
        backoff = self._backoff(self.push_backoff, reporter)
        pusher = Pusher(store, client, backoff, requests=self.requests)
        while not self.stopping.is_set():
            seen = store.data_version()
            store.check_schema()  # a newer pipetrack upgraded the file: stop, exit 1
            progress = progress_log(self.settings.progress_every)  # a long backlog
            tally = self._guard(reporter, self.push_backoff, partial(pusher.push_pending, progress))
            if tally is not None:  # a round without a failure ends one of this loop's
                if reporter.ok(synced=bool(tally.sent)):
                    self.pull_backoff.wake()
                if tally.sent:
                    log.info("sync: %s", tally)
            self._wait_for_write(store, seen)

    def _wait_for_write(self, store: Store, seen: int) -> None:
        """Until another connection has committed since ``seen``. A file event says a
        write is under way, but its commit becomes visible only after its fsync: a push
        round started at the event could find nothing and sleep until the safety poll (a
        5 s delay, seen in the propagation benchmark). So an event only starts close
        checks of ``data_version`` (every SETTLE_STEP s for SETTLE_S s); without events it
        is checked every ``poll`` s."""
        close_until = 0.0
        while not self.stopping.is_set():
            if store.data_version() != seen:
                log.debug("woken by a database change")
                return
            nap = SETTLE_STEP if time.monotonic() < close_until else self.poll
            if self.local_write.sleep(nap):
                close_until = time.monotonic() + SETTLE_S

    def _pull_loop(self, store: Store, client: ApiClient, reporter: Reporter) -> None:
        """Long-poll for what is new, then take all of it (:meth:`Puller.pull_available`
        reads the next page while it stores this one: a new device's catch-up, a return
        from offline). Every page is reported as it is stored (the sync bar says online
        from the first page of a long catch-up)."""
        backoff = self._backoff(self.pull_backoff, reporter)
        puller = Puller(store, client, backoff, requests=self.requests)

        def pulled(page: Pulled) -> None:
            if reporter.ok(synced=True):
                self.push_backoff.wake()
            if page.targets or page.history:
                log.info("sync: %s", PullTally().add(page))

        wait = 0.0  # the first pull, and the one after a failure, does not wait
        named = False
        while not self.stopping.is_set():
            step = partial(puller.pull_available, pulled, wait)
            done = self._guard(reporter, self.pull_backoff, step) is not None
            wait = self.settings.long_poll if done else 0.0
            if done and not named:
                named = learn_user_name(store, lambda: self.requests.call("me", client.me))

    def _guard(self, reporter: Reporter, sleeper: Wakeable, step: Callable[[], T]) -> T | None:
        """Run one step; on a failure that retrying does not cover, record it and pause
        (``backoff_max``, or until woken) so the server is not hammered."""
        try:
            return step()
        except Transient:
            return None  # retrying gives up only when stopping
        except Unauthorized as err:
            log.error("%s (%s); pausing", TOKEN_REFUSED, err)
            reporter.failed_on(err)
        except ApiError as err:
            log.error("sync failed: %s; pausing", err)
            reporter.failed_on(err)
        except Exception as err:
            log.exception("unexpected error in the sync loop; pausing")
            _quietly(partial(reporter.failed, f"internal error: {err}"))
        sleeper.sleep(self.settings.backoff_max)
        return None


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:
        log.debug("ignored error while recording sync state", exc_info=True)
