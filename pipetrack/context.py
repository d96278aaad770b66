"""What every ``pipetrack`` sub-command needs: the profile, its config, the store.

Use these helpers in any command module (targets, sync, server, demo)::

    import typer
    from pipetrack.context import config_of, open_store, profile_of

    def register(app: typer.Typer) -> None:
        app.command()(thing)

    def thing(ctx: typer.Context) -> None:
        with open_store(ctx) as store:  # profile dir created, config read, store opened
            ...                         # and closed again when the block ends

- :func:`profile_of` gives the :class:`~storage.profile.Profile` selected by the global
  ``--home DIR`` / ``PIPETRACK_HOME`` (the platform's data dir otherwise).
- :func:`config_of` reads ``config.toml`` once per invocation (an error in it names the
  file); :func:`lenient_config` gives defaults and the error instead, for ``status``.
- :func:`open_store` opens ``pipetrack.db`` with the configured stagnation thresholds.

Errors: do not catch them in commands. The app (``pipetrack/cli.py``) turns
``InvalidInput`` / ``NotFound`` / ``Ambiguous`` / usage errors into exit 2,
``StoreError`` and ``OSError`` into exit 1, each as ONE line on stderr
``pipetrack: error: <reason>``. To refuse bad input yourself, raise
``protocol.InvalidInput(field, reason)``; for another exit code, ``raise typer.Exit(code)``.
"""

from __future__ import annotations

import contextlib
import shlex
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
import typer

from protocol import InvalidInput
from storage import Ambiguous, NotFound, Store
from storage.profile import DB_NAME, Config, Profile

#: Errors that refuse the user's input (exit 2).
BAD_INPUT = (InvalidInput, NotFound, Ambiguous)

#: What :func:`open_store` does with a chosen profile that is not there yet.
Missing = Literal["refuse", "create", "scratch"]

#: Exit codes of every ``pipetrack`` command.
EXIT_OK = 0
EXIT_FAILURE = 1  # the store or the file system failed (corrupt db, disk full...)
EXIT_BAD_INPUT = 2  # the user's input was refused; nothing was written
EXIT_STALE = 3  # ``stale --fail`` found stale targets
EXIT_READER_GONE = 141  # the output's reader went away (``| head``): 128 + SIGPIPE, as shells say


@dataclass
class AppState:
    """Per-invocation state kept on the root click context (``ctx.obj``)."""

    profile: Profile
    #: how the user chose the profile ("--home DIR", "PIPETRACK_HOME=DIR"); None: the default
    chosen_as: str | None = None
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = self.profile.load_config()
        return self._config


def lenient_config(ctx: typer.Context) -> tuple[Config, str | None]:
    """The profile's config, or, when it has an error, the defaults with its
    ``[sync] server`` when that can still be read, and the error (for ``status``, which
    should still say how sync stands while the file waits to be fixed)."""
    state = _state(ctx)
    try:
        return state.config, None
    except InvalidInput as err:
        try:
            server = state.profile.saved_server()
        except (OSError, InvalidInput):
            server = None
        return Config(server=server), str(err)


def init_state(ctx: typer.Context, home: Path | None, chosen_as: str | None = None) -> AppState:
    """Called once by the root command with the global ``--home`` value."""
    state = AppState(Profile(home), chosen_as)
    ctx.obj = state
    return state


def _state(ctx: typer.Context) -> AppState:
    state = ctx.find_object(AppState)
    if state is None:  # a command invoked outside the app (tests of a lone command)
        state = init_state(ctx.find_root(), None)
    return state


def profile_of(ctx: typer.Context) -> Profile:
    return _state(ctx).profile


def pipetrack_for(ctx: typer.Context) -> str:
    """``pipetrack`` as a hint should spell it to reach this profile: with ``--home`` when
    the profile is not the default one (a hint copied without it reaches another)."""
    home = profile_of(ctx).home
    default = Path(platformdirs.user_data_dir("pipetrack", appauthor=False))
    if home.expanduser().resolve() == default.resolve():
        return "pipetrack"
    return f"pipetrack --home {shlex.quote(str(home))}"


def config_of(ctx: typer.Context) -> Config:
    """The profile's ``config.toml`` (InvalidInput naming the bad setting -> exit 2)."""
    return _state(ctx).config


@contextmanager
def open_store(
    ctx: typer.Context, *, missing: Missing = "refuse", **options: Any
) -> Iterator[Store]:
    """Open the profile's store for the length of a ``with`` block.

    ``options`` go to :meth:`Store.open` (e.g. ``clock=``, ``user=``); thresholds
    come from ``config.toml`` unless given. A profile the user chose (``--home``,
    ``PIPETRACK_HOME``) that is not there yet (no directory, or one holding other files
    and none of a profile's; an empty one is taken) is made only by a command that starts one
    (``missing="create"``: ``add``, ``import``, ``sync``); a dry run looks at an empty
    store of its own (``"scratch"``); any other command refuses: on a mistyped
    directory it would show an empty pipeline or "no such target", and its hints would
    start work in the wrong place. The default profile is made by any command.
    """
    state = _state(ctx)
    profile = state.profile
    new = state.chosen_as is not None and not profile.exists() and not _empty_dir(profile.home)
    if new and missing == "refuse":
        raise InvalidInput(
            "home",
            f"no profile at {state.chosen_as}: a mistyped directory? "
            "(pipetrack add, import or login starts one there)",
        )
    if "thresholds" not in options:
        options["thresholds"] = state.config.thresholds
    was_there = profile.home.exists()
    try:
        with contextlib.ExitStack() as stack:
            if new and missing == "scratch":
                path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / DB_NAME
            else:
                path = profile.ensure() / DB_NAME
            yield stack.enter_context(Store.open(path, **options))
    except BAD_INPUT:
        if new and missing == "create":  # refused: no new profile is left behind
            _take_back(profile, was_there)
        raise


def _empty_dir(path: Path) -> bool:
    """An empty directory: made for the profile (a directory holding other files, the
    parent folder or ~, is a mistyped one)."""
    return path.is_dir() and next(path.iterdir(), None) is None


def _take_back(profile: Profile, was_there: bool) -> None:
    """The profile's files a refused command made, and its directory if it made it."""
    for suffix in ("", "-wal", "-shm"):  # the store is in WAL mode
        (profile.home / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    if not was_there:
        with contextlib.suppress(OSError):  # not empty: something else is there now
            profile.home.rmdir()
