"""The pipeline's list kept in step with the store: which rows are on screen for the
current query, read on the event loop while reads are quick and in worker threads once
they are not, with the counts under the table. :class:`PipelineScreen` adds the keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from rich.cells import cell_len
from textual import work
from textual.widgets import Static
from textual.worker import get_current_worker

from storage import StoreError, SyncState, TargetQuery

from ..display import describe_filter, needs_you, plural, sync_news
from ..pager import TargetPager
from ..widgets import FittingLabel, SyncBar, TargetTable
from .base import AppScreen

#: While the last read of the rows on screen took less than this, the next one is made
#: on the event loop: the typed character and the rows it selects then land in one frame
#: instead of two (about 20 ms a keystroke). A slower read goes to the worker, so the
#: keyboard never waits on a slow query.
INLINE_READ_S = 0.025


class ListingScreen(AppScreen):
    """A screen of one :class:`TargetTable` showing ``target_query``, a ``#counts``
    label, an ``#empty`` Static (what to do when no row is shown) and a
    :class:`SyncBar` (its subclass composes them)."""

    def __init__(self) -> None:
        super().__init__()
        self.target_query = TargetQuery()
        self.grand_total = 0
        # Data changes bump the generation; the number of all targets is counted again
        # only then, not for every keystroke.
        self._generation = 0
        self._grand_generation = -1
        self._in_flight = False
        self._pending_keep: bool | None = None  # a load asked for while one runs
        self._read_s = 0.0  # how long the last read of the rows on screen took
        self._counts_text = ""
        self._sync_seen: SyncState | None = None  # the sync state shown last
        # A row to put the cursor on, with the generation of the data that holds it.
        self._select: tuple[int, int] | None = None

    @property
    def table(self) -> TargetTable:
        return self.query_one(TargetTable)

    def show_first_screen(self) -> None:
        """The first screenful read right away, so the first paint shows rows; the sync
        bar (whole-outbox counts) follows from its own worker."""
        first = self.attempt(self._read, self.target_query, 0, self.app.size.height, None)
        if first is not None:
            self._show(*first, keep_position=False, generation=self._generation)
        self.refresh_sync()

    # ---- loading (quick reads inline, the others in worker threads) -------------------
    def reload_data(self) -> None:
        """The data changed (here or in another process): rows and sync bar again."""
        self._generation += 1
        self.load()
        self.refresh_sync()

    @work(exclusive=True, thread=True, group="sync-bar", exit_on_error=False)
    def refresh_sync(self) -> None:
        try:
            state = self.store.sync_state(self.pipetrack.server)
        except StoreError:
            return  # the table's reads report database problems
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_sync, state)

    def _show_sync(self, state: SyncState) -> None:
        """The sync bar; and a notification when the sync brought conflicts or refused
        changes, which need the user (a row's mark alone is easy to miss). The first
        state read tells those waiting since the app was closed (the greeting)."""
        before, self._sync_seen = self._sync_seen, state
        self.query_one(SyncBar).show_state(state)
        key = self.pipetrack.key_of("conflicts")
        if before is not None:
            news = sync_news(before, state, key)
        else:
            news = needs_you(state.conflicts, state.rejected, key) if self.pipetrack.greet else []
        for text, severity in news:
            self.notify(text, title="Sync", severity=severity, timeout=10)

    def load(self, *, keep_position: bool = True) -> None:
        """Read the current query again: on the event loop while reads are quick
        (:data:`INLINE_READ_S`), else in a worker thread.

        At most one read is in flight: requests made meanwhile (fast typing in the
        search box, a burst of data changes) are coalesced into one more read of the
        latest query when it finishes. A keystroke after a pause is read at once, so it
        repaints in milliseconds; a burst costs one read per read time, not per key.
        """
        pending = self._pending_keep
        self._pending_keep = keep_position if pending is None else pending and keep_position
        if not self._in_flight:
            self._dispatch()

    def _dispatch(self) -> None:
        keep_position = bool(self._pending_keep)
        self._pending_keep = None
        self._in_flight = True
        table = self.table
        first = table.first_visible if keep_position else 0
        if self._select is not None:  # the screenful that ends with the row to select
            first = max(self._select[0] - table.visible_rows + 1, 0)
        grand = self.grand_total if self._grand_generation == self._generation else None
        rows = (first, table.visible_rows)
        # The generation as the read is asked for: a change made meanwhile reads again.
        if self._read_s < INLINE_READ_S:
            result = self.attempt(self._read, self.target_query, *rows, grand)
            done = None if result is None else (*result, keep_position, self._generation)
            self._loaded(done)
        else:
            self._load(self.target_query, rows, keep_position, grand, self._generation)

    def _read(
        self, query: TargetQuery, first: int, count: int, grand: int | None
    ) -> tuple[TargetPager, int]:
        """The rows on screen for ``query`` (its matches counted up to a cap) and the
        number of all targets (``grand`` when still known)."""
        start = time.perf_counter()
        try:
            if grand is None:
                grand = self.store.count_targets(TargetQuery())
            unfiltered = replace(query, sort="name", descending=False) == TargetQuery()
            known = grand if unfiltered else None
            return TargetPager.first_screen(self.store, query, first, count, known=known), grand
        finally:
            self._read_s = time.perf_counter() - start

    @work(exclusive=True, thread=True, group="pipeline-load", exit_on_error=False)
    def _load(
        self,
        query: TargetQuery,
        rows: tuple[int, int],
        keep_position: bool,
        grand: int | None,
        generation: int,
    ) -> None:
        result = None
        try:
            pager, total = self._read(query, *rows, grand)
            result = (pager, total, keep_position, generation)
        except StoreError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._loaded, result)

    def _loaded(self, result: tuple[TargetPager, int, bool, int] | None) -> None:
        self._in_flight = False
        if result is not None:
            pager, total, keep_position, generation = result
            self._show(pager, total, keep_position, generation=generation)
        if self._pending_keep is not None:
            self._dispatch()

    def _show(
        self, pager: TargetPager, total: int, keep_position: bool, *, generation: int
    ) -> None:
        if pager.query != self.target_query:
            return  # an older answer; a newer load is on its way
        self.grand_total = total
        self._grand_generation = generation
        had_rows = bool(self.table.row_count)
        self.table.set_pager(pager, keep_position=keep_position)
        if self._select is not None and generation >= self._select[1]:
            self.table.cursor_row, self._select = self._select[0], None
        self.show_counts()
        if had_rows != bool(pager.total):
            self.refresh_bindings()  # the footer re-lists the keys that apply
        if not pager.exact:
            self._count(pager)

    @work(exclusive=True, thread=True, group="pipeline-count", exit_on_error=False)
    def _count(self, pager: TargetPager) -> None:
        """All the matches of a query shown with a capped count, after its first paint."""
        try:
            total = pager.count_exactly()
        except StoreError:
            return  # the table's reads report database problems
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._counted, pager, total)

    def _counted(self, pager: TargetPager, total: int) -> None:
        if pager is self.table.pager:
            pager.counted(total)
            self.table.total_changed()
            self.show_counts()

    def show_counts(self) -> None:
        table = self.table
        shown = f"{table.row_count:,}" + ("" if table.pager.exact else "+")
        marked = f" · {len(table.marked):,} marked" if table.marked else ""
        # The filter in full, else with its markets counted when that does not fit the
        # bar (the bar only: the empty list and the bulk preview say it in full).
        # the marked count before the filter: the bar cuts its end, and `b` acts on them
        texts = [
            f"{shown} of {plural(self.grand_total, 'target')}{marked} · {words}"
            for words in dict.fromkeys(
                describe_filter(self.target_query, count_markets=count) for count in (False, True)
            )
        ]
        # A label sized to its text: a layout pass (the whole screen) only when the width
        # changes; the same width repaints the label alone.
        layout = cell_len(texts[0]) != cell_len(self._counts_text)
        self._counts_text = texts[0]
        self.query_one("#counts", FittingLabel).show_texts(texts, layout=layout)
        self.show_empty_state()

    def show_empty_state(self) -> None:
        """What to do when no row is shown: a first start, or a filter matching nothing."""
        empty = self.query_one("#empty", Static)
        if self.table.row_count:
            empty.set_class(False, "-shown")
            return
        if self.grand_total:
            text = (
                f"No targets match {describe_filter(self.target_query)}. "
                "Press esc to clear the search and filters."
            )
        else:
            text = (
                "No targets yet. Press n to add one, or import a CSV file with "
                "pipetrack import FILE.csv. To work with your team: pipetrack login URL "
                "--token T, then pipetrack sync."
            )
        empty.update(text)
        empty.set_class(True, "-shown")

    # ---- selecting a target ----------------------------------------------------------
    def select_target(self, uid: str, told: Callable[[bool | None], object]) -> None:
        """Put the cursor on target ``uid`` when the current query holds it; ``told``
        gets whether it does (None: the query changed meanwhile, nothing selected)."""
        self._locate(self.target_query, uid, told)

    @work(exclusive=True, thread=True, group="pipeline-locate", exit_on_error=False)
    def _locate(self, query: TargetQuery, uid: str, told: Callable[[bool | None], object]) -> None:
        # in this thread, never the event loop: the uids are read in order until it comes
        try:
            index = self.store.position(uid, query)
        except StoreError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._located, query, index, told)

    def _located(
        self, query: TargetQuery, index: int | None, told: Callable[[bool | None], object]
    ) -> None:
        if query != self.target_query:
            told(None)
            return
        if index is not None:
            # read again (the row read above is in the store): the next answer moves to it
            self._generation += 1
            self._select = (index, self._generation)
            self.load()
        told(index is not None)

    def requery(self, query: TargetQuery) -> None:
        self.target_query = query
        self._select = None  # a row of the query before
        self.load(keep_position=False)
