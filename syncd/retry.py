"""Retrying transient failures: exponential backoff with full jitter (tenacity).

The n-th retry waits a random time in ``[0, min(cap, base * 2**(n-1))]`` (AWS "full
jitter"); the window and the drawn delay are logged. The sleep is a callable so a stop
request (or the other loop getting through) cuts a long wait short.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from .client import Transient

log = logging.getLogger("syncd")

T = TypeVar("T")

BACKOFF_BASE = 0.5
BACKOFF_MAX = 60.0


class Wakeable:
    """An interruptible sleep: ``sleep`` returns early when ``wake`` is called."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when woken early (the wake-up is used up; one
        that comes while nobody sleeps ends the next sleep at once)."""
        woken = self._event.wait(seconds)
        if woken:
            self._event.clear()
        return woken

    def wake(self) -> None:
        self._event.set()


class _until(stop_base):
    """Stop retrying once ``event`` is set."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.event.is_set()


@dataclass
class Backoff:
    """How one loop retries. ``attempts`` None = until ``stop`` is set."""

    stop: threading.Event
    sleeper: Wakeable
    cap: float = BACKOFF_MAX
    base: float = BACKOFF_BASE
    attempts: int | None = None
    #: Called before each sleep with the error (the loop records "offline" there).
    on_failure: Callable[[Transient], None] = lambda err: None

    def window(self, attempt: int, err: BaseException | None = None) -> float:
        """The upper bound of the random delay after failed attempt ``attempt``."""
        state = RetryCallState(None, None, (), {})
        state.attempt_number = attempt
        return wait_exponential(multiplier=self.base, max=self._cap(err))(state)

    def _cap(self, err: BaseException | None) -> float:
        """The cap, or the error's own when lower (:attr:`Transient.retry_within`)."""
        return min(self.cap, getattr(err, "retry_within", None) or self.cap)

    def _wait(self, state: RetryCallState) -> float:
        err = state.outcome.exception() if state.outcome else None
        return wait_random_exponential(multiplier=self.base, max=self._cap(err))(state)

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``, retried on :class:`Transient` errors; the last one re-raised when
        retrying stops (stop requested, or out of attempts)."""
        stop = _until(self.stop)
        if self.attempts is not None:
            stop = stop | stop_after_attempt(self.attempts)

        def before_sleep(state: RetryCallState) -> None:
            err = state.outcome.exception() if state.outcome else None
            if isinstance(err, Transient):
                self.on_failure(err)
            log.warning(
                "%s failed: %s; retrying in %.1f s (attempt %d, backoff window %.1f s)",
                what,
                err,
                state.upcoming_sleep,
                state.attempt_number,
                self.window(state.attempt_number, err),
            )

        retrying = Retrying(
            retry=retry_if_exception_type(Transient),
            wait=self._wait,
            stop=stop,
            sleep=self.sleeper.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
