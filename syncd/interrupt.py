"""Requests that another thread can give up waiting for, and ask again.

After a laptop sleeps and wakes on another network, a request sent before the sleep (a
long-poll, most likely; a push, rarely) sits on a dead connection: nothing answers it
and nothing resets it, so httpx waits out its read timeout (a long-poll's wait + 15 s,
a push's 60 s; a sleep does not count towards it). httpx's sync client cannot cancel a
request from another thread, so the request runs in a thread of its own here, and
:meth:`Interruptible.interrupt` (the daemon's network watch) stops the waiting: the
request is sent again at once. The abandoned one ends by itself (answer or timeout)
and its answer is dropped, which is safe: pulling the same page twice stores it once,
and a push sent twice is applied once (its changes' ids).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

log = logging.getLogger("syncd")

T = TypeVar("T")


class Direct:
    """Requests waited for as they are (``sync --once``: nothing watches the network)."""

    def call(self, what: str, request: Callable[[], T]) -> T:
        return request()


class Interruptible(Direct):
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._interrupts = 0

    def interrupt(self) -> None:
        """Give up the requests waited for now; each is sent again."""
        with self._changed:
            self._interrupts += 1
            self._changed.notify_all()

    def call(self, what: str, request: Callable[[], T]) -> T:
        """``request()``'s answer (or error); sent again each time :meth:`interrupt` is
        called before it answers."""
        while True:
            answer = self._attempt(request)
            if answer is not None:
                return answer.result()
            log.info("%s in flight given up; asking again", what)

    def _attempt(self, request: Callable[[], T]) -> Future[T] | None:
        """The answer of one sending, or None when interrupted first."""
        with self._changed:
            seen = self._interrupts
        answer: Future[T] = Future()
        threading.Thread(target=self._run, args=(request, answer), daemon=True).start()
        with self._changed:
            self._changed.wait_for(lambda: answer.done() or self._interrupts != seen)
        return answer if answer.done() else None

    def _run(self, request: Callable[[], T], answer: Future[T]) -> None:
        try:
            answer.set_result(request())
        except BaseException as err:  # noqa: BLE001 - handed to the waiting thread
            answer.set_exception(err)
        with self._changed:
            self._changed.notify_all()
