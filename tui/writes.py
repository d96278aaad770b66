"""The TUI's writes: queued in one thread, so they land in the order asked and the
screen stays live while one waits (another process's import holds the database for
seconds; a bulk change or its undo over 100,000 targets takes seconds itself).

The screens call ``PipetrackApp.writes.later``; what follows a write (a notification,
reading the list again) runs on the event loop once it is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from textual.notifications import Notification, Notify

if TYPE_CHECKING:
    from textual.app import App

R = TypeVar("R")

#: A write still not done after this long is told of (:meth:`Writes._tell`).
NOTICE_S = 1.0
#: Such a notice stays until the write is done (taken back then), at most this long.
NOTICE_TIMEOUT_S = 60.0


class Writes:
    """The app's write thread. ``report`` tells a failure (one of ``failures``)."""

    def __init__(
        self,
        app: App,
        failures: tuple[type[Exception], ...],
        report: Callable[[Exception], None],
    ) -> None:
        self.app = app
        self.failures = failures
        self.report = report
        self.notice_s = NOTICE_S
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipetrack-write")
        self._queued = 0  # writes asked for and not done
        self._told = False  # a wait was told of (not a long write's own notice), until one is done

    def later(
        self,
        call: Callable[[], R],
        done: Callable[[R], object],
        failed: Callable[[], object] | None = None,
        *,
        what: str | None = None,
    ) -> None:
        """``call`` (store calls only) queued now; on the event loop after it, ``done``
        with its result, or the failure told and ``failed``. ``what``: a long write in
        words ("Setting 2,000 targets to Hot"), said if it takes a while."""
        ahead, self._queued = self._queued, self._queued + 1
        future = self._thread.submit(call)
        waited = self._waited(future, done, failed, what, ahead)
        self.app.run_worker(waited, group="write", exit_on_error=False)

    async def _waited(
        self,
        future: Future[R],
        done: Callable[[R], object],
        failed: Callable[[], object] | None,
        what: str | None,
        ahead: int,
    ) -> None:
        # shielded: quitting cancels the worker, never the write (see finish)
        write = asyncio.wrap_future(future)
        notice: Notification | None = None
        try:
            try:
                result = await asyncio.wait_for(asyncio.shield(write), self.notice_s)
            except TimeoutError:
                notice = self._tell(what, ahead)
                result = await asyncio.shield(write)
        except Exception as err:  # noqa: BLE001 - a write that failed must never pass unsaid
            if isinstance(err, self.failures):
                self.report(err)
            else:  # a bug: said, not swallowed by the worker
                self.app.notify(
                    f"Not saved: {type(err).__name__}: {err}",
                    title="Internal error",
                    severity="error",
                    timeout=30,
                )
            if failed is not None:
                failed()
            return
        finally:
            if future.done():
                self._queued -= 1
                self._told = False
            if notice is not None:  # "Saving…" must not outlast the save
                self._withdraw(notice)
        done(result)

    def _tell(self, what: str | None, ahead: int) -> Notification | None:
        """Why a write takes a while: its own size, or (once per wait) an earlier write of
        ours or another process holding the database. The notice shown, if any."""
        if what is not None:
            return self._notice(f"{what}…")
        if self._told:  # one notice for the keys pressed while the same wait goes on
            return None
        self._told = True
        if ahead:
            return self._notice(
                "Your earlier change is still being saved; what you do now follows it."
            )
        return self._notice(
            "Another pipetrack process is writing to this profile (an import?): your "
            "changes wait their turn, in order, and are saved when it is done."
        )

    def _notice(self, message: str) -> Notification:
        notice = Notification(message, "Saving…", timeout=NOTICE_TIMEOUT_S)
        self.app.post_message(Notify(notice))
        return notice

    def _withdraw(self, notice: Notification) -> None:
        # Textual has no public call to take a toast back before its timeout; queued
        # behind the Notify message, so a notice posted just before is taken back too.
        self.app.call_later(self.app._unnotify, notice)  # noqa: SLF001

    def finish(self) -> None:
        """Wait for every queued write (at quit, before the store closes)."""
        self._thread.shutdown(wait=True)
