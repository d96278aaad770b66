"""The local store: the only way anything touches ``pipetrack.db``.

The signatures and docstrings below are the contract the CLI, the TUI and the sync
daemon code against; the work is done by the modules beside this one. Times handed
out are timezone-aware UTC datetimes.

Conventions worth knowing (details in the modules named):

- The local view is the server base with every outbox row (pending, conflict,
  rejected) applied in order; one function defines it (``view.compute_view``). A
  status change moves the stored view by that function's step alone (``status``).
- ``base_version`` of a change is the target's server version when it was made, or 0
  while the server does not have the target yet; creates carry none. Neither an
  applied result nor a pull moves it (that would hide a teammate's change the user
  never saw: the server counts only other devices' changes since it). Where the device
  takes the server's side of a field group (a converged result, a settled conflict),
  the target's later pending changes of that group build on the server's version
  (``sync.REBASED_OPS``).
- Settling a conflict re-issues or drops the change; a dropped change (take theirs,
  drop rejected) deletes its local audit row: history never claims a change that
  did not happen. Dropping a rejected ``create`` deletes the target.
- Stagnation counts whole days (``stagnation``): stale when days > threshold,
  aging from ceil(80 %); a snooze relabels aging/stale targets ``snoozed`` until the
  day it names (UTC), and never touches fresh ones.
- Every write is one BEGIN IMMEDIATE transaction; a busy file is waited for up to
  30 s (``db``), otherwise StoreError.
"""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from protocol import Status

