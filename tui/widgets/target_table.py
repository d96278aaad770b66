"""The virtual target table: a ScrollView that renders only the lines on screen.

Rows come from a :class:`~tui.pager.TargetPager` one page at a time; nothing here
ever holds more than a screenful of rendered rows, whatever the number of targets.
Line 0 is the header (it does not scroll); row ``i`` is drawn on line ``i + 1``.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from storage import StoreError, TargetView

from ..display import MARK_GLYPH
from ..pager import TargetPager
from .columns import GAP, Column, SortKey, column_at, layout

HEADER_LINES = 1


class _Look:
    """What drawing one frame of rows needs, worked out once a frame: the widget's style
    (``rich_style`` walks every ancestor), the component styles, the column layout."""

    def __init__(self, table: TargetTable, width: int) -> None:
        self.table = table
        self.width = width
        self.places = layout(width)
        self.cells = sum(place.width for place in self.places) + GAP * (len(self.places) - 1)
        self.base = table.rich_style
        self._styles: dict[tuple[Style, str | None], Style] = {}

    def style(self, under: Style, name: str | None) -> Style:
        """``under`` plus the component style ``name`` (cached)."""
        if not name:
            return under
        key = (under, name)
        style = self._styles.get(key)
        if style is None:
            own = self.table.get_component_rich_style(f"target-table--{name}", partial=True)
            style = self._styles[key] = under + own
        return style


def _fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in exactly ``width`` cells, cut with an ellipsis when too long."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    return set_cell_size(text.rjust(width) if right else text, width)


def _sorted_title(title: str, arrow: str, width: int) -> str:
    """A sorted column's title with its direction, the arrow kept whatever the width:
    ``Name ▲``, ``Status▲`` in a narrow column, ``Sta▲`` in a narrower one."""
    for text in (f"{title} {arrow}", f"{title}{arrow}"):
        if cell_len(text) <= width:
            return text
    return set_cell_size(title, max(width - 1, 0)) + arrow


class TargetTable(ScrollView, can_focus=True, inherit_bindings=False):
    """Targets, one per line, with a cursor row and marked rows."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="cursor_up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="cursor_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="page_down"),
        Binding("home", "first", "First", show=False, id="first_row"),
        Binding("end", "last", "Last", show=False, id="last_row"),
    ]

    COMPONENT_CLASSES = {
        "target-table--header",
        "target-table--sorted",
        "target-table--cursor",
        "target-table--marked",
        "target-table--status-none",
        "target-table--status-passed",
        "target-table--status-cold",
        "target-table--status-active",
        "target-table--status-hot",
        "target-table--status-closed",
        "target-table--fresh",
        "target-table--aging",
        "target-table--stale",
        "target-table--snoozed",
        "target-table--synced",
        "target-table--pending",
        "target-table--conflict",
        "target-table--rejected",
        "target-table--placeholder",
    }

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class SortClicked(Message):
        """The user clicked a column header."""

        def __init__(self, sort: SortKey) -> None:
            super().__init__()
            self.sort = sort

    class Opened(Message):
        """The user double-clicked a row."""

        def __init__(self, view: TargetView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, pager: TargetPager, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pager = pager
        self.marked: set[str] = set()
        self._strips: dict[int, Strip] = {}
        self._window = (-1, -1)
        self._look: _Look | None = None
        self._fetching = False
        self._stalled = False

    # ---- data ------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return self.pager.total

    @property
    def current(self) -> TargetView | None:
        return self.pager.row(self.cursor_row)

    @property
    def visible_rows(self) -> int:
        return max(self.size.height - HEADER_LINES, 1)

    @property
    def first_visible(self) -> int:
        return round(self.scroll_y)

    @property
    def rendered_rows(self) -> int:
        """Rows whose rendered line is held right now (at most a screenful)."""
        return len(self._strips)

    def set_pager(self, pager: TargetPager, *, keep_position: bool = True) -> None:
        """Show another result (a new query, or fresh data for the same one)."""
        self.pager = pager
        self._strips.clear()
        self.virtual_size = Size(0, pager.total + HEADER_LINES)
        if keep_position:
            self.cursor_row = min(self.cursor_row, max(pager.total - 1, 0))
        else:
            self.scroll_to(y=0, animate=False, immediate=True)
            self.cursor_row = 0
        self.refresh()
        self.want_window()

    def total_changed(self) -> None:
        """The pager's count grew (or shrank) to its exact value; the rows are the same."""
        self.virtual_size = Size(0, self.pager.total + HEADER_LINES)
        self.cursor_row = min(self.cursor_row, max(self.pager.total - 1, 0))
        self.want_window()

    def patch(self, view: TargetView) -> None:
        """Show a fresh copy of one target at once (after a local write)."""
        index = self.pager.patch(view)
        if index is not None:
            self.refresh_row(index)

    def toggle_mark(self) -> None:
        view = self.current
        if view is None:
            return
        self.marked.symmetric_difference_update({view.uid})
        self.refresh_row(self.cursor_row)

    def clear_marks(self) -> None:
        self.marked.clear()
        self._strips.clear()
        self.refresh()

    def refresh_row(self, index: int) -> None:
        self._strips.pop(index, None)
        self.refresh_line(index + HEADER_LINES)

    # ---- cursor ----------------------------------------------------------------------
    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, self.row_count - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh_row(old)
        self.refresh_row(new)
        self.scroll_to_row(new)

    def scroll_to_row(self, index: int) -> None:
        top = self.first_visible
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + self.visible_rows:
            self.scroll_to(y=index - self.visible_rows + 1, animate=False, immediate=True)

    def action_cursor(self, delta: int) -> None:
        self.cursor_row += delta

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * self.visible_rows

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = self.row_count - 1

    # ---- pages (fetched in a worker thread, never on the event loop) -------------------
    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.want_window()

    def _window_pages(self) -> set[int]:
        """Pages of the screenful shown and of one screenful either side."""
        visible = self.visible_rows
        return set(self.pager.pages_for(self.first_visible - visible, visible * 3))

    def want_window(self) -> None:
        self._stalled = False
        self.pager.wanted.update(self.pager.missing(sorted(self._window_pages())))
        self._fetch_later()

    def _fetch_later(self) -> None:
        if self.pager.wanted and not self._fetching and not self._stalled:
            self._fetching = True
            self.call_later(self._fetch_wanted)

    def _fetch_wanted(self) -> None:
        self._fetching = False
        pager = self.pager
        pager.wanted &= self._window_pages()  # scrolled past: no longer needed
        wanted = sorted(pager.wanted)
        if wanted:
            self._fetch_pages(pager, wanted)

    @work(thread=True, exclusive=True, group="table-pages", exit_on_error=False)
    def _fetch_pages(self, pager: TargetPager, numbers: list[int]) -> None:
        worker = get_current_worker()
        pages = []
        try:
            for number in numbers:
                if worker.is_cancelled:
                    break
                pages.append((number, pager.fetch(number)))
            failed = None
        except StoreError as err:
            failed = str(err)
        self.app.call_from_thread(self._pages_arrived, pager, pages, failed)

    def _pages_arrived(
        self, pager: TargetPager, pages: list[tuple[int, list[TargetView]]], failed: str | None
    ) -> None:
        if failed is not None:
            self.notify(failed, severity="error")
            self._stalled = True  # no retry loop: the next scroll or data change asks again
        if pager is not self.pager:
            return
        top, size = self.first_visible, pager.page_size
        bottom = top + self.visible_rows
        for number, page in pages:
            pager.put(number, page)
            # Only rows on screen are redrawn (they showed placeholders, never cached).
            for index in range(max(top, number * size), min(bottom, (number + 1) * size)):
                self.refresh_line(index + HEADER_LINES)
        self._fetch_later()

    # ---- mouse -----------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y < HEADER_LINES:
            column = column_at(self.scrollable_content_region.width, offset.x)
            if column is not None and column.sort is not None:
                self.post_message(self.SortClicked(column.sort))
            return
        index = self.first_visible + offset.y - HEADER_LINES
        if index < self.row_count:
            self.cursor_row = index
            if event.chain >= 2 and (view := self.current) is not None:
                self.post_message(self.Opened(view))

    # ---- rendering -------------------------------------------------------------------
    def render_lines(self, crop):  # type: ignore[no-untyped-def]
        self._look = None  # styles may have changed since the last frame (focus, theme)
        return super().render_lines(crop)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"target-table--{name}", partial=True)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        window = (self.first_visible, width)
        if window != self._window:
            self._window = window
            self._strips.clear()
        if self._look is None or self._look.width != width:
            self._look = _Look(self, width)
        if y < HEADER_LINES:
            return self._render_header(width)
        index = self.first_visible + y - HEADER_LINES
        strip = self._strips.get(index)
        if strip is None:
            view = self.pager.row(index)
            if view is None:
                self._fetch_later()
                return self._render_placeholder(index, width)
            strip = self._strips[index] = self._render_row(index, view, self._look)
        return strip

    def _render_header(self, width: int) -> Strip:
        base = self.rich_style + self._style("header")
        sorted_style = base + self._style("sorted")
        query = self.pager.query
        places = layout(width)
        # One column is marked: the first of those sorting by the key (Days, not Stale,
        # which sorts by days too).
        marked = next((p.column for p in places if p.column.sort == query.sort), None)
        arrow = "▼" if query.descending else "▲"
        segments = []
        for place in places:
            column: Column = place.column
            is_sorted = column is marked
            if is_sorted:
                text = _fit(_sorted_title(column.title, arrow, place.width), place.width)
            else:
                text = _fit(column.title, place.width, column.right)
            segments.append(Segment(text, sorted_style if is_sorted else base))
            segments.append(Segment(" " * GAP, base))
        return Strip(segments).crop_extend(0, width, base)

    def _render_placeholder(self, index: int, width: int) -> Strip:
        base = self.rich_style
        if index >= self.row_count:
            return Strip.blank(width, base)
        style = base + self._style("placeholder")
        if index == self.cursor_row:
            style += self._style("cursor")
        return Strip([Segment(_fit("  …", width), style)], width)

    def _render_row(self, index: int, view: TargetView, look: _Look) -> Strip:
        marked = view.uid in self.marked
        row_style = look.base
        if marked:
            row_style = look.style(row_style, "marked")
        if index == self.cursor_row:
            row_style = look.style(row_style, "cursor")
        gap = Segment(" " * GAP, row_style)
        segments = []
        for place in look.places:
            column = place.column
            text = (MARK_GLYPH if marked else " ") if column.key == "mark" else column.text(view)
            style = look.style(row_style, column.style(view))
            segments.append(Segment(_fit(text, place.width, column.right), style))
            segments.append(gap)
        segments.pop()  # no gap after the last column
        if look.cells == look.width:  # the usual case: one strip, nothing to crop or pad
            return Strip(segments, look.width)
        return Strip(segments).crop_extend(0, look.width, row_style)

    def on_resize(self, event: events.Resize) -> None:
        self._strips.clear()
        self.scroll_to_row(self.cursor_row)
