"""``pipetrack demo``: the whole system on this machine, seeded, in one command.

It starts an embedded PostgreSQL and the API on a free loopback port, creates the team's
users, pushes a year of the team's history through the API, logs the demo profile in
and syncs it, leaves one conflict and one rejected change waiting, starts the sync
daemon and opens the TUI. Quitting the TUI (or Ctrl-C) stops all of it.

The parts: :mod:`pipetrack.demo_dirs` (where), :mod:`pipetrack.demo_system` (the
processes), :mod:`pipetrack.demo_seed` / :mod:`pipetrack.demo_team` (the history and
who pushes it), :mod:`pipetrack.demo_story` (the conflict and the rejected change),
:mod:`pipetrack.demo_text` (what it prints).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import typer

from storage import Store, TargetQuery
from storage.profile import Profile
from syncd import ApiError

from . import demo_text
from .demo_dirs import READY, DemoDirs, write_private
from .demo_seed import MARKETS, SEED, TARGETS, build_seed, pushes
from .demo_story import stage
from .demo_system import System, sync_once
from .demo_team import ME, SECOND, USERS, create_users, push_all

#: What can stop the set-up (a process that dies, a port, PostgreSQL's pg_ctl...): one
#: message, exit 1, everything started so far stopped.
SETUP_ERRORS = (RuntimeError, TimeoutError, ApiError, psycopg.Error, subprocess.SubprocessError)


def run(
    ctx: typer.Context,
    data_dir: Path | None,
    home: Path | None,
    fresh: bool,
    port: int | None,
    no_tui: bool,
    seed_only: bool,
) -> None:
    """``pipetrack demo`` (options in :mod:`pipetrack.demo_cmd`)."""
    dirs = DemoDirs.choose(data_dir, home or _explicit_home(ctx))
    record = dirs.prepare(fresh)
    code = 0
    system = System(dirs)
    with _signals_interrupt():
        try:
            url, record = _set_up(system, dirs, record, port)
            if not seed_only:
                code = _run(system, dirs, url, record, no_tui)
        except KeyboardInterrupt:
            code = 0 if no_tui else 130
        except SETUP_ERRORS as err:
            typer.echo(f"pipetrack: error: demo: {err}", err=True)
            code = 1
        finally:
            _ignore_signals()
            _say("stopping what the demo started…")  # --seed-only started no daemon
            system.close()
            _say("stopped.")
    if code:
        raise typer.Exit(code)


def _explicit_home(ctx: typer.Context) -> Path | None:
    """``pipetrack --home P demo`` names the demo profile; PIPETRACK_HOME does not (the
    demo must never seed a real profile)."""
    root = ctx.find_root()
    source = root.get_parameter_source("home")
    if source is not None and source.name == "COMMANDLINE":
        return root.params["home"]
    return None


def _set_up(
    system: System, dirs: DemoDirs, record: dict[str, Any] | None, port: int | None
) -> tuple[str, dict[str, Any]]:
    """Everything up to a synced demo profile; the API's URL and the demo's record."""
    if record is None:
        record = dirs.write(state="starting")
    _say(f"starting PostgreSQL in {dirs.postgres}…")
    database_url = system.start_postgres()
    system.launch_server(database_url, port)
    if "tokens" not in record:
        _say(f"creating the users {', '.join(USERS)}…")
        record = dirs.write(state="seeding", tokens=create_users(database_url))
    _say(f"starting the API server (log: {dirs.server_log})…")
    url = system.wait_server()
    profile = Profile(dirs.home)
    profile.save_server(url)
    profile.save_token(record["tokens"][ME])
    if record.get("state") == READY:
        _say(f"reusing the demo seeded at {record['seeded_at']} (--fresh starts over); syncing…")
        sync_once(profile)
        return url, record
    return url, _seed(dirs, url, record, profile)


def _seed(dirs: DemoDirs, url: str, record: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """The team's year through the API, the demo profile synced, the story staged."""
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    seed = build_seed(now, rng)
    _say(f"seeding {TARGETS} targets in {len(MARKETS)} markets, a year of history…")
    changes = push_all(url, record["tokens"], pushes(seed, rng))
    _say(f"  {changes} changes pushed by the teammates' devices; syncing the demo profile…")
    sync_once(profile)
    _say(f"staging a conflict with {SECOND} and a rejected change…")
    with Store.open(profile.db_path) as store:
        story = stage(store, url, record["tokens"][SECOND], seed, now, rng)
    sync_once(profile)
    _check_story(profile)
    return dirs.write(
        **{
            **record,
            "state": READY,
            "seeded_at": now.isoformat(timespec="seconds"),
            "conflict": story.conflict,
            "rejected": story.rejected,
        }
    )


def _check_story(profile: Profile) -> None:
    with Store.open(profile.db_path) as store:
        state = store.sync_state()
    if (state.conflicts, state.rejected) != (1, 1):
        raise RuntimeError(
            f"expected 1 conflict and 1 rejected change, the sync left "
            f"{state.conflicts} and {state.rejected}"
        )


def _run(system: System, dirs: DemoDirs, url: str, record: dict[str, Any], no_tui: bool) -> int:
    """The daemon, the instructions, then the TUI (or wait for Ctrl-C); the exit code."""
    profile = Profile(dirs.home)
    _say(f"starting the sync daemon (log: {dirs.sync_log})…")
    system.start_daemon(profile)
    with Store.open(profile.db_path) as store:
        counts = (store.count_targets(), store.count_targets(TargetQuery(stagnation=("stale",))))
        waits = demo_text.waiting(store.conflicts(), store.rejected())
    text = demo_text.instructions(dirs, url, record, *counts, waits)
    write_private(dirs.instructions, text)
    _say(text)
    _say(f"ready: the API on {url}, the demo profile in {dirs.home}")
    if no_tui:
        _say("running until Ctrl-C…")
        system.watch()
        return 0
    if sys.stdin.isatty():
        input("Press Enter to open the TUI (Ctrl-C stops everything)… ")
    from tui.app import run  # the TUI only when it is opened

    return run(profile)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM stops the demo like Ctrl-C (KeyboardInterrupt); the handlers that were
    there come back at the end."""

    def interrupt(*_: object) -> None:
        _ignore_signals()  # one is enough: stopping the children must not be cut short
        raise KeyboardInterrupt

    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _ignore_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _say(line: str) -> None:
    typer.echo(line)
