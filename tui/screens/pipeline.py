"""The pipeline screen: the virtual target table, search, filters, status keys."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from protocol import STATUS_ORDER, Status
from storage import NotUndone, StatusChange, TargetQuery, TargetView, Undone

from ..display import STALE_ONLY, describe_filter, plural, status_label, status_news
from ..pager import TargetPager
from ..widgets import FittingLabel, KeyFooter, SyncBar, TargetTable
from ..widgets.columns import SortKey
from .listing import ListingScreen

#: How many targets a bulk change's preview names.
BULK_NAMES = 5

if TYPE_CHECKING:
    from .forms import TargetFields
    from .status_picker import StatusChoice

# The dialogs are imported when first opened (see ``tui.screens``).

SORT_CYCLE: tuple[SortKey, ...] = ("name", "status", "markets", "days", "sync")
STATUS_KEYS = Binding.Group("Set status", compact=True)
#: Bindings left out of the footer (show=False) that a wide one shows, most useful first.
FOOTER_EXTRAS = ("activity", "new_target", "undo", "stale_only", "mark", "bulk")


def _status_bindings() -> list[Binding]:
    return [
        Binding(
            str(number),
            f"set_status({number - 1})",
            status.value,
            id=f"set_{status.lower()}",
            group=STATUS_KEYS,
        )
        for number, status in enumerate(STATUS_ORDER, 1)
    ]


class PipelineScreen(ListingScreen):
    """All targets, page by page: the status keys act on the selected row, ``b`` on the
    marked rows (or every row the filter shows)."""

    AUTO_FOCUS = "TargetTable"

    BINDINGS = [
        *_status_bindings(),
        Binding("s", "status_picker", "Status…", id="status_picker"),
        Binding("enter", "detail", "Detail", id="detail"),
        # Priority (see `action_search`): the keys that open, leave and clear the search
        # act as the app reads them, before it routes the keys read with them.
        Binding("slash", "search", "Search", priority=True, id="search"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("f", "filter", "Filter", id="filter"),
        Binding("c", "conflicts", "Conflicts", id="conflicts"),
        Binding("g", "summary", "Summary", id="summary"),
        Binding("a", "activity", "Activity", show=False, id="activity"),
        # kept at the footer's right end whatever its width (see KeyFooter)
        Binding("q", "app.quit", "Quit", id="quit"),
        # In the footer when a wide terminal has room (FOOTER_EXTRAS); always in the help
        # and the palette.
        Binding("u", "undo", "Undo", show=False, id="undo"),
        Binding("t", "stale_only", "Stale only", show=False, id="stale_only"),
        Binding("space", "mark", "Mark", show=False, id="mark"),
        Binding("b", "bulk", "Bulk change", show=False, id="bulk"),
        Binding("n", "new_target", "New target", show=False, id="new_target"),
        Binding("o", "sort_next", "Sort", show=False, id="sort"),
        Binding("r", "sort_reverse", "Reverse sort", show=False, id="sort_reverse"),
        Binding("escape", "clear", "Clear", show=False, priority=True, id="clear"),
        # Enter in the search box (active there only, see `check_action`)
        Binding("enter", "search_done", show=False, priority=True, id="search_done"),
    ]

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search names…", id="search")
        yield Static(id="empty")
        yield TargetTable(TargetPager(self.store, self.target_query, total=0), id="targets")
        with Horizontal(id="status-line"):
            yield FittingLabel(id="counts")
            yield SyncBar(id="sync")
        # ctrl+p is in the help; room for keys
        yield KeyFooter(
            show_command_palette=False,
            keep=("quit",),
            first=("conflicts",),  # before ? and f at 80 columns: conflicts need the user
            extras=FOOTER_EXTRAS,
        )

    def on_mount(self) -> None:
        self.show_first_screen()
        # Watched, not Input.Changed: the watcher runs as the key changes the value, so a
        # quick read lands in the frame that echoes the key (a message comes after it).
        self.watch(self.query_one("#search", Input), "value", self.search_changed, init=False)

    # ---- search, filter, sort -----------------------------------------------------------
    # Keys that arrive in one read with `/` (a fast typist, a laggy ssh link, tmux
    # send-keys) are each routed to the focused widget as the app reads them. A binding
    # that is not priority runs later, when the key comes back from the table, so the
    # keys after `/` had been routed to the table already and ran as its bindings (3 set
    # a status, b opened a bulk change). Hence priority bindings, and the focus moved
    # with ``set_focus`` (at once), never ``Widget.focus()`` (a callback queued behind
    # the keys already read).
    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search:
            raise SkipAction()  # a "/" typed into the search
        search.add_class("-open")
        self.set_focus(search)

    def search_changed(self, value: str) -> None:
        self.requery(replace(self.target_query, search=value))

    def action_search_done(self) -> None:
        self.set_focus(self.table)

    def action_filter(self) -> None:
        from .filter import FilterForm

        form = FilterForm(self.target_query, self.store.markets())
        self.app.push_screen(form, lambda query: query is not None and self.requery(query))

    def action_stale_only(self) -> None:
        stale = () if self.target_query.stagnation == STALE_ONLY else STALE_ONLY
        self.requery(replace(self.target_query, stagnation=stale))

    def action_sort_next(self) -> None:
        current = self.target_query.sort
        position = SORT_CYCLE.index(current) if current in SORT_CYCLE else -1
        self.sort_by(SORT_CYCLE[(position + 1) % len(SORT_CYCLE)], descending=False)

    def action_sort_reverse(self) -> None:
        self.sort_by(self.target_query.sort, descending=not self.target_query.descending)

    @on(TargetTable.SortClicked)
    def header_clicked(self, event: TargetTable.SortClicked) -> None:
        same = event.sort == self.target_query.sort
        self.sort_by(event.sort, descending=same and not self.target_query.descending)

    def sort_by(self, sort: SortKey, *, descending: bool) -> None:
        self.requery(replace(self.target_query, sort=sort, descending=descending))

    def action_clear(self) -> None:
        table = self.table
        if table.marked:
            table.clear_marks()
            self.show_counts()
            return
        search = self.query_one("#search", Input)
        search.remove_class("-open")
        search.value = ""
        self.set_focus(table)
        fresh = TargetQuery(sort=self.target_query.sort, descending=self.target_query.descending)
        if self.target_query != fresh:
            self.requery(fresh)

    # ---- status changes ----------------------------------------------------------------
    def action_set_status(self, index: int) -> None:
        self.change_status(STATUS_ORDER[index])

    def change_status(self, status: Status | None, note: str | None = None) -> None:
        view = self.table.current
        if view is None:
            return
        uid = view.uid
        # queued like the long writes: a key never freezes the screen while another
        # process holds the database, and keys pressed in a row land in that order
        self.pipetrack.writes.later(
            lambda: self.store.set_status(uid, status, note), lambda done: self._set(done, note)
        )

    def _set(self, change: StatusChange, note: str | None = None) -> None:
        self.notify(status_news(change, note))
        if change.changed:
            self.table.patch(change.target)
            self.pipetrack.data_changed()

    def action_status_picker(self) -> None:
        view = self.table.current
        if view is None:
            return

        def chosen(choice: StatusChoice | None) -> None:
            if choice is not None:
                self.change_status(choice.status, choice.note)

        from .status_picker import StatusPicker

        picker = StatusPicker(f"Status of {view.name}", current=view.status, allow_none=True)
        self.app.push_screen(picker, chosen)

    def action_undo(self) -> None:
        # off the event loop: undoing a bulk change of 100,000 targets takes seconds
        self.pipetrack.writes.later(
            self.store.undo_last, self._undone, what="Undoing your last change"
        )

    def _undone(self, undone: Undone | NotUndone | None) -> None:
        if undone is None:
            self.notify("Nothing to undo")
            return
        if isinstance(undone, NotUndone):
            self.notify(undone.words(), severity="warning", timeout=10)
            return
        if undone.count == 1:
            self.table.patch(undone.target)
        # else a bulk change or an import's changes, whole: the list reloads below
        self.notify(f"Undone: {undone.words()}")
        self.pipetrack.data_changed()

    # ---- bulk --------------------------------------------------------------------------
    def action_mark(self) -> None:
        table = self.table
        table.toggle_mark()
        table.cursor_row += 1
        self.show_counts()

    def action_bulk(self) -> None:
        table = self.table
        marked = sorted(table.marked)
        pager = table.pager
        if not marked and not pager.exact:  # the confirmation names the exact number
            total = self.attempt(pager.count_exactly)
            if total is None:
                return
            self._counted(pager, total)
        count = len(marked) if marked else table.row_count
        if not count:
            self.notify("No targets to change")
            return
        scope = plural(count, "marked target") if marked else self._bulk_scope(count)

        def chosen(choice: StatusChoice | None) -> None:
            if choice is not None:
                self.bulk_change(marked or None, pager, choice, count)

        from .status_picker import StatusPicker

        names = self._first_names(marked, pager, count)
        picker = StatusPicker(
            "Bulk status change",
            preview=f"This changes the status of {scope}{f': {names}' if names else ''}.",
            confirm=f"Apply to {count:,}",
            allow_none=True,
        )
        self.app.push_screen(picker, chosen)

    def _first_names(self, marked: list[str], pager: TargetPager, count: int) -> str:
        """``Acme, Borealis, Cobalt and 9 more``: the first targets a bulk change takes, so
        its preview says which (the list's first rows, or the marked ones by name)."""
        if marked:
            views = self.attempt(lambda: [self.store.get(uid) for uid in marked[:BULK_NAMES]])
            names = sorted(view.name for view in views or [])
        else:
            rows = (pager.row(index) for index in range(min(count, BULK_NAMES)))
            names = [row.name for row in rows if row is not None]
        more = count - len(names)  # none read yet (a page not in memory): no names at all
        return ", ".join(names) + (f" and {more:,} more" if more > 0 and names else "")

    def _bulk_scope(self, count: int) -> str:
        """The targets a bulk change without marks takes: ``all 12 targets`` with no
        filter, ``5 targets matching status Hot`` with one."""
        words = describe_filter(self.target_query)
        if words == "all":
            return f"all {plural(count, 'target')}"
        return f"{plural(count, 'target')} matching {words}"

    def bulk_change(
        self, uids: list[str] | None, pager: TargetPager, choice: StatusChoice, count: int
    ) -> None:
        def write() -> int:
            targets = uids if uids is not None else pager.all_uids()
            # One transaction: all or nothing, one fsync for thousands of targets.
            return self.store.set_status_many(targets, choice.status, choice.note)

        def done(changed: int) -> None:
            self.notify(f"{plural(changed, 'target')} set to {status_label(choice.status)}")
            self.after_bulk()

        what = f"Setting {plural(count, 'target')} to {status_label(choice.status)}"
        self.pipetrack.writes.later(write, done, failed=self.after_bulk, what=what)

    def after_bulk(self) -> None:
        self.table.clear_marks()
        self.pipetrack.data_changed()

    # ---- other screens ----------------------------------------------------------------
    def action_detail(self) -> None:
        view = self.table.current
        if view is not None:
            self.pipetrack.open_detail(view.uid)

    @on(TargetTable.Opened)
    def row_opened(self, event: TargetTable.Opened) -> None:
        self.pipetrack.open_detail(event.view.uid)

    def action_new_target(self) -> None:
        def save(fields: TargetFields) -> TargetView:
            return self.store.create_target(
                fields.name, fields.description, fields.markets, fields.status
            )

        def created(view: TargetView | None) -> None:
            if view is None:
                return
            self.pipetrack.data_changed()

            def told(in_filter: bool | None) -> None:
                where = " (not in this filter)" if in_filter is False else ""
                self.notify(f"Created {view.name}{where}")

            self.select_target(view.uid, told)

        from .forms import TargetForm

        self.app.push_screen(TargetForm("New target", save, with_status=True), created)

    def action_conflicts(self) -> None:
        self.pipetrack.open_conflicts()

    def action_summary(self) -> None:
        self.pipetrack.open_summary()

    def action_activity(self) -> None:
        self.pipetrack.open_activity()

    def action_help(self) -> None:
        self.pipetrack.open_help()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"set_status", "status_picker", "detail", "mark"} and self.is_mounted:
            return True if self.table.row_count else None
        if action == "search_done":  # Enter elsewhere: the detail (and in the footer)
            return self.is_mounted and self.focused is self.query_one("#search", Input)
        return True
