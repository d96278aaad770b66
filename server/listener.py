"""One LISTEN connection per process that wakes every waiting long-poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg

log = logging.getLogger("pipetrack.server")


class Notifier:
    """Wakes waiters when a push commits (NOTIFY on ``channel``) anywhere in the cluster.

    A waiter takes :meth:`waiter` *before* reading the database and awaits it after
    finding nothing new, so a notification between the read and the wait is not lost.
    After a lost connection every waiter is woken once (notifications may have been
    missed while it was down).
    """

    def __init__(self, database_url: str, channel: str) -> None:
        self._url = database_url
        self._channel = channel
        self._event = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.connected = asyncio.Event()
        self.closing = False

    def waiter(self) -> asyncio.Event:
        return self._event

    def shut_down(self) -> None:
        """The process is stopping: wake every waiter, and none waits from now on (a
        long-poll answers what it has, so the graceful stop is not held for its wait)."""
        self.closing = True
        self.wake_all()

    def wake_all(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="pipetrack-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.1
        lost = False  # told once an outage, not at every try (one each 2 s)
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {self._channel}")
                    self.connected.set()
                    self.wake_all()
                    delay = 0.1
                    if lost:
                        log.info("listener connected again")
                        lost = False
                    async for _ in conn.notifies():
                        self.wake_all()
            except Exception as err:  # noqa: BLE001 - any failure: reconnect
                if not lost:
                    log.warning("listener connection lost (%s); reconnecting", type(err).__name__)
                lost = True
            self.connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
