"""``pipetrack login`` and ``pipetrack sync``: connect a profile to a server, run the daemon.

The token is read from the profile's 0600 token file when needed and never printed or
logged (not even with ``--verbose``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING, Annotated, NoReturn
from urllib.parse import urlsplit

import typer

from pipetrack.context import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    config_of,
    open_store,
    pipetrack_for,
    profile_of,
)
from protocol import InvalidInput
from storage import Store
from storage.presence import sync_process_pid

from .commands.output import info, plural

if TYPE_CHECKING:
    from storage.profile import Profile
    from syncd import ApiClient

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(sync)


def login(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Argument(metavar="URL", help="The server, e.g. https://pipetrack.example.com")
    ],
    token: Annotated[
        str,
        typer.Option(
            "--token",
            prompt=True,
            hide_input=True,
            help="Your API token ('pipetrack admin add-user' printed it). Asked for if left out.",
        ),
    ],
) -> None:
    """Check a token against the server, then save the URL and the token in the profile."""
    from syncd import ApiClient, ApiError, Transient, Unauthorized  # httpx: only here
    from syncd.client import NotTheServer, ServerError, UseHttps

    url = _clean_url(url)
    token = token.strip()
    if not token:
        raise InvalidInput("token", "the token is empty")
    profile = profile_of(ctx)
    profile.read_raw()  # a config.toml that is not TOML (naming it) before the server is asked
    try:
        with ApiClient(url, token) as client:
            client.check()
            _refuse_another_pipeline(profile, client)
            name = client.me()
    except Unauthorized:
        raise InvalidInput(
            "token",
            f"{url} refused the token (mistyped, disabled or replaced): ask your admin for"
            f" a new token, then run pipetrack login {url} --token NEW",
        ) from None
    except UseHttps as err:
        raise InvalidInput("url", f"{url} redirects to https: log in with {err.url}") from None
    except NotTheServer as err:  # a hotel's Wi-Fi sign-in page, most likely
        _failed(
            f"not logged in: something other than the pipetrack API answered at {url}"
            f" ({err.where}), such as a Wi-Fi sign-in page: sign in to the network, then"
            " run pipetrack login again (or check the URL)"
        )
    except ServerError as err:
        _failed(f"not logged in: {url} has trouble ({err}); try again later")
    except Transient as err:  # the network, or nothing listening there
        _failed(f"{err}; check the URL and your network")
    except ApiError as err:
        raise InvalidInput(
            "url", f"{url} does not answer like a pipetrack server ({err})"
        ) from None
    profile.save_server(url)
    profile.save_token(token)
    if name:
        with Store.open(profile.db_path) as store:
            store.set_user_name(name)
    who = f" as {name}" if name else ""
    pid = sync_process_pid(profile.home)
    then = (
        f"The sync daemon running on this profile (pid {pid}) uses it now."
        if pid
        else f"Run '{pipetrack_for(ctx)} sync'."
    )
    info(f"logged in to {url}{who}; token saved in {profile.token_path}. {then}")
    if cleartext(url):
        info(
            f"warning: {url} is plain http: your token and your pipeline cross the network"
            " unencrypted; ask your admin for its https:// address"
        )


def _failed(reason: str) -> NoReturn:
    """The server cannot be used (unreachable, in trouble): exit 1, one line, as the app
    says a store's failure. Nothing was saved."""
    typer.echo(f"pipetrack: error: {reason}", err=True)
    raise typer.Exit(EXIT_FAILURE)


