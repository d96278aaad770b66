"""The sync daemon: pushes the outbox, pulls the team's changes, records sync state.

Imports only :mod:`protocol` and :mod:`storage`; ``pipetrack sync`` / ``login``
(``pipetrack/sync_cmd.py``) drive it.
"""

from .client import ApiClient, ApiError, PayloadTooLarge, Refused, Transient, Unauthorized
from .daemon import Daemon
from .lock import AlreadyRunning, ProfileLock
from .once import run_once
from .settings import Settings

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
