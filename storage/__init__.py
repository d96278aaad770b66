"""The local SQLite store (peewee on apsw): the only way anything touches the profile's file."""

from .store import Ambiguous, NotFound, Store, StoreError, utcnow
from .types import (
    ConflictView,
    HistoryEntry,
    PullSummary,
    PushSummary,
    RejectedView,
    StatusChange,
    Summary,
    SyncState,
    TargetQuery,
    TargetView,
)

__all__ = [
    "Ambiguous",
    "ConflictView",
    "HistoryEntry",
    "NotFound",
    "PullSummary",
    "PushSummary",
    "RejectedView",
    "StatusChange",
    "Store",
    "StoreError",
    "Summary",
    "SyncState",
    "TargetQuery",
    "TargetView",
    "utcnow",
]
