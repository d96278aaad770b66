"""What the store hands out: plain frozen values, with the stable ``--json`` shapes of DESIGN.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

Stagnation = Literal["fresh", "aging", "stale", "snoozed"]
SyncMark = Literal["synced", "pending", "conflict", "rejected"]
#: A history entry's: also ``converged``, a change of ours the server had already from a
#: teammate (nothing recorded there: its note is only on this device).
EntrySync = Literal["synced", "pending", "conflict", "rejected", "converged"]
Origin = Literal["local", "server"]
SortKey = Literal["name", "status", "days", "markets", "sync", "updated"]


def utc_today() -> date:
    return datetime.now(UTC).date()


def iso(value: datetime | date | None) -> str | None:
    """RFC 3339 in UTC (``...Z``) for datetimes, ISO date for dates, None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


@dataclass(frozen=True, slots=True)
class TargetView:
    """A target as the user sees it: local view (server base + pending changes)."""

    uid: str
    name: str
    description: str
    markets: tuple[str, ...]
    status: str | None
    status_since: datetime
    days_in_status: int
    stagnation: Stagnation
    sync: SyncMark
    version: int | None  # server version, None until the server has it
    snoozed_until: date | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def snooze_ahead(self) -> bool:
        """Snoozed till after today (UTC, as the stagnation rules count days): also for a
        target still fresh, whose ``stagnation`` does not say so."""
        return self.snoozed_until is not None and self.snoozed_until > utc_today()

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "name": self.name,
            "description": self.description,
            "markets": list(self.markets),
            "status": self.status,
            "status_since": iso(self.status_since),
            "days_in_status": self.days_in_status,
            "stagnation": self.stagnation,
            "sync": self.sync,
            "version": self.version,
            "snoozed_until": iso(self.snoozed_until),
        }


