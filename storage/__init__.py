"""The local SQLite store (peewee on apsw): the only way anything touches the profile's file."""

import sys

#: Drivers peewee imports at its own import when installed; the store uses none of them.
_UNUSED_DRIVERS = ("psycopg2cffi", "psycopg2", "psycopg", "pymysql", "MySQLdb")


def _import_peewee_alone() -> None:
    """Import peewee with the database drivers it probes hidden, then un-hide them.

    psycopg is installed for the server and costs 0.1-0.6 s to import: a large share of
    the TUI's start, for nothing (the store is SQLite only). ``None`` in ``sys.modules``
    makes an import fail as if the package were missing; removed right after, so the
    server (or anything else) still imports psycopg normally.
    """
    if "peewee" in sys.modules:
        return
    hidden = [name for name in _UNUSED_DRIVERS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import peewee  # noqa: F401
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_import_peewee_alone()

from .pull import StagedPage  # noqa: E402
from .store import Ambiguous, NotFound, Store, StoreError, utcnow  # noqa: E402
from .sync import PushResult, WireChange  # noqa: E402
from .types import (  # noqa: E402
    ActivityEntry,
    ConflictView,
    HistoryEntry,
    NotUndone,
    PullSummary,
    PushSummary,
    RejectedView,
    StatusChange,
    Summary,
    SyncState,
    TargetQuery,
    TargetView,
    Undone,
)

__all__ = [
    "ActivityEntry",
    "Ambiguous",
    "ConflictView",
    "HistoryEntry",
    "NotFound",
    "PullSummary",
    "PushResult",
    "PushSummary",
    "RejectedView",
    "StagedPage",
    "StatusChange",
    "Store",
    "StoreError",
    "Summary",
    "SyncState",
    "TargetQuery",
    "TargetView",
    "NotUndone",
    "Undone",
    "WireChange",
    "utcnow",
]
