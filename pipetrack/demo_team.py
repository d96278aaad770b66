"""The demo's team on the server: its users, and the changes their devices push.

Everything goes through the real API (``POST /v1/push`` with each user's token), so the
server applies its own rules: who changed what comes from the token, a change's time is
the device's ``changed_at`` (never later than the server's clock).
"""

from __future__ import annotations

from collections.abc import Iterable

from protocol.wire import Change
from server.migrate import apply_migrations
from server.users import add_user
from syncd import ApiClient

from .demo_seed import TEAMMATES

#: The demo profile's user, and the teammate a second terminal plays.
ME = "demo"
SECOND = "sam"
USERS = (ME, SECOND, *TEAMMATES)
DEVICES = {**TEAMMATES, SECOND: "sam-laptop"}


def create_users(database_url: str) -> dict[str, str]:
    """A user per name of :data:`USERS` in the server's database; name -> token."""
    apply_migrations(database_url)
    return {name: add_user(database_url, name) for name in USERS}


def push(url: str, token: str, user: str, changes: list[Change]) -> list:
    """Push ``changes`` from ``user``'s device; the server's targets. Anything but
    ``applied`` is a bug of the demo's story: RuntimeError."""
    with ApiClient(url, token) as client:
        results = client.push(DEVICES[user], changes)
    wrong = [r for r in results if r.outcome != "applied"]
    if wrong:
        raise RuntimeError(f"demo seed: {user}'s change was {wrong[0].outcome}: {wrong[0].error}")
    return [r.target for r in results]


def push_all(url: str, tokens: dict[str, str], batches: Iterable[tuple[str, list[Change]]]) -> int:
    """Push each (user, changes) batch in order; how many changes went in."""
    count = 0
    for user, changes in batches:
        count += len(push(url, tokens[user], user, changes))
    return count
