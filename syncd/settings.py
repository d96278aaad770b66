"""How the daemon runs: server, backoff cap, long-poll wait, wake-up mode.

Tests (and unusual setups) tune them with environment variables:
``PIPETRACK_SYNC_BACKOFF_MAX`` (seconds, default 60), ``PIPETRACK_SYNC_WAIT`` (long-poll
seconds, default 25), ``PIPETRACK_SYNC_WATCH=poll`` (no file events, poll instead) and
``PIPETRACK_SYNC_PROGRESS`` (seconds between progress lines of long work, default 2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from protocol import InvalidInput
from protocol.wire import PULL_WAIT_MAX

from .progress import PROGRESS_S
from .retry import BACKOFF_MAX

ENV_BACKOFF_MAX = "PIPETRACK_SYNC_BACKOFF_MAX"
ENV_WAIT = "PIPETRACK_SYNC_WAIT"
ENV_WATCH = "PIPETRACK_SYNC_WATCH"
ENV_PROGRESS = "PIPETRACK_SYNC_PROGRESS"

LONG_POLL = 25.0
#: Checking ``data_version`` this often when file events are unavailable...
POLL_FALLBACK = 0.1
#: ...and this often anyway, in case a file event was missed.
POLL_SAFETY = 5.0
#: After a file event: a write is under way, but its commit is visible only after its
#: fsync, so ``data_version`` is checked this often for this long before it is seen.
SETTLE_STEP = 0.005
SETTLE_S = 1.0
#: Attempts per request in ``--once`` mode before the server counts as unreachable.
ONCE_ATTEMPTS = 3


@dataclass(frozen=True)
class Settings:
    server: str
    backoff_max: float = BACKOFF_MAX
    long_poll: float = LONG_POLL
    file_events: bool = True
    #: Long work (a backlog pushed, a catch-up pulled) logs how far it got this often.
    progress_every: float = PROGRESS_S

    @classmethod
    def from_env(cls, server: str, env: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            server=server,
            backoff_max=_seconds(env, ENV_BACKOFF_MAX, BACKOFF_MAX, 0.01, 3600),
            long_poll=_seconds(env, ENV_WAIT, LONG_POLL, 0, PULL_WAIT_MAX),
            file_events=env.get(ENV_WATCH, "events").strip().lower() != "poll",
            progress_every=_seconds(env, ENV_PROGRESS, PROGRESS_S, 0, 3600),
        )


def _seconds(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise InvalidInput(name, f"{name}={raw!r}: expected seconds between {low} and {high}")
    return value
