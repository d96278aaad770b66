"""``python -m bench.tui_probe HOME``: drive the TUI under Textual's Pilot on a profile and
print its timings as one JSON line. Run as a child process by ``bench.tui``, so the
process's memory is the TUI's alone.

A frame is painted when the app hands the compositor's update to its driver
(``App._display``; headless, nothing is written to a terminal, everything else is done).
Timings:

- ``paint_from_launch_s``: process start to the first frame showing target rows;
  ``paint_from_app_s``: from creating the app (store already open) to that frame.
- ``search_s``: per keystroke typed in the search box (``/``), from the key to the first
  frame showing the table for the new search text.
- ``filter_s``: per press of ``t`` (stale-only filter on/off), key to frame.
- ``search_read_s`` / ``filter_read_s``: the store reads behind them (``_read``: the
  rows on screen and their count up to ``tui.pager.COUNT_CAP``).
- ``search_count_s`` / ``filter_count_s``: the exact counts of queries matching more
  than that, made in a worker after the paint (``TargetPager.count_exactly``); not in
  the keystroke times, but competing with the next keystroke for the CPU.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from storage import Store
from storage.profile import Config
from tui.app import PipetrackApp
from tui.pager import TargetPager
from tui.screens import PipelineScreen
from tui.widgets import TargetTable

#: Typed into the search box one key at a time: (key, search text after it).
SEARCH_KEYS = [
    *[(k, "alpha 00"[: i + 1]) for i, k in enumerate(["a", "l", "p", "h", "a", "space", "0", "0"])],
    *[("backspace", "alpha 00"[: 7 - i]) for i in range(8)],
    *[(k, "echo"[: i + 1]) for i, k in enumerate("echo")],
]
SIZE = (120, 40)


class Frames:
    """Wraps ``app._display``: resolves waiters on the first frame where a check holds."""

    def __init__(self, app: PipetrackApp) -> None:
        self.app = app
        self.count = 0
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future]] = []
        original = app._display

        def display(screen, renderable) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            self.count += 1
            stamp = time.perf_counter(), time.time()
            for check, future in list(self._waiters):
                if not future.done() and _holds(check):
                    future.set_result(stamp)
                    self._waiters.remove((check, future))

        app._display = display  # type: ignore[method-assign]

    def when(self, check: Callable[[], bool]) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((check, future))
        return future


def _holds(check: Callable[[], bool]) -> bool:
    try:
        return check()
    except Exception:  # the screen is not there yet
        return False


async def drive(store: Store, launched: float, keys: int) -> dict:
    created = time.perf_counter()
    app = PipetrackApp(store, Config(), greet=False)
    frames = Frames(app)

    def table() -> TargetTable:
        screen = app.screen
        assert isinstance(screen, PipelineScreen)
        return screen.query_one(TargetTable)

    first = frames.when(lambda: table().pager.loaded_rows > 0)
    async with app.run_test(size=SIZE) as pilot:
        painted, painted_wall = await asyncio.wait_for(first, 60)
        total = table().pager.total
        reads = time_reads(app.screen)
        counts = time_counts()
        await pilot.press("slash")
        search = [
            await keystroke(pilot, frames, key, table, text) for key, text in SEARCH_KEYS[:keys]
        ]
        search_reads, search_counts = reads[:], counts[:]
        await pilot.press("escape")
        await pilot.pause()
        reads.clear()
        counts.clear()
        filters = []
        for i in range(keys):
            wanted = ("stale",) if i % 2 == 0 else ()
            filters.append(
                await keystroke(pilot, frames, "t", table, wanted, lambda q: q.stagnation)
            )
    return {
        "targets": total,
        "paint_from_launch_s": painted_wall - launched,
        "paint_from_app_s": painted - created,
        "search_s": search,
        "search_read_s": search_reads,
        "filter_s": filters,
        "filter_read_s": reads,
        "search_count_s": search_counts,
        "filter_count_s": counts,
        "frames": frames.count,
    }


def time_reads(screen: PipelineScreen) -> list[float]:
    """Seconds of each store read the screen makes for a new query (its ``_read``, in
    its worker thread), to tell the store's share of a keystroke from the rest."""
    reads: list[float] = []
    original = screen._read

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            reads.append(time.perf_counter() - start)

    screen._read = timed  # type: ignore[method-assign]
    return reads


def time_counts() -> list[float]:
    """Seconds of each exact count made after a paint (all pagers, in their worker)."""
    counts: list[float] = []
    original = TargetPager.count_exactly

    def timed(self: TargetPager) -> int:
        start = time.perf_counter()
        try:
            return original(self)
        finally:
            counts.append(time.perf_counter() - start)

    TargetPager.count_exactly = timed  # type: ignore[method-assign]
    return counts


async def keystroke(pilot, frames: Frames, key: str, table, wanted, part=None) -> float:
    """Seconds from pressing ``key`` to the first frame whose table shows ``wanted``."""
    part = part or (lambda q: q.search)
    shown = frames.when(lambda: part(table().pager.query) == wanted)
    start = time.perf_counter()
    await pilot.press(key)
    painted, _ = await asyncio.wait_for(shown, 30)
    return painted - start


def main(argv: list[str]) -> int:
    """``HOME [KEYS [LAUNCHED]]``: KEYS (default 20) search keystrokes and as many filter
    presses; LAUNCHED, the ``time.time()`` at which the parent started this process.
    Not psutil's ``create_time()``: it adds the boot time of /proc/stat's ``btime``, in
    whole seconds, so it came out up to 1 s early (0.94 s on one machine: a launch of
    0.4 s read as 1.3 s)."""
    keys = int(argv[1]) if len(argv) > 1 else len(SEARCH_KEYS)
    launched = float(argv[2]) if len(argv) > 2 else psutil.Process().create_time()
    with Store.open(Path(argv[0]) / "pipetrack.db") as store:
        result = asyncio.run(drive(store, launched, keys))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
