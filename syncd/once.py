"""``pipetrack sync --once``: push, then pull, until nothing is left."""

from __future__ import annotations

import logging
import threading

from storage import Store

from .client import ApiClient, ApiError, TokenSource, Unauthorized
from .identity import learn_user_name
from .progress import progress_log
from .pull import Puller, PullTally
from .push import Pusher
from .report import TOKEN_REFUSED, Reporter
from .retry import Backoff, Wakeable
from .settings import ONCE_ATTEMPTS, Settings

log = logging.getLogger("syncd")


def run_once(store: Store, settings: Settings, token: TokenSource) -> int:
    """0 when everything pushable went out and everything new came in; 1 when the server
    is unreachable (after a few quick retries) or refuses us. Every change stays queued.
    Work that takes longer than ``settings.progress_every`` logs how far it got."""
    reporter = Reporter(store)
    backoff = Backoff(
        threading.Event(), Wakeable(), cap=settings.backoff_max, attempts=ONCE_ATTEMPTS
    )
    progress = progress_log(settings.progress_every)
    so_far = PullTally()
    try:
        with ApiClient(settings.server, token) as client:
            pusher = Pusher(store, client, backoff)
            pushed = pusher.push_pending(progress)
            pulled = Puller(store, client, backoff).pull_available(
                lambda page: progress(so_far.add(page))
            )
            # what a pull queued (changes a restored server lost) goes out now too
            again = pusher.push_pending(progress)
            pushed.add(again.sent, again.outcomes)
            learn_user_name(store, client.me)
    except Unauthorized as err:
        log.error("sync failed: %s (%s)", TOKEN_REFUSED, err)
        reporter.failed_on(err)
        return 1
    except ApiError as err:
        log.error("sync failed: %s; changes stay queued", err)
        reporter.failed_on(err)
        return 1
    reporter.ok(synced=True)
    log.info("sync: %s; %s", pushed, pulled)
    return 0