from . import actions, conflicts, importer, reports, sync
from . import query as reads
from .context import Ctx
from .db import open_database, translating
from .errors import Ambiguous, NotFound, StoreError
from .migrations import LATEST
from .presence import sync_process_pid
from .pull import PULL_AGAIN, StagedPage, start_again, write_page
from .schema import bind_models
from .stagnation import normalize_thresholds
from .types import (
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

if TYPE_CHECKING:  # pydantic's models: off the TUI's start (annotations only here)
    from protocol.wire import AuditEntry, Change, Result, TargetState

Clock = Callable[[], datetime]

__all__ = ["Ambiguous", "Clock", "NotFound", "Store", "StoreError", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


#: meta key: the server's name for this profile's user.
USER_NAME = "user_name"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers): still record something
        return "unknown"


class Store:
    """One profile's SQLite file. Safe to use from several processes at once."""

    def __init__(self, ctx: Ctx) -> None:
        """Use :meth:`open`."""
        self._ctx = ctx

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        ``user`` is how local audit rows name who changed (default: the name the server
        knows this profile's user by, once login or sync has learnt it, else the OS user).
        Raises StoreError for a corrupt / foreign / unwritable file.
        """
        path = Path(path).expanduser()
        db = open_database(path)
        ctx = Ctx(
            db=db,
            m=bind_models(db),
            path=path,
            clock=clock,
            thresholds=normalize_thresholds(thresholds),
            user=user or "",
        )
        if not ctx.user:
            try:
                with translating(path):
                    ctx.user = ctx.get_meta(USER_NAME) or _os_user()
            except BaseException:
                db.close()
                raise
        return cls(ctx)

    def close(self) -> None:
        self._ctx.db.close()

    @property
    def user_name(self) -> str | None:
        """The name the server knows this profile's user by (``GET /v1/me``), if learnt."""
        return self._ctx.get_meta(USER_NAME)

    def set_user_name(self, name: str) -> None:
        """Record the server's name for this profile's user: this device's changes are
        recorded under it from now on, as the server records them, and so are those not
        on the server yet (made before ``login``: they said the laptop's login name, a
        refused one for good)."""
        with self._ctx.write():
            self._ctx.set_meta(USER_NAME, name)
            a = self._ctx.m.audit
            a.update(changed_by=name).where(
                (a.origin == "local") & a.server_version.is_null()
            ).execute()
        self._ctx.user = name

    @property
    def device_id(self) -> str:
        """Minted when the file is created; stable for the life of the file."""
        device = self._ctx.get_meta("device_id")
        assert device is not None, "migration 1 mints the device id"
        return device

    def now(self) -> datetime:
        """The store's clock (the real one, or a test's)."""
        return self._ctx.now()

    def data_version(self) -> int:
        """Changes whenever another connection commits (PRAGMA data_version)."""
        return self._ctx.db.pragma("data_version")

    def check_schema(self) -> None:
        """StoreError if a newer pipetrack has upgraded the file since it was opened: a
        long-running process (the sync daemon) must not go on writing it with older code."""
        found = self._ctx.db.pragma("user_version")
        if found > LATEST:
            raise StoreError(
                f"{self._ctx.path} was upgraded by a newer pipetrack (schema {found}, this one "
                f"knows up to {LATEST}): start it again to run the new one"
            )

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
        """Create a target (uid minted unless given); outbox ``create``.

        InvalidInput on bad fields, when a target with ``uid`` exists already, or when
        another target has ``name`` (in any case)."""
        new = actions.validate_new(name, description, markets, status, uid, note)
        return actions.create_target(self._ctx, new)

    def edit_target(
        self,
        ref_uid: str,
        *,
        name: str | None = None,
        description: str | None = None,
        markets: Iterable[str] | None = None,
    ) -> TargetView:
        """Edit details (None = unchanged); outbox ``edit`` with only the changed fields.
        A name another target has (in any case) is refused (InvalidInput)."""
        return actions.edit_target(self._ctx, ref_uid, name, description, markets)

    def set_status(
        self, uid: str, status: Status | str | None, note: str | None = None
    ) -> StatusChange:
        """Change the status: local view + audit row + outbox row in one transaction.

        Setting the status the target already has writes nothing (``changed=False``).
        """
        return actions.set_status(self._ctx, uid, status, note)

    def set_status_many(
        self, uids: Sequence[str], status: Status | str | None, note: str | None = None
    ) -> int:
        """One status on many targets in one transaction: an audit and an outbox row per
        target that changes; targets already in ``status`` are skipped (a uid given twice
        counts once). Returns how many changed. An unknown uid raises NotFound (as
        :meth:`set_status` does) and nothing is written."""
        return actions.set_status_many(self._ctx, uids, status, note)

    def undo_last(self) -> Undone | NotUndone | None:
        """Compensate this device's last status change that still stands (a new change
        back to the old status, its note saying it undoes the earlier one); a bulk change
        is compensated whole. None when nothing to undo."""
        return actions.undo_last(self._ctx)

    def snooze(self, uid: str, until: date | None) -> TargetView:
        """Not stale before ``until`` (None clears). Local only, not synced."""
        return actions.snooze(self._ctx, uid, until)

    def import_targets(
        self,
        rows: Sequence[dict[str, str]],
        saved: Callable[..., object] | None = None,
        dry_run: bool = False,
    ) -> importer.Imported:
        """All-or-nothing import of already-parsed rows (keys: uid?, name, description?,
        markets? ("a;b"), status?). Existing targets (by uid if given, else by name,
        case-insensitive) are updated only where different. Returns (created, updated),
        a tuple that also lists them: ``.updated_targets`` (each with its fields old ->
        new) and ``.created_targets``. Raises InvalidInput whose message names the
        1-based row (``row 3: ...``). ``dry_run``: the same import, every check and
        write, rolled back at the end: nothing changes, the result says what would.
        ``saved(done, total)`` is told after each chunk of new targets is written, and
        ``saved(done, total, "updates")`` after each chunk of updates, when there are
        several chunks (not yet committed: the import is one transaction)."""
        return importer.import_targets(self._ctx, rows, saved, dry_run)

    # ---- reading ----------------------------------------------------------------------
    def get(self, uid: str) -> TargetView:
        with self._ctx.read():
            return reads.get(self._ctx, uid)

    def resolve(self, ref: str) -> TargetView:
        """A uid, a unique uid prefix of >= 4 characters, or an exact name (case-insensitive).
        Raises NotFound or Ambiguous."""
        return reads.resolve(self._ctx, ref)

    def iter_targets(self, query: TargetQuery = TargetQuery()) -> Iterator[TargetView]:
        """:meth:`list_targets` a row at a time, from one snapshot held until the last
        (for writing many targets out without holding them all). Close it
        (``contextlib.closing``) before the store when the rows may not all be taken."""
        return reads.iter_targets(self._ctx, query)

    def position(self, uid: str, query: TargetQuery = TargetQuery()) -> int | None:
        """The row number of target ``uid`` in :meth:`list_targets` of ``query`` (None:
        not in it), e.g. to select a target just made."""
        return reads.position(self._ctx, query, uid)

    def list_targets(self, query: TargetQuery = TargetQuery()) -> list[TargetView]:
        """Indexed SQL query (filter, sort, offset, limit); fast at 100,000 targets."""
        return reads.list_targets(self._ctx, query)

    def count_targets(self, query: TargetQuery = TargetQuery()) -> int:
        return reads.count_targets(self._ctx, query)

    def query_plan(self, query: TargetQuery = TargetQuery()) -> list[str]:
        """How SQLite runs :meth:`list_targets` for ``query`` (EXPLAIN QUERY PLAN lines)."""
        return reads.query_plan(self._ctx, query)

    def markets(self) -> list[str]:
        """Every market in use, sorted, for filter pickers."""
        return reads.markets(self._ctx)

    def history(self, uid: str) -> list[HistoryEntry]:
        """Status changes of a target, oldest first, with days spent in the previous status."""
        return reports.history(self._ctx, uid)

    def activity(
        self, since: datetime, by: str | None = None, limit: int | None = None
    ) -> list[ActivityEntry]:
        """Status changes of every target since ``since`` (of user ``by``), newest first,
        each with its target and the days spent in the status before."""
        return reports.activity(self._ctx, since, by, limit)

    def stale_targets(self) -> list[TargetView]:
        """Stale targets, longest in their status first."""
        return reports.stale_targets(self._ctx)

    def iter_stale_targets(self) -> Iterator[TargetView]:
        """:meth:`stale_targets` a row at a time (as :meth:`iter_targets`; close it)."""
        return self.iter_targets(reports.STALE)

    def summary(self) -> Summary:
        return reports.summary(self._ctx)

    def became_stale_since_last_open(self) -> int:
        """How many targets turned stale since the previous call (the TUI calls it at start);
        records now as the new mark."""
        return reports.became_stale_since_last_open(self._ctx)

    # ---- sync state ---------------------------------------------------------------------
    def sync_state(self, server: str | None = None) -> SyncState:
        return sync.sync_state(self._ctx, server)

    def sync_process(self) -> int | None:
        """The pid of the sync process running on this store's profile (None: none); a
        few system calls, no database read."""
        return sync_process_pid(self._ctx.path.parent)

    def record_sync(
        self,
        *,
        online: bool,
        error: str | None = None,
        synced: bool = False,
        hint: str | None = None,
    ) -> None:
        """The daemon reports: online/offline (``online_since`` moves on a change),
        ``last_error`` (None clears), ``synced`` stamps ``last_sync_at``."""
        sync.record_sync(self._ctx, online=online, error=error, synced=synced, hint=hint)

    def conflicts(self) -> list[ConflictView]:
        return conflicts.conflicts(self._ctx)

    def rejected(self) -> list[RejectedView]:
        return conflicts.rejected(self._ctx)

    def resolve_conflict(
        self,
        change_id: str,
        choice: Literal["mine", "theirs"] | Status | str,
        note: str | None = None,
        drop_later: bool = False,
        seen_version: int | None = None,
    ) -> TargetView:
        """keep mine: re-issued on the server's version, with its note; take theirs:
        dropped, local view = server; a status: that status on the server's version, with
        ``note``. Held changes go on after, except undos of a change dropped or replaced;
        ``drop_later`` (theirs or a status): they are dropped too, so the target ends at
        the choice. ``seen_version``: the server's version the user was shown; another
        now is InvalidInput, nothing settled."""
        return conflicts.resolve_conflict(
            self._ctx, change_id, choice, note, drop_later, seen_version
        )

    def resolve_all(
        self,
        choice: Literal["mine", "theirs"] | Status | str,
        note: str | None = None,
        drop_later: bool = False,
    ) -> list[TargetView]:
        """:meth:`resolve_conflict` of every conflict with one choice, in one transaction
        (all or none); the targets after, oldest conflict first."""
        return conflicts.resolve_all(self._ctx, choice, note, drop_later)

    def recreate_rejected(self, change_id: str, name: str | None = None) -> TargetView:
        """A rejected new target made again under a new uid, as it is now (under ``name``
        if given), and the rejected one dropped, in one transaction (InvalidInput for
        another change, or a name another target has)."""
        return conflicts.recreate_rejected(self._ctx, change_id, name)

    def drop_rejected(self, change_id: str) -> TargetView:
        return conflicts.drop_rejected(self._ctx, change_id)

    def correct_rejected(
        self, change_id: str, status: Status | str | None, note: str | None = None
    ) -> StatusChange:
        """Drop a rejected status change and make a new one (``status``, ``note``) on its
        target, in one transaction: a crash cannot drop the change and lose the
        correction. NotFound as :meth:`drop_rejected`; InvalidInput for a bad status or
        a rejected create / edit (those are dropped, not corrected); nothing changed then.
        """
        return conflicts.correct_rejected(self._ctx, change_id, status, note)

    # ---- daemon-facing ---------------------------------------------------------------------
    def take_batch(self, limit: int = 500) -> list[Change]:
        """Pending changes in creation order, skipping targets held behind a conflict or a
        rejection. Taking does not remove: only results do (a lost response is re-sent as is)."""
        return sync.take_batch(self._ctx, limit)

    def take_wire_batch(self, limit: int = 500) -> list[sync.WireChange]:
        """:meth:`take_batch` with each change as its wire JSON, no model per change."""
        return sync.take_wire_batch(self._ctx, limit)

    def apply_push_results(self, results: Sequence[Result | sync.PushResult]) -> PushSummary:
        """applied/duplicate/converged: done, server base moves (converged: the target's
        later pending changes of that field group are rebased onto it); conflict: kept
        with the server state; rejected: kept with the reason; blocked: stays pending.
        One transaction. ``results``: models, or the daemon's lean
        :class:`~storage.sync.PushResult` rows."""
        return sync.apply_push_results(self._ctx, results)

    def pull_cursor(self) -> str | None:
        return sync.pull_cursor(self._ctx)

    def restart_pull(self) -> None:
        """The server refused the pull cursor (its database was restored or replaced):
        the next pull starts from the beginning, and until it reaches the end every
        target takes the state the server sends, even a version older than its base; at
        the end the changes waiting here go on the server's versions (storage/resend.py).
        Nothing should be pushed meanwhile (:meth:`pulling_again`)."""
        start_again(self._ctx)

    def pulling_again(self) -> bool:
        """Whether a pull from the start after a refused cursor is under way: the bases
        of the changes waiting here may name versions the server lost or gave again."""
        with self._ctx.read():
            return self._ctx.get_meta(PULL_AGAIN) is not None

    def a_synced_target(self) -> str | None:
        """The uid of one target a server has acknowledged, or None (nothing synced)."""
        return sync.a_synced_target(self._ctx)

    def apply_pull(
        self, targets: Sequence[TargetState], history: Sequence[AuditEntry], cursor: str
    ) -> PullSummary:
        """Server base := pulled state; local view overwritten only where nothing is pending
        (else server base + pending changes on top); audit entries recorded (origin server,
        or our own local rows marked synced); cursor saved. One transaction."""
        return self._settled(sync.apply_pull(self._ctx, targets, history, cursor))

    def apply_pull_json(self, body: bytes | str) -> PullSummary:
        """:meth:`apply_pull` of a page given as the server's JSON text (``/v1/pull``'s
        body), applied inside SQLite. A body that is not a pull answer raises ValueError
        saying where, and changes nothing."""
        from .pull_json import apply_pull_json  # the JSON path only: off the TUI's start

        return self._settled(apply_pull_json(self._ctx, body))

    @staticmethod
    def read_pull_json(body: bytes | str) -> StagedPage:
        """The first half of :meth:`apply_pull_json`: the page checked and converted into
        rows on this thread's own in-memory SQLite, no store touched (so it can run on
        another thread while a store writes the page before). ValueError as there."""
        from .pull_json import read_page

        return read_page(body)

    def write_pull_page(self, page: StagedPage) -> PullSummary:
        """The second half: the rows applied and the page's cursor saved, one transaction."""
        return self._settled(write_page(self._ctx, page))

    def _settled(self, pulled: PullSummary) -> PullSummary:
        """After a page: the conflicts it ended (the teammate's newest side asks what
        ours asks) settled as "keep mine" (:func:`conflicts.settle_agreed`)."""
        return dataclasses.replace(pulled, settled=conflicts.settle_agreed(self._ctx))