@dataclass(frozen=True, slots=True)
class TargetQuery:
    """Filter, sort and page for :meth:`Store.list_targets` / :meth:`Store.count_targets`.

    ``search`` matches a substring of the name, case-insensitive. ``stagnation``
    keeps only targets in those stagnation states. All filtering happens in SQL.
    """

    statuses: tuple[str | None, ...] = ()  # None inside means "no status"
    markets: tuple[str, ...] = ()  # any of these (case-insensitive)
    search: str = ""
    stagnation: tuple[Stagnation, ...] = ()
    sync: tuple[SyncMark, ...] = ()
    sort: SortKey = "name"
    descending: bool = False
    offset: int = 0
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What :meth:`Store.set_status` did. ``changed`` is False when the target already had it."""

    changed: bool
    target: TargetView
    change_id: str | None = None
    before: str | None = None  # the status the target had


def _status_words(status: str | None) -> str:
    return status or "no status"


@dataclass(frozen=True)
class Undone:
    """What :meth:`Store.undo_last` took back: one status change, or a bulk change (or an
    import's status changes) whole. ``count`` targets went back; ``target`` is one of them
    (the only one of a single change), as it is now; ``status`` is what the undone change
    had set, unless ``mixed``: the changes set several (an import's)."""

    count: int
    target: TargetView
    status: str | None
    mixed: bool = False
    kept: int = 0  # of a bulk change: its targets changed since (or waiting), left as they are

    def words(self) -> str:
        """What was undone, for a message after "Undone: "."""
        if self.count == 1:
            target = self.target
            now = f"is {target.status}" if target.status else "has no status"
            return f"{target.name} {now} again"
        what = (
            "an import's status changes"
            if self.mixed
            else f"the bulk change to {_status_words(self.status)}"
        )
        kept = (
            f"; {self.kept:,} more kept as they are (changed since, or waiting on a conflict)"
            if self.kept
            else ""
        )
        return f"{what} of {self.count:,} targets; each has its status from before again{kept}"


@dataclass(frozen=True, slots=True)
class NotUndone:
    """What :meth:`Store.undo_last` found and left: this device's latest change no longer
    stands, so nothing was undone (the next undo goes past it). ``count`` targets (one,
    or a bulk change's); ``target`` is one of them, as it is now; ``status`` what the
    change had set; ``by`` who changed the target since (None: not known), or ``held``
    ('conflict', 'rejected'): the change waits on one (its own or an earlier one of its
    target), the server never took it."""

    count: int
    target: TargetView
    status: str | None
    by: str | None
    held: str | None
    converged: bool = False  # a teammate had made the same change first
    by_me: bool = False  # ``by`` is this user, on another of their devices

    def words(self) -> str:
        """Why nothing was undone, and what the next undo does: a whole message."""
        name, status = self.target.name, _status_words(self.status)
        if self.held == "conflict":
            why = (
                f"your change of {name} to {status} waits on a conflict; settle it with the"
                " conflicts"
            )
        elif self.held == "rejected":
            why = (
                f"your change of {name} to {status} waits on a change the server rejected;"
                " drop or correct it"
            )
        elif self.count > 1:
            why = f"every target of your bulk change to {status} was changed since"
        elif self.converged:
            who = "you" if self.by_me else self.by or "a teammate"
            where = " on another device" if self.by_me else ""
            why = (
                f"{who} had made the same change of {name} to {status}{where} first, and it stands"
            )
        else:
            who = " by you on another device" if self.by_me else f" by {self.by}" if self.by else ""
            why = f"{name} was changed{who} since your change to {status}, and keeps that change"
        return f"Nothing undone: {why}. Undo again to go further back."


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    change_id: str
    old_status: str | None
    new_status: str | None
    changed_at: datetime
    changed_by: str
    note: str | None
    days_in_previous: int | None
    origin: Origin
    sync: EntrySync  # for origin=local: pending/conflict/rejected until the server has it

    def to_json(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "old_status": self.old_status,
            "new_status": self.new_status,
            "changed_at": iso(self.changed_at),
            "changed_by": self.changed_by,
            "note": self.note,
            "days_in_previous": self.days_in_previous,
            "origin": self.origin,
            "sync": self.sync,
        }


@dataclass(frozen=True, slots=True)
class ActivityEntry:
    """A status change of any target (``pipetrack activity``): the target, then the
    change as its history shows it."""

    target: str  # uid
    name: str
    change: HistoryEntry

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "name": self.name, **self.change.to_json()}


@dataclass(frozen=True, slots=True)
class ConflictView:
    """A local change the server refused because another device changed the same field."""

    change_id: str
    target: str  # uid
    name: str
    op: str
    base_status: str | None
    base_version: int | None
    mine_status: str | None
    mine_fields: dict[str, Any] | None
    mine_changed_at: datetime
    mine_note: str | None
    theirs_status: str | None
    theirs_changed_by: str | None
    theirs_changed_at: datetime | None
    theirs_version: int
    theirs_note: str | None = None  # the teammate's note on their status change, once pulled
    #: an edit's: the server's values of the details it sets, and of those the teammate
    #: changed (where the details it was made on are known: ``base_fields``)
    theirs_fields: dict[str, Any] | None = None
    base_fields: dict[str, Any] | None = None  # an edit's: the details it was made on
    #: the user undid the change since: its undo waits behind it (settling drops the undo)
    undone: bool = False
    #: the statuses the user set after it, waiting behind it: they follow whatever it is
    #: settled on, so the target ends at the last of them
    then: tuple[str | None, ...] = ()
    #: the details the user's edits made after it set, waiting behind it (they follow too)
    later_fields: tuple[str, ...] = ()

    def theirs_unchanged(self) -> set[str]:
        """An edit's details that the teammate left as the edit's base had them (none
        when that base is not known): the conflict is over the others."""
        base, theirs = self.base_fields, self.theirs_fields or {}
        return set() if base is None else {k for k in theirs if theirs[k] == base.get(k)}

    def settled_text(
        self,
        name: str,
        status: str | None,
        choice: str,
        label: Callable[[str | None], str],
        dropped_later: bool = False,
    ) -> str:
        """What settling it did, in the terms of the conflict (the CLI's resolve and the
        TUI say it alike; ``label`` writes a status): a status conflict's status now, an
        edit's fields kept or sent; and what follows it, the user's later changes (or
        that they were dropped with it)."""
        follows = []
        if self.undone:
            follows.append("your undo of it dropped")
        if dropped_later and (self.then or self.later_fields):
            follows.append("your later changes dropped")
        elif self.op == "edit" and self.later_fields:
            follows.append(f"your later edit of {', '.join(self.later_fields)} goes out after it")
        if self.then and not dropped_later:  # they follow: the target ends at the last
            # ... as made; an undo among them now undoes to what was chosen instead
            last = self.then[-1]
            follows.append(
                f"your later change to {label(last)} follows it"
                if last == status or self.op == "edit"
                else "your later changes follow it"
            )
        if self.op != "edit":
            told = f" ({'; '.join(follows)})" if follows else ""
            return f"{name}: resolved, now {label(status)}{told}"
        fields = ", ".join(sorted(self.mine_fields or {})) or "the details"
        if choice == "mine":
            told = f" ({'; '.join(follows)})" if follows else ""
            return f"{name}: resolved, your edit of {fields} goes out{told}"
        dropped = "; ".join(["your edit dropped", *follows])
        return f"{name}: resolved, the server's {fields} kept ({dropped})"

    def to_json(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "target": self.target,
            "name": self.name,
            "base": {
                "status": self.base_status,
                "version": self.base_version,
                "fields": self.base_fields,
            },
            "mine": {
                "status": self.mine_status,
                "changed_at": iso(self.mine_changed_at),
                "note": self.mine_note,
                "fields": self.mine_fields,
                "undone": self.undone,
                "then": list(self.then),
                "later_fields": list(self.later_fields),
            },
            "theirs": {
                "status": self.theirs_status,
                "changed_by": self.theirs_changed_by,
                "changed_at": iso(self.theirs_changed_at),
                "version": self.theirs_version,
                "note": self.theirs_note,
                "fields": self.theirs_fields,
            },
        }


@dataclass(frozen=True, slots=True)
class RejectedView:
    change_id: str
    target: str
    name: str
    op: str
    status: str | None
    fields: dict[str, Any] | None
    changed_at: datetime
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "target": self.target,
            "name": self.name,
            "op": self.op,
            "status": self.status,
            "fields": self.fields,
            "changed_at": iso(self.changed_at),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class SyncState:
    online: bool
    online_since: datetime | None
    last_sync_at: datetime | None
    pending: int
    oldest_pending_age_s: float | None
    conflicts: int
    rejected: int
    last_error: str | None
    server: str | None
    #: A sync process runs on the profile; ``online`` is never true without one.
    daemon_running: bool = False
    #: That process has recorded ``online`` and ``last_error`` itself: until it does,
    #: ``last_error`` is one an earlier process left (a killed daemon's, say).
    reported: bool = False
    #: That process is part way through pulling: the last page it stored said more
    #: follows (a new device's catch-up, a return after weeks offline).
    pulling: bool = False
    #: A few words on what the user can do about ``last_error`` ("sign in to the
    #: Wi-Fi?"), when the sync process knows.
    hint: str | None = None
    #: Changes of ours sent again because the server had lost them (its database
    #: restored from a backup), counted since the store was made.
    resent: int = 0
    #: The server's database was restored: everything is pulled again from the start,
    #: and nothing is pushed until that ends (the changes' bases are checked first).
    pulling_again: bool = False
    #: Of ``pending``, those waiting behind a conflict or a refusal of their target: not
    #: sent until it is settled (counted apart: "1 pending" stayed while nothing could go).
    held: int = 0

    @property
    def to_send(self) -> int:
        """Pending changes the sync sends as soon as it can."""
        return self.pending - self.held

    @property
    def connection(self) -> str:
        """``online``; ``connecting`` (a sync process runs and has not reached the server
        yet); ``offline``; ``not syncing`` (no sync process runs)."""
        if self.online:
            return "online"
        if not self.daemon_running:
            return "not syncing"
        return "offline" if self.reported else "connecting"

    @property
    def error_from_before(self) -> bool:
        """``last_error`` is one an earlier process left: the running daemon has not
        reported yet (what the bar and ``status`` must not show as current)."""
        return bool(self.last_error) and self.connection == "connecting"

    @property
    def current_hint(self) -> str | None:
        """:attr:`hint`, unless it belongs to an error from before."""
        return None if self.error_from_before else self.hint

    def to_json(self) -> dict[str, Any]:
        return {
            "online": self.online,
            "online_since": iso(self.online_since),
            "last_sync_at": iso(self.last_sync_at),
            "pending": self.pending,
            "oldest_pending_age_s": self.oldest_pending_age_s,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "last_error": self.last_error,
            "server": self.server,
            "connection": self.connection,
            "pulling": self.pulling,
            "hint": self.current_hint,
            "resent": self.resent,
            "pulling_again": self.pulling_again,
            "held": self.held,
        }


@dataclass(frozen=True, slots=True)
class PushSummary:
    applied: int = 0
    duplicate: int = 0
    converged: int = 0
    conflict: int = 0
    blocked: int = 0
    rejected: int = 0
    #: Refused because their base was ahead of the server's version (a restored server),
    #: and queued again on its version (:func:`storage.sync.restored_base`).
    rebased: int = 0


@dataclass(frozen=True, slots=True)
class PullSummary:
    targets: int = 0
    history: int = 0
    overwritten: int = 0  # local views replaced by the server's
    kept_pending: int = 0  # targets whose pending changes stay on top
    resent: int = 0  # our changes the server lost (a restore), queued again
    settled: int = 0  # conflicts ended by the page: the teammate's newest side is ours


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts per status and aging buckets (0-7, 8-30, 31-90, 90+ days in status)."""

    total: int
    by_status: dict[str | None, int] = field(default_factory=dict)
    buckets: dict[str | None, tuple[int, int, int, int]] = field(default_factory=dict)
