"""The sync daemon: pushes the outbox, pulls the team's changes, records sync state.

Imports only :mod:`protocol` and :mod:`storage`; ``pipetrack sync`` / ``login``
(``pipetrack/sync_cmd.py``) drive it.

Names are imported on first use (PEP 562): ``sync --once`` never loads the daemon's
file watching (watchdog), ``login`` only the client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import ApiClient, ApiError, PayloadTooLarge, Refused, Transient, Unauthorized
    from .daemon import Daemon
    from .lock import AlreadyRunning, ProfileLock
    from .once import run_once
    from .settings import Settings

_HOME = {
    "AlreadyRunning": "lock",
    "ApiClient": "client",
    "ApiError": "client",
    "Daemon": "daemon",
    "PayloadTooLarge": "client",
    "ProfileLock": "lock",
    "Refused": "client",
    "Settings": "settings",
    "Transient": "client",
    "Unauthorized": "client",
    "run_once": "once",
}

__all__ = [
    "AlreadyRunning",
    "ApiClient",
    "ApiError",
    "Daemon",
    "PayloadTooLarge",
    "ProfileLock",
    "Refused",
    "Settings",
    "Transient",
    "Unauthorized",
    "run_once",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'syncd' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