def cleartext(url: str) -> bool:
    """An http:// URL of another machine (this one's loopback never leaves it)."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name
        return True


def _refuse_another_pipeline(profile: Profile, client: ApiClient) -> None:
    """InvalidInput when the profile holds targets from a server and ``client``'s server
    does not have them: syncing would mix two teams' pipelines, and the queued changes
    would go to a server that rejects them (or creates them there). The same server under
    a new URL has them, and passes."""
    old = profile.saved_server()
    if old is None or old == client.base_url or not profile.db_path.exists():
        return
    with Store.open(profile.db_path) as store:
        uid = store.a_synced_target()
    if uid is not None and not client.has_target(uid):
        raise InvalidInput(
            "url",
            f"{client.base_url} does not hold this profile's targets (they came from {old});"
            f" to use it, log in from another profile: pipetrack --home DIR login"
            f" {client.base_url}",
        )


def _clean_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("url", f"{url!r} is not an http:// or https:// URL")
    return url


def sync(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Push and pull until nothing is left, then exit.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
) -> None:
    """Run the sync daemon until stopped (Ctrl-C, SIGTERM): push yours, pull the team's.

    With --once: push and pull until nothing is left, then exit; exit 1 when the server
    is unreachable (changes stay queued)."""
    from syncd import AlreadyRunning, ProfileLock, Settings, run_once

    profile = profile_of(ctx)
    config = config_of(ctx)
    if not config.server or not profile.read_token():
        raise InvalidInput("server", "not logged in - run pipetrack login URL --token T")
    _check_watch_mode()
    settings = Settings.from_env(config.server)
    _setup_logging(verbose)
    profile.ensure()
    lock = ProfileLock(profile.home)
    for attempt in range(3):
        try:
            lock.acquire()
            break
        except AlreadyRunning as err:
            if not once or attempt == 2:
                typer.echo(f"pipetrack: error: {err}", err=True)
                raise typer.Exit(EXIT_BAD_INPUT) from None
            code = _await_daemon(ctx, err.pid)  # the other process syncs: wait for it
            if code is not None:
                _tell_waiting(ctx, code)
                raise typer.Exit(code) from None
            time.sleep(0.1)  # it ended (another --once, say) before it was done: sync here
    with lock:
        # a database that cannot be used: exit 1 here
        with open_store(ctx, missing="create") as store:
            if once:
                code = run_once(store, settings, profile.read_token)
                _tell_waiting(ctx, code, store)
                raise typer.Exit(code)
        from syncd import Daemon  # its file watching (watchdog): not for --once

        running: list[Daemon] = []
        stopped = threading.Event()

        def stop(*_: object) -> None:
            stopped.set()
            for daemon in running:
                daemon.stop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)
        while not stopped.is_set():  # again when the profile is logged in elsewhere meanwhile
            daemon = Daemon(
                profile.home,
                lambda: Store.open(profile.db_path, thresholds=config.thresholds),
                settings,
                profile.read_token,
                server=profile.saved_server,
            )
            running[:] = [daemon]
            if stopped.is_set():  # a signal came while it was made
                break
            logging.getLogger("syncd").info("syncing %s with %s", profile.home, settings.server)
            daemon.run()
            if daemon.moved_to is None:
                break
            settings = Settings.from_env(daemon.moved_to)


def _tell_waiting(ctx: typer.Context, code: int, store: Store | None = None) -> None:
    """After a ``sync --once`` that went through: the changes that did not go out because
    they wait for the user (a conflict, a refusal), with where to see them. "Pushed 0"
    alone read as all done before the laptop was shut."""
    if code != 0:
        return
    if store is None:
        with open_store(ctx, missing="create") as opened:
            state = opened.sync_state()
    else:
        state = store.sync_state()
    waiting = [
        (state.conflicts, "conflict", "conflicts"),
        (state.rejected, "rejected change", "rejected"),
    ]
    for count, what, command in waiting:
        if count:
            logging.getLogger("syncd").warning(
                "%s wait%s for you, not sent: see %s %s",
                plural(count, what),
                "s" if count == 1 else "",
                pipetrack_for(ctx),
                command,
            )


#: ``PIPETRACK_SYNC_WATCH``'s values: file events (the default), or polling.
WATCH_MODES = ("events", "poll")


def _check_watch_mode() -> None:
    """``PIPETRACK_SYNC_WATCH`` is ``poll`` or ``events`` (any case), or unset; anything
    else is refused as the other ``PIPETRACK_SYNC_*`` variables refuse a bad value (a
    typo such as ``pol`` silently kept file events)."""
    from syncd.settings import ENV_WATCH

    raw = os.environ.get(ENV_WATCH)
    if raw is None or not raw.strip() or raw.strip().lower() in WATCH_MODES:
        return
    raise InvalidInput(ENV_WATCH, f"{ENV_WATCH}={raw!r}: expected poll or events")


#: How long ``sync --once`` waits for a running daemon to push what is pending.
DAEMON_WAIT_S = 120.0


def _await_daemon(ctx: typer.Context, pid: int | None) -> int | None:
    """``sync --once`` on a profile whose daemon runs (e.g. under systemd): the daemon
    does the syncing, so wait until it has pushed every change that can go out (those
    held behind a conflict stay, as with --once alone), is online and has pulled
    everything (not part way through a catch-up), as --once alone would. 0 then; 1
    when it reports the server unreachable, or after DAEMON_WAIT_S; None when the
    process ended first (the caller syncs itself)."""
    log = logging.getLogger("syncd")
    log.info("a sync daemon runs on this profile (pid %s): waiting for it to sync", pid)
    deadline = time.monotonic() + DAEMON_WAIT_S
    with open_store(ctx, missing="create") as store:
        while True:
            state = store.sync_state()
            if state.online and not state.pulling and not store.take_wire_batch(1):
                log.info(
                    "sync: the daemon has pushed everything pending and pulled the team's"
                    " changes; %d left",
                    state.to_send,
                )
                return 0
            if state.reported and not state.online and state.last_error:
                log.error("sync failed: %s; the daemon keeps trying", state.last_error)
                return 1
            if not state.daemon_running:
                return None
            if time.monotonic() > deadline:
                log.error("the daemon has not synced in %.0f s; it keeps trying", DAEMON_WAIT_S)
                return 1
            time.sleep(0.1)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("syncd").setLevel(logging.DEBUG if verbose else logging.INFO)
    # httpx logs each request's URL at INFO (never headers, so never the token).
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)
