"""The local store: the only way anything touches ``pipetrack.db``.

SKELETON — the signatures and docstrings below are the contract the CLI, the TUI
and the sync daemon code against. The storage implementer fills in the bodies
(and may split the work into more modules under ``storage/``), keeping these
signatures. Times handed out are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from protocol import Status
from protocol.wire import AuditEntry, Change, Result, TargetState

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

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class NotFound(LookupError):
    """No target matches; ``str()`` names the reference."""


class Ambiguous(LookupError):
    """More than one target matches a reference; ``candidates`` lists them."""

    def __init__(self, ref: str, candidates: Sequence[TargetView]) -> None:
        names = ", ".join(f"{t.uid[:8]} {t.name!r}" for t in candidates[:10])
        super().__init__(f"{ref!r} matches {len(candidates)} targets: {names}")
        self.ref = ref
        self.candidates = list(candidates)


class StoreError(RuntimeError):
    """The database cannot be used (corrupt, not a pipetrack file, disk full...).

    The message says what happened and what to do, in one or two lines.
    """


class Store:
    """One profile's SQLite file. Safe to use from several processes at once."""

    # ---- opening -----------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path,
        *,
        clock: Clock = utcnow,
        thresholds: dict[str, int] | None = None,
        user: str | None = None,
    ) -> Store:
        """Open (creating and migrating as needed) the database file at ``path``.

        File mode 0600, WAL, synchronous=FULL, foreign keys, busy timeout >= 5 s.
        ``thresholds`` maps status -> days (defaults Cold 60, Active 30, Hot 14).
        ``user`` is how local audit rows name who changed (default: the OS user).
        Raises StoreError for a corrupt / foreign / unwritable file.
        """
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def device_id(self) -> str:
        """Minted when the file is created; stable for the life of the file."""
        raise NotImplementedError

    def data_version(self) -> int:
        """Changes whenever another connection commits (PRAGMA data_version)."""
        raise NotImplementedError

    # ---- user actions (each one transaction: local view + audit + outbox) -----------
    def create_target(
        self,
        name: str,
        description: str = "",
        markets: Iterable[str] = (),
        status: Status | str | None = None,
        *,
        uid: str | None = None,
        note: str | None = None,
    ) -> TargetView:
        """Create a target (uid minted unless given); outbox ``create``. InvalidInput on bad fields."""
        raise NotImplementedError

    def edit_target(
        self,
        ref_uid: str,
        *,
        name: str | None = None,
        description: str | None = None,
        markets: Iterable[str] | None = None,
    ) -> TargetView:
        """Edit details (None = unchanged); outbox ``edit`` with only the changed fields."""
        raise NotImplementedError

    def set_status(
        self, uid: str, status: Status | str | None, note: str | None = None
    ) -> StatusChange:
        """Change the status: local view + audit row + outbox row in one transaction.

        Setting the status the target already has writes nothing (``changed=False``).
        """
        raise NotImplementedError

    def undo_last(self) -> StatusChange | None:
        """Compensate this device's last status change (a new change back to the old
        status, its note saying it undoes the earlier one). None when nothing to undo."""
        raise NotImplementedError

    def snooze(self, uid: str, until: date | None) -> TargetView:
        """Not stale before ``until`` (None clears). Local only, not synced."""
        raise NotImplementedError

    def import_targets(self, rows: Sequence[dict[str, str]]) -> tuple[int, int]:
        """All-or-nothing import of already-parsed rows (keys: uid?, name, description?,
        markets? ("a;b"), status?). Existing targets (by uid if given, else by name,
        case-insensitive) are updated only where different. Returns (created, updated).
        Raises InvalidInput whose message names the 1-based row (``row 3: ...``)."""
        raise NotImplementedError

    # ---- reading ----------------------------------------------------------------------
    def get(self, uid: str) -> TargetView:
        raise NotImplementedError

    def resolve(self, ref: str) -> TargetView:
        """A uid, a unique uid prefix of >= 4 characters, or an exact name (case-insensitive).
        Raises NotFound or Ambiguous."""
        raise NotImplementedError

    def list_targets(self, query: TargetQuery = TargetQuery()) -> list[TargetView]:
        """Indexed SQL query (filter, sort, offset, limit); fast at 100,000 targets."""
        raise NotImplementedError

    def count_targets(self, query: TargetQuery = TargetQuery()) -> int:
        raise NotImplementedError

    def markets(self) -> list[str]:
        """Every market in use, sorted, for filter pickers."""
        raise NotImplementedError

    def history(self, uid: str) -> list[HistoryEntry]:
        """Status changes of a target, oldest first, with days spent in the previous status."""
        raise NotImplementedError

    def stale_targets(self) -> list[TargetView]:
        raise NotImplementedError

    def summary(self) -> Summary:
        raise NotImplementedError

    def became_stale_since_last_open(self) -> int:
        """How many targets turned stale since the previous call (the TUI calls it at start);
        records now as the new mark."""
        raise NotImplementedError

    # ---- sync state ---------------------------------------------------------------------
    def sync_state(self, server: str | None = None) -> SyncState:
        raise NotImplementedError

    def record_sync(self, *, online: bool, error: str | None = None, synced: bool = False) -> None:
        """The daemon reports: online/offline (``online_since`` moves on a change),
        ``last_error`` (None clears), ``synced`` stamps ``last_sync_at``."""
        raise NotImplementedError

    def conflicts(self) -> list[ConflictView]:
        raise NotImplementedError

    def rejected(self) -> list[RejectedView]:
        raise NotImplementedError

    def resolve_conflict(
        self, change_id: str, choice: Literal["mine", "theirs"] | Status | str
    ) -> TargetView:
        """keep mine: re-issued on the server's version; take theirs: dropped, local view =
        server; a status: that status on the server's version. Held changes go on after."""
        raise NotImplementedError

    def drop_rejected(self, change_id: str) -> TargetView:
        raise NotImplementedError

    # ---- daemon-facing ---------------------------------------------------------------------
    def take_batch(self, limit: int = 500) -> list[Change]:
        """Pending changes in creation order, skipping targets held behind a conflict or a
        rejection. Taking does not remove: only results do (a lost response is re-sent as is)."""
        raise NotImplementedError

    def apply_push_results(self, results: Sequence[Result]) -> PushSummary:
        """applied/duplicate/converged: done, server base moves, later pending changes of the
        target are rebased; conflict: kept with the server state; rejected: kept with the
        reason; blocked: stays pending. One transaction."""
        raise NotImplementedError

    def pull_cursor(self) -> str | None:
        raise NotImplementedError

    def apply_pull(
        self, targets: Sequence[TargetState], history: Sequence[AuditEntry], cursor: str
    ) -> PullSummary:
        """Server base := pulled state; local view overwritten only where nothing is pending
        (else server base + pending changes on top); audit entries recorded (origin server,
        or our own local rows marked synced); cursor saved. One transaction."""
        raise NotImplementedError
