"""``create_app(settings)``: the FastAPI application of one API process.

Start-up applies the migrations (under an advisory lock, so many processes may start
at once), opens the connection pool and the LISTEN connection that wakes long-polls.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from types import FrameType

import psycopg
from fastapi import FastAPI

from .cursors import notice_a_copy
from .db import make_pool
from .errors import BodyLimit, ErrorLog, install_error_handlers
from .listener import Notifier
from .migrate import apply_migrations
from .push_store import NOTIFY_CHANNEL
from .routes import public, v1
from .settings import Settings, setup_logging

log = logging.getLogger("pipetrack.server")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # a no-op after ``run`` applied them (which says what it created or applied)
        await asyncio.to_thread(apply_migrations, settings.database_url)
        pool = make_pool(settings)
        await pool.open(wait=True, timeout=settings.pool_timeout_s)
        notifier = Notifier(settings.database_url, NOTIFY_CHANNEL)
        notifier.start()
        _end_long_polls_on_stop(notifier)
        app.state.pool = pool
        app.state.notifier = notifier
        # What start-up made (modules, models, routes) lives as long as the process: out
        # of the collector's way, a full collection takes ~4 ms instead of ~100 ms that
        # held every request on the event loop.
        gc.freeze()
        watch = asyncio.create_task(_watch_for_a_restore(settings.database_url))
        try:
            yield
        finally:
            watch.cancel()
            await notifier.stop()
            await pool.close()

    app = FastAPI(
        title="pipetrack",
        version="1",
        summary="Central API of pipetrack: versioned pushes, a gap-free pull, tokens.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(ErrorLog)  # outermost: it sees BodyLimit's 413 too
    app.include_router(v1)
    app.include_router(public)
    return app


#: How often a running server looks whether its database was restored under it.
RESTORE_CHECK_S = 10.0


async def _watch_for_a_restore(database_url: str) -> None:
    """A ``pg_restore --clean`` over the database while this serves (the README says to
    stop serve first; an admin may not): seen within :data:`RESTORE_CHECK_S`, as at a
    start, so devices pull again instead of keeping states the server lost while every
    one of them said synced. A failed look (the restore under way, the database down)
    waits for the next."""
    while True:
        await asyncio.sleep(RESTORE_CHECK_S)
        try:
            await asyncio.to_thread(_look_for_a_restore, database_url)
        except psycopg.Error as err:
            log.debug("could not look for a restore: %s", err)


def _look_for_a_restore(database_url: str) -> None:
    with psycopg.connect(database_url, connect_timeout=5, autocommit=True) as conn:
        notice_a_copy(conn, running=True)


def _end_long_polls_on_stop(notifier: Notifier) -> None:
    """Chain onto the stop signals of the server running us (uvicorn's handlers, set
    before start-up): its graceful stop waits for every request, and a long-poll waits
    up to 25 s, so it was cut after the grace period with a 500 and a traceback. Now a
    stop first makes every long-poll answer what it has (nothing new; the device asks
    again). Nothing to chain onto (not the main thread, no handler): nothing done."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous) or previous is signal.default_int_handler:
            continue

        def stopping(signum: int, frame: FrameType | None, then: Callable = previous) -> None:
            loop.call_soon_threadsafe(notifier.shut_down)
            then(signum, frame)

        signal.signal(sig, stopping)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory server.app:app_from_env`` (what ``run`` serves)."""
    setup_logging()
    return create_app(Settings.from_env())
