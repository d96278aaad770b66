"""Helpers for the TUI tests: fixed data through the store's public API, and app drivers."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from rich.console import Console
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from protocol.wire import Result, TargetState
from storage import Store, TargetView
from storage.profile import Config
from tui.app import PipetrackApp


def fixed_uid(number: int) -> str:
    return str(uuid.UUID(int=number, version=4))


@dataclass(frozen=True)
class Seed:
    name: str
    markets: tuple[str, ...]
    status: str | None
    days_ago: int
    description: str = ""


#: Ten targets covering every status, fresh / aging / stale, and several markets.
SEEDS = (
    Seed("Acme Robotics", ("EU", "US"), "Cold", 120, "Warehouse robots.\nMet at Hannover."),
    Seed("Borealis Energy", ("EU",), "Active", 20, "Offshore wind."),
    Seed("Cobalt Labs", ("APAC",), "Hot", 3),
    Seed("Delta Freight", ("US",), "Passed", 200),
    Seed("Evergreen Foods", ("EU", "LATAM"), "Closed", 15),
    Seed("Fjord Analytics", ("EU",), None, 9),
    Seed("Gamma Health", ("US",), "Hot", 40),
    Seed("Helios Solar", ("APAC", "EU"), "Active", 10),
    Seed("Iris Mobility", ("EU",), "Cold", 45),
    Seed("Juniper Retail", ("US",), "Active", 33),
)


def seed_store(store: Store, clock, *, synced: bool = True) -> dict[str, str]:
    """Create :data:`SEEDS` (fixed uids) as if set ``days_ago``; name -> uid."""
    now = clock.now
    uids = {}
    for number, seed in enumerate(SEEDS, 1):
        clock.now = now - timedelta(days=seed.days_ago)
        view = store.create_target(
            seed.name, seed.description, seed.markets, seed.status, uid=fixed_uid(number)
        )
        uids[seed.name] = view.uid
    clock.now = now
    if synced:
        push_all(store)
    return uids


def server_state(view: TargetView, version: int, *, status: str | None = None, by: str = "bob"):
    status = view.status if status is None else status
    return TargetState(
        uid=uuid.UUID(view.uid),
        name=view.name,
        description=view.description,
        markets=list(view.markets),
        status=status,
        version=version,
        status_changed_at=view.status_since,
        status_changed_by=by if status else None,
        created_at=view.created_at or view.status_since,
        last_updated=view.status_since,
        updated_by=by,
    )


def push_all(store: Store) -> None:
    """The server applies every pending change, in order (as the sync daemon reports)."""
    results = []
    versions: dict[str, int] = {}
    for change in store.take_batch(10_000):
        uid = str(change.target)
        versions[uid] = versions.get(uid, 0) + 1
        results.append(
            Result(
                change_id=change.change_id,
                outcome="applied",
                target=server_state(store.get(uid), versions[uid]),
            )
        )
    store.apply_push_results(results)


def _last_change(store: Store, uid: str):
    return [c for c in store.take_batch(10_000) if str(c.target) == uid][-1]


def make_conflict(store: Store, clock, uid: str, mine: str, theirs: str) -> str:
    """Set ``mine`` here; the server answers that bob set ``theirs`` meanwhile."""
    store.set_status(uid, mine, note="after the demo")
    change = _last_change(store, uid)
    view = store.get(uid)
    theirs_state = server_state(view, (view.version or 0) + 1, status=theirs, by="bob")
    theirs_state.status_changed_at = clock.now - timedelta(hours=2)
    store.apply_push_results(
        [Result(change_id=change.change_id, outcome="conflict", target=theirs_state)]
    )
    return str(change.change_id)


def make_edit_conflict(store: Store, uid: str, by: str = "bob", **details) -> None:
    """Edit ``details`` here; the server answers that ``by`` changed the details
    meanwhile: give the details they set as ``theirs_<field>`` (the others as before)."""
    theirs = server_state(store.get(uid), 9, by=by)
    for key in [key for key in details if key.startswith("theirs_")]:
        setattr(theirs, key.removeprefix("theirs_"), details.pop(key))
    store.edit_target(uid, **details)
    change = _last_change(store, uid)
    store.apply_push_results(
        [Result(change_id=change.change_id, outcome="conflict", target=theirs)]
    )


def make_rejected(store: Store, uid: str, status: str, reason: str) -> str:
    store.set_status(uid, status)
    change = _last_change(store, uid)
    store.apply_push_results([Result(change_id=change.change_id, outcome="rejected", error=reason)])
    return str(change.change_id)


def rejected_new_target(store: Store, error: str) -> TargetView:
    """Kappa Mining (Hot, LATAM) made here; the server rejected its create."""
    made = store.create_target("Kappa Mining", "Copper", ["LATAM"], status="Hot")
    create = next(c for c in store.take_batch() if str(c.target) == made.uid)
    store.apply_push_results([Result(change_id=create.change_id, outcome="rejected", error=error)])
    return made


def make_app(store: Store, *, keys: dict[str, str] | None = None, **kwargs) -> PipetrackApp:
    kwargs.setdefault("greet", False)
    kwargs.setdefault("poll_interval", 0.05)
    return PipetrackApp(store, Config(keys=keys or {}), **kwargs)


async def settle(pilot: Pilot) -> None:
    """Wait until workers (queries, page loads) are done and the screen is updated. A
    read is an exclusive worker: one started meanwhile (the data poll, the minute's
    refresh) cancels it, and waiting for the cancelled one raises; the next round waits
    for its successor."""
    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def until(
    pilot: Pilot, check: Callable[[], object], tries: int = 100, *, settled: bool = True
) -> None:
    """Let the app run (its data poll runs every 50 ms in tests) until ``check()`` is
    true, or ``tries`` polls have passed; the caller asserts what it expects.
    ``settled=False``: without waiting for workers, e.g. to see what is shown while a
    write waits (a notice taken back once the write is done)."""
    for _ in range(tries):
        await pilot.pause(0.05)
        if settled:
            await settle(pilot)
        if check():
            return


def screen_lines(app: PipetrackApp) -> list[str]:
    """The screen as the terminal shows it, one string a line."""
    update = app.screen._compositor.render_full_update()  # noqa: SLF001 - what is drawn
    return ["".join(strip.text for strip in line) for line in update.strips]


def shown(widget, width: int = 100) -> str:
    """The plain text a Static shows (text, or a Rich renderable such as a table)."""
    content = widget.content
    if isinstance(content, str):
        return content
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()


def notifications(app: PipetrackApp) -> list[str]:
    return [n.message for n in app._notifications]  # noqa: SLF001 - what the user saw


@contextlib.contextmanager
def holding_the_write_lock(home, seconds: float) -> Iterator[subprocess.Popen]:
    """Another process holds the profile's write lock for ``seconds`` from entry; the
    block's end waits for it to let go."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(home / "pipetrack.db"), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        yield holder
        holder.wait(seconds + 10)
    finally:
        holder.kill()
        holder.wait()


#: Takes SQLite's write lock on argv[1] for argv[2] seconds, as another writer does.
HOLD_WRITE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""
