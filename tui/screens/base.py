"""What every pipetrack screen shares: store access, guarded writes, focus keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import work
from textual.binding import Binding
from textual.screen import ModalScreen, Screen

from storage import Store, StoreError

from ..messages import DataChanged

if TYPE_CHECKING:
    from ..app import PipetrackApp

T = TypeVar("T")
R = TypeVar("R")

# Priority: the app moves the focus as it reads the key, before it routes the next
# one. Otherwise keys that arrive in one read after a Tab (a fast typist over a slow
# terminal, a key macro) go to the field being left.
FOCUS_BINDINGS = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="focus_next"),
    Binding(
        "shift+tab",
        "app.focus_previous",
        "Previous field",
        show=False,
        priority=True,
        id="focus_previous",
    ),
]


class StoreAccess:
    """Mixin: the app's store and its guarded reads (writes: ``pipetrack.writes.later``)."""

    @property
    def pipetrack(self) -> PipetrackApp:
        return cast("PipetrackApp", self.app)  # type: ignore[attr-defined]

    @property
    def store(self) -> Store:
        return self.pipetrack.store

    def attempt(self, read: Callable[..., R], *args: Any, **kwargs: Any) -> R | None:
        """Run a store read; a failed one becomes a notification (None)."""
        return self.pipetrack.attempt(read, *args, **kwargs)


class AppScreen(StoreAccess, Screen[None], inherit_bindings=False):
    """A full screen that refreshes itself when the data changes."""

    BINDINGS = FOCUS_BINDINGS

    def on_data_changed(self, _message: DataChanged) -> None:
        self.reload_data()

    def reload_data(self) -> None:
        """Read again what the screen shows (override)."""

    @work(thread=True, exclusive=True, group="screen-read", exit_on_error=False)
    def read_aside(self, read: Callable[[], T], show: Callable[[T], object]) -> None:
        """``show(read())`` with ``read`` in a worker thread, for reads of a whole table
        (never on the event loop); a store error becomes a notification."""
        try:
            result = read()
        except StoreError as err:
            self.app.call_from_thread(self.notify, str(err), severity="error")
            return
        self.app.call_from_thread(show, result)


class SubScreen(AppScreen):
    """A screen opened from the pipeline; escape goes back."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="back")]


class AppModal(StoreAccess, ModalScreen[T], inherit_bindings=False):
    """A dialog; escape cancels it (dismisses with None)."""

    BINDINGS = [
        *FOCUS_BINDINGS,
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)
