"""The pipetrack Textual app and its entry point ``run(profile)``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from protocol import InvalidInput
from storage import Store, StoreError
from storage.profile import Config, Profile

from .display import plural
from .keys import KeyHold, route_to_binding
from .messages import DataChanged
from .screens import PipelineScreen, SubScreen
from .screens.base import FOCUS_BINDINGS
from .screens.help import Section, binding_title
from .widgets import TargetTable
from .writes import Writes

# The other screens are imported when first opened (see ``tui.screens``).

R = TypeVar("R")

#: How often the app asks SQLite whether another process (the sync daemon) wrote.
POLL_INTERVAL = 0.3
#: How often the poll looks whether the sync process still runs (a few system calls).
PRESENCE_EVERY = 2.0
#: Days in status and stagnation move with the clock, not only with the data: a list
#: open for hours (offline, nothing synced) is read again this often all the same.
REFRESH_EVERY = 60.0
#: Seconds the start's config.toml [keys] warnings stay up.
KEYMAP_NOTICE_S = 20.0


class PipetrackApp(App[int]):
    """Targets through the pipeline; reads and writes go through ``Store`` only."""

    TITLE = "pipetrack"
    CSS_PATH = ["app.tcss", "screens.tcss"]

    BINDINGS = [
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True, id="palette"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="force_quit"),
        Binding("ctrl+c", "help_quit", show=False, system=True, id="help_quit"),
        # priority: it opens the help in forms too (? is typed into their fields)
        Binding("f1", "toggle_help", "Help", show=False, priority=True, id="f1_help"),
    ]

    def __init__(
        self,
        store: Store,
        config: Config | None = None,
        *,
        poll_interval: float = POLL_INTERVAL,
        refresh_every: float = REFRESH_EVERY,
        greet: bool = True,
    ) -> None:
        super().__init__()
        self.store = store
        self.config = config or Config()
        self.poll_interval = poll_interval
        self.refresh_every = refresh_every
        self._read_at = time.monotonic()
        self.greet = greet
        self._data_version: int | None = None
        self.writes = Writes(self, self.FAILURES, self.report)
        self._key_hold = KeyHold(self)
        self.set_keymap(self.config.keys)

    # ---- keys --------------------------------------------------------------------------
    # Keys read in one burst are handled in order by the widget each was routed to: a
    # key bound below the priority bindings runs in that widget's queue (see tui.keys).
    _key_read: events.Key | None = None

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        if self._key_hold.take(event):
            return  # read again once the binding before it has run
        self._key_read = event  # read by _check_bindings below, while Textual routes it
        try:
            await super().on_event(event)
        finally:
            self._key_read = None

    async def _check_bindings(self, key: str, priority: bool = False) -> bool:
        if await super()._check_bindings(key, priority):
            return True
        # No priority binding took the key just read: Textual routes it now
        read, self._key_read = self._key_read, None
        return priority and read is not None and route_to_binding(self, read, self._key_hold)

    @property
    def server(self) -> str | None:
        return self.config.server

    # ---- start -------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._data_version = self.attempt(self.store.data_version)
        self.push_screen(PipelineScreen())
        self.set_interval(self.poll_interval, self.poll)
        self.call_after_refresh(self._check_keymap)  # reads every screen's keys: after paint
        if self.greet:
            self._greet()

    def _greet(self) -> None:
        """Targets that turned stale since the app was last opened (the conflicts and
        refused changes that wait are told with the first sync state the list reads).
        Queued like any write (it records this opening): the list shows meanwhile, even
        while another process holds the database."""
        self.writes.later(self.store.became_stale_since_last_open, self._greeted)

    def _greeted(self, stale: int) -> None:
        if stale:
            self.notify(
                f"{plural(stale, 'target')} became stale since you last opened pipetrack "
                "(t shows stale only)",
                title="Stagnation",
                severity="warning",
                timeout=8,
            )

    def _check_keymap(self) -> None:
        sections = self.binding_sections()
        known = {b.id for _title, bindings in sections for b in bindings}
        unknown = sorted(set(self.config.keys) - known)
        # long enough to read at start, when the eye is on the list (the default is 5 s)
        if unknown:
            self.notify(
                f"config.toml [keys]: unknown binding id {', '.join(unknown)}",
                severity="warning",
                timeout=KEYMAP_NOTICE_S,
            )
        for clash in self._key_clashes(sections):
            self.notify(f"config.toml [keys]: {clash}", severity="warning", timeout=KEYMAP_NOTICE_S)

    def _key_clashes(self, sections: list[Section]) -> list[str]:
        """Keys that config.toml gave to a binding while another of the same screen has
        them too (one of the two would never run)."""
        *screens, (_, everywhere) = sections
        clashes = []
        for title, bindings in screens:
            holder: dict[str, str] = {}
            for binding in [*bindings, *everywhere]:
                if not binding.description:
                    continue  # not in the help: Enter leaving the search box shares a key
                keys = self.config.keys.get(binding.id or "", binding.key)
                for key in (k.strip() for k in keys.split(",")):
                    other = holder.setdefault(key, binding.id or "")
                    if other != binding.id and {other, binding.id} & set(self.config.keys):
                        clashes.append(f"{key} is bound to both {other} and {binding.id} ({title})")
        return clashes

    # ---- live updates ------------------------------------------------------------------
    def poll(self) -> None:
        """Cheap (PRAGMA data_version): refresh when another connection committed, when
        the sync process came or went (every :data:`PRESENCE_EVERY` s: a daemon killed
        records nothing, and the bar said online for a minute), or when the clock has
        moved on for ``refresh_every`` seconds (days in status)."""
        try:
            version = self.store.data_version()
        except StoreError:
            return
        if version != self._data_version:
            self._data_version = version
            self.data_changed()
        elif time.monotonic() - self._read_at >= self.refresh_every or self._daemon_changed():
            self.data_changed()

    _daemon: int | None = None  # the sync process's pid, as last seen
    _daemon_seen_at = 0.0

    def _daemon_changed(self) -> bool:
        now = time.monotonic()
        if now - self._daemon_seen_at < PRESENCE_EVERY:
            return False
        self._daemon_seen_at = now
        pid, self._daemon = self._daemon, self.store.sync_process()
        return pid != self._daemon

    def data_changed(self) -> None:
        """Tell every screen on the stack to read what it shows again."""
        self._read_at = time.monotonic()
        for screen in self.screen_stack:
            screen.post_message(DataChanged())

    # ---- writes ------------------------------------------------------------------------
    #: What a store call may raise that the user is told of (:meth:`report`).
    FAILURES = (InvalidInput, LookupError, StoreError)

    def attempt(self, call: Callable[..., R], *args: Any, **kwargs: Any) -> R | None:
        """Run a store call; refused input or a database problem becomes a notification."""
        try:
            return call(*args, **kwargs)
        except self.FAILURES as err:
            self.report(err)
        return None

    def on_unmount(self) -> None:
        self.writes.finish()

    def report(self, err: Exception) -> None:
        """One of :data:`FAILURES` as a notification."""
        if isinstance(err, InvalidInput):
            self.notify(err.message, title="Not saved", severity="error")
        elif isinstance(err, LookupError):
            self.notify(str(err), title="Not found", severity="error")
        else:
            self.notify(str(err), title="Database problem", severity="error", timeout=10)

    # ---- navigation --------------------------------------------------------------------
    def open_detail(self, uid: str) -> None:
        from .screens.detail import DetailScreen

        self.push_screen(DetailScreen(uid))

    def open_conflicts(self) -> None:
        from .screens.conflicts import ConflictsScreen

        self.push_screen(ConflictsScreen())

    def open_activity(self) -> None:
        from .screens.activity import ActivityScreen

        self.push_screen(ActivityScreen())

    def open_summary(self) -> None:
        from .screens.summary import SummaryScreen

        self.push_screen(SummaryScreen())

    def open_help(self) -> None:
        from .screens.help import HelpScreen

        sections = self.binding_sections()
        keys = {b.id: self.key_display(b) for _title, bindings in sections for b in bindings}
        self.push_screen(HelpScreen(sections, keys))

    def action_toggle_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        else:
            self.open_help()

    # ---- keys and commands -------------------------------------------------------------
    def binding_sections(self) -> list[Section]:
        from .screens.confirm import ConfirmDialog
        from .screens.conflicts import ConflictsScreen
        from .screens.detail import DetailScreen

        def own(bindings: Iterable[Any]) -> list[Binding]:
            return [b for b in bindings if isinstance(b, Binding)]

        return [
            ("Pipeline", own([*PipelineScreen.BINDINGS, *TargetTable.BINDINGS])),
            ("Target detail", own([*DetailScreen.BINDINGS, *SubScreen.BINDINGS])),
            ("Conflicts", own([*ConflictsScreen.BINDINGS, *ConfirmDialog.BINDINGS])),
            ("Everywhere", own([*self.BINDINGS, *FOCUS_BINDINGS])),
        ]

    def key_display(self, binding: Binding) -> str:
        """The key of a binding as remapped by config.toml, as the footer shows it."""
        keys = self.config.keys.get(binding.id or "", binding.key)
        return " ".join(self.get_key_display(binding.with_key(k)) for k in keys.split(","))

    def key_of(self, binding_id: str) -> str:
        """:meth:`key_display` of the binding with this id (for messages naming it)."""
        for _title, bindings in self.binding_sections():
            for binding in bindings:
                if binding.id == binding_id:
                    return self.key_display(binding)
        raise KeyError(binding_id)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette lists the actions of the screen it was opened on."""
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            title = binding_title(binding)
            if not active.enabled or not title or binding.system or title in seen:
                continue
            seen.add(title)
            callback = partial(self.run_action, binding.action, active.node)
            yield SystemCommand(
                title, f"key: {self.get_key_display(binding.with_key(key))}", callback
            )
        yield from super().get_system_commands(screen)


def run(profile: Profile) -> int:
    """Open the TUI on a profile. 0 on a normal exit, 1 database problem, 2 bad config."""
    try:
        config = profile.load_config()
    except InvalidInput as err:
        print(f"pipetrack: {err}", file=sys.stderr)
        return 2
    try:
        profile.ensure()
        store = Store.open(profile.db_path, thresholds=config.thresholds)
    except (StoreError, OSError) as err:
        print(f"pipetrack: {err}", file=sys.stderr)
        return 1
    app = PipetrackApp(store, config)
    try:
        result = app.run()
    finally:
        app.writes.finish()  # done at unmount already; here too if the app died before it
        store.close()
    return result or 0
