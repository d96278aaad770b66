"""Progress lines of long work: a backlog pushed, a new device's catch-up pulled."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("syncd")

#: Long work (a backlog pushed, a new device's catch-up) says how far it got this often
#: (``Settings.progress_every``).
PROGRESS_S = 2.0


class Every:
    """Lets a call through at most once per ``seconds`` (progress lines of long work)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.due = time.monotonic() + seconds

    def __call__(self, say: Callable[..., object], *args: object) -> None:
        now = time.monotonic()
        if now >= self.due:
            self.due = now + self.seconds
            say(*args)


def progress_log(seconds: float) -> Callable[[object], None]:
    """Logs ``sync: <tally> so far…`` at most once per ``seconds`` (a push or pull tally)."""
    every = Every(seconds)
    return lambda tally: every(log.info, "sync: %s so far…", tally)
