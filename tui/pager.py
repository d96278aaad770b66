"""Pages of ``Store.list_targets`` for one query, with a small LRU page cache.

The virtual table asks for single rows. A row whose page is not cached yet is
``None`` (drawn as a placeholder) and its page number is queued; the table
fetches queued pages in a worker thread with one indexed query each
(``offset``/``limit``) and hands them back with :meth:`TargetPager.put` on the
event loop. Only the last few pages are kept, so memory stays flat however many
targets match.

Counting every match of a broad filter reads every matching row (tens of ms at
100,000 targets), so a new query is counted only up to :data:`COUNT_CAP` before its
first screen shows (``exact`` False above it); :meth:`TargetPager.count_exactly`
finishes the count afterwards.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from storage import Store, TargetQuery, TargetView

PAGE_SIZE = 100
MAX_PAGES = 8
#: A new query's first count stops here (cheap whatever the filter); the rest follows.
COUNT_CAP = 1_000


class TargetPager:
    """Rows ``0 .. total-1`` of one query, fetched page by page."""

    def __init__(
        self,
        store: Store,
        query: TargetQuery,
        *,
        total: int | None = None,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.store = store
        self.query = replace(query, offset=0, limit=None)
        self.page_size = page_size
        self.max_pages = max_pages
        self._pages: OrderedDict[int, list[TargetView]] = OrderedDict()
        self.wanted: set[int] = set()
        self.total = store.count_targets(self.query) if total is None else total
        self.exact = True  # False: at least ``total`` match (see :meth:`first_screen`)

    @classmethod
    def first_screen(
        cls,
        store: Store,
        query: TargetQuery,
        first: int,
        count: int,
        *,
        known: int | None = None,
        cap: int = COUNT_CAP,
    ) -> TargetPager:
        """Rows ``first .. first+count-1`` of ``query`` read, and its matches counted up
        to ``cap`` (at least those rows), unless ``known``: ``exact`` says whether that
        is all of them."""
        cap = max(cap, first + count + 1)
        pager = cls(store, query, total=cap if known is None else known)
        pager.preload(first, count)
        if known is None:
            if first == 0 and pager.loaded_rows < pager.page_size:
                pager.total = pager.loaded_rows  # a short first page: all there is
            else:
                pager.total = store.count_targets(replace(pager.query, limit=cap))
                pager.exact = pager.total < cap
        return pager

    def count_exactly(self) -> int:
        """Every match of the query (safe in a worker thread; :meth:`counted` keeps it)."""
        return self.store.count_targets(self.query)

    def counted(self, total: int) -> None:
        self.total, self.exact = total, True

    @property
    def loaded_rows(self) -> int:
        """How many targets the cache holds right now."""
        return sum(len(page) for page in self._pages.values())

    def row(self, index: int) -> TargetView | None:
        """The row if its page is cached; else None, and the page is queued for fetching."""
        if not 0 <= index < self.total:
            return None
        number, position = divmod(index, self.page_size)
        page = self._pages.get(number)
        if page is None:
            self.wanted.add(number)
            return None
        self._pages.move_to_end(number)
        return page[position] if position < len(page) else None

    def pages_for(self, first: int, count: int) -> list[int]:
        """Numbers of the pages holding rows ``first .. first+count-1``."""
        last = min(first + max(count, 1), self.total) - 1
        return list(range(max(first, 0) // self.page_size, last // self.page_size + 1))

    def missing(self, numbers: list[int]) -> list[int]:
        return [n for n in numbers if n not in self._pages]

    def fetch(self, number: int) -> list[TargetView]:
        """One page from the store (safe in a worker thread: touches no cache)."""
        query = replace(self.query, offset=number * self.page_size, limit=self.page_size)
        return list(self.store.list_targets(query))

    def put(self, number: int, page: list[TargetView]) -> None:
        """Keep a fetched page (on the event loop), dropping the least recently used."""
        self._pages[number] = page
        self._pages.move_to_end(number)
        self.wanted.discard(number)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def preload(self, first: int, count: int) -> None:
        """Fetch and keep the pages of rows ``first .. first+count-1`` (before showing)."""
        for number in self.missing(self.pages_for(first, count)):
            self.put(number, self.fetch(number))

    def patch(self, view: TargetView) -> int | None:
        """Show a fresh copy of one target at once; its row index if it is loaded."""
        for number, page in self._pages.items():
            for position, old in enumerate(page):
                if old.uid == view.uid:
                    page[position] = view
                    return number * self.page_size + position
        return None

    def all_uids(self) -> list[str]:
        """Every uid matching the query (for a bulk change of the whole filter)."""
        return [view.uid for view in self.store.list_targets(self.query)]
