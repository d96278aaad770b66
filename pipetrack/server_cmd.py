"""``pipetrack serve`` and ``pipetrack admin ...``: run the central API and manage its users.

Both take the database the same way: ``--database-url`` (or PIPETRACK_DATABASE_URL),
else an embedded PostgreSQL in ``--data-dir`` (default: the platform's data dir for
``pipetrack-server``), shared with a server already running on that directory.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import platformdirs
import typer

from protocol import SINCE_FORMS
from server.settings import DATABASE_URL_ENV, POOL_MAX_DEFAULT, setup_logging

from .commands.args import JsonFlag
from .commands.output import (
    ListSpec,
    emit_fields,
    emit_json,
    emit_list,
    info,
    local_time,
    plural,
    status_text,
)

if TYPE_CHECKING:
    from server.changes import Change
    from server.migrate import Schema
    from server.users import User

# psycopg, pgserver and the rest of the server load when a command runs, not with the
# CLI: every other pipetrack command starts faster without them.

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar=DATABASE_URL_ENV,
        metavar="URL",
        help="PostgreSQL URL; without it an embedded PostgreSQL runs in --data-dir.",
        show_envvar=True,
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="DIR",
        file_okay=False,
        help="Directory of the embedded PostgreSQL (default: the platform's data dir).",
    ),
]


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("pipetrack-server"))


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``admin`` group to the ``pipetrack`` app."""
    app.command()(serve)
    admin = typer.Typer(
        help="Manage a server's users (API tokens); stats of what it holds; after a restore."
    )
    admin.callback(invoke_without_command=True)(_admin_help)
    admin.command("add-user")(admin_add_user)
    admin.command("list-users")(admin_list_users)
    admin.command("disable-user")(admin_disable_user)
    admin.command("new-token")(admin_new_token)
    admin.command("stats")(admin_stats)
    admin.command("changes")(admin_changes)
    admin.command("reset-cursors")(admin_reset_cursors)
    app.add_typer(admin, name="admin")


def _admin_help(ctx: typer.Context) -> None:
    """``pipetrack admin`` alone: its help, exit 0 (click's no_args_is_help ends in a
    usage error without a reason, which the CLI printed as one)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


def _bare_host(host: str) -> str:
    """``[::1]``, an IPv6 address as a URL writes it, as the socket takes it (``::1``)."""
    host = host.strip()
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option(help="Address to listen on (IPv6: ::1 or [::1]).", callback=_bare_host)
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8787,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
    db_connections: Annotated[
        int,
        typer.Option(
            min=2,
            max=1000,
            help="Pooled PostgreSQL connections per server process (each also holds one"
            " to listen); all processes of all hosts together must stay under the"
            " database's max_connections.",
        ),
    ] = POOL_MAX_DEFAULT,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="A log line per request (each device long-polls about every 25 s).",
        ),
    ] = True,
) -> None:
    """Run the central API server (stop with Ctrl-C). Logs go to standard error."""
    from server.run import run  # uvicorn and the app: only this command needs them

    database_url = _one_database(ctx, database_url, data_dir)
    with _database_errors(database_url):
        run(
            host,
            port,
            database_url,
            data_dir or default_data_dir(),
            workers,
            access_log,
            db_connections,
        )


def admin_add_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="User name (no spaces).")],
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Create a user and print its token, alone on standard output; shown only once."""
    from server.users import add_user, clean_user_name

    name = clean_user_name(name)  # a bad name: refused before the database is opened
    with _admin_database(ctx, database_url, data_dir, "create") as url:
        token = add_user(url, name)
    typer.echo(f"user {name!r} added; keep this token, it is not shown again", err=True)
    typer.echo(token)


USERS: ListSpec[User] = ListSpec(
    columns=("NAME", "CREATED", "LAST SEEN", "STATE"),
    row=lambda user: (
        user.name,
        local_time(user.created_at),
        local_time(user.last_seen_at) if user.last_seen_at else "never",
        "disabled" if user.disabled else "enabled",
    ),
    empty="no users yet: add one with pipetrack admin add-user NAME",
)


def admin_list_users(
    ctx: typer.Context,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """List users: name, created, last seen (to the minute), enabled or disabled."""
    from server.users import list_users

    with _admin_database(ctx, database_url, data_dir, "read") as url:
        users = list_users(url)
    emit_list(users, as_json, USERS)


def admin_disable_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="User name.")],
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Disable a user: its token stops working at once."""
    from server.users import disable_user

    with _admin_database(ctx, database_url, data_dir) as url:
        name, already = disable_user(url, name)
    typer.echo(f"user {name!r} {'was already disabled' if already else 'disabled'}", err=True)


def admin_new_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="User name.")],
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Give a user a new token, printed alone; the old one stops working at once.

    For a lost laptop or a leaked token: a disabled user is enabled again, and keeps
    their name, so their history stays theirs."""
    from server.users import new_token

    with _admin_database(ctx, database_url, data_dir) as url:
        token, was_disabled, name = new_token(url, name)
    again = " and is enabled again" if was_disabled else ""
    typer.echo(
        f"user {name!r} has a new token{again}; the old one no longer works;"
        " keep this one, it is not shown again",
        err=True,
    )
    typer.echo(token)


def admin_stats(
    ctx: typer.Context,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """What the server holds and how much it is used: targets per status, changes and
    devices of the last 7 days, users seen in the last 24 hours, the database's size and
    version. (In --json, users_seen_today counts those: the key keeps its name.)"""
    from server.stats import RECENT_DAYS, read_stats

    with _admin_database(ctx, database_url, data_dir, "read") as url:
        stats = read_stats(url)
    if as_json:
        emit_json(stats.to_json())
        return
    statuses = " · ".join(f"{status} {n:,}" for status, n in stats.by_status.items() if n)
    days = f"{RECENT_DAYS} days"
    emit_fields(
        [
            ("Targets", f"{stats.targets:,}" + (f"  ({statuses})" if statuses else "")),
            (
                "Changes",
                f"{stats.changes:,}  ({stats.changes_recent:,} in the last {days}, "
                f"from {plural(stats.devices_recent, 'device')})",
            ),
            (
                "Users",
                f"{stats.users:,}  ({stats.users_enabled:,} enabled, "
                f"{stats.users_seen_today:,} seen in the last 24 hours)",
            ),
            (
                "Database",
                f"PostgreSQL {stats.postgres_version}, {stats.database_bytes / 2**20:,.0f} MiB, "
                f"migrations up to {stats.migration}",
            ),
        ]
    )


def _change_row(change: Change) -> tuple[str, ...]:
    if change.op == "edit":
        what = "edited details"
    elif change.op == "create":
        what = f"created, {status_text(change.new_status)}"
    else:
        what = f"{status_text(change.old_status)} → {status_text(change.new_status)}"
    return (
        local_time(change.changed_at),
        change.name,
        what,
        change.user,
        change.device[:8],
        change.note or "",
    )


CHANGES = ListSpec(
    columns=("WHEN", "TARGET", "CHANGE", "BY", "DEVICE", "NOTE"),
    row=_change_row,
    empty="no changes recorded that match",
    shrink=("NOTE", "TARGET"),
)


def admin_changes(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", "-t", metavar="TARGET", help="Only this target: uid, prefix or name."
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", "-u", metavar="USER", help="Only this user's changes.")
    ] = None,
    since: Annotated[
        str, typer.Option("--since", metavar="SPAN", help=f"From when: {SINCE_FORMS}.")
    ] = "7d",
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="At most N (newest first).")
    ] = 50,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Who changed what, and when, as the server recorded it, newest first as the
    devices dated them (the last 7 days unless --since says otherwise): status changes,
    new targets and edits of details, with the user, the device and the note. --json
    also has when the server received each."""
    from datetime import UTC, datetime

    from protocol import InvalidInput, parse_since
    from server.changes import read_changes

    for option, value in (("--target", target), ("--user", user)):
        if value is not None and not value.strip():  # an unset variable in a script
            raise InvalidInput(option, f"{option} {value!r}: give a value")
    start = parse_since(since, datetime.now(UTC))
    with _admin_database(ctx, database_url, data_dir, "read") as url:
        changes = read_changes(url, target=target, user=user, since=start, limit=limit)
    emit_list(changes, as_json, CHANGES)
    if len(changes) == limit and not as_json:
        info(f"the newest {limit:,} shown; more with --limit (or a narrower --since)")


def admin_reset_cursors(
    ctx: typer.Context, database_url: DatabaseUrl = None, data_dir: DataDir = None
) -> None:
    """Make every device pull everything again from the start: run it after restoring
    the database from a physical backup or to a point in time.

    Their queued changes are kept. A device's pull cursor counts in the database's
    transaction ids, which continue from the restored point; without this a device could
    skip what the restore changed. (A restore into a new database, as pg_restore makes,
    is noticed when the server starts.)"""
    from server.cursors import USERS_ADVICE, reset_cursors

    with _admin_database(ctx, database_url, data_dir) as url:
        reset_cursors(url)
    typer.echo(
        "every device's pull cursor is now refused: each pulls everything again from the"
        " start at its next pull (a daemon within seconds); queued changes are kept",
        err=True,
    )
    typer.echo(f"after a restore, {USERS_ADVICE}", err=True)


@contextlib.contextmanager
def _admin_database(
    ctx: typer.Context, database_url: str | None, data_dir: Path | None, may: Schema = "migrate"
) -> Iterator[str]:
    """The database of an admin command, once it holds pipetrack's schema (``may``:
    what the command may do to it, :func:`server.migrate.check_schema`). Never a new
    embedded database: only ``serve`` makes one."""
    from server.embedded import open_database
    from server.migrate import check_schema

    database_url = _one_database(ctx, database_url, data_dir)
    with (
        _database_errors(database_url),
        open_database(database_url, data_dir or default_data_dir(), create=False) as url,
    ):
        check_schema(url, may)
        yield url


def _one_database(
    ctx: typer.Context, database_url: str | None, data_dir: Path | None
) -> str | None:
    """The database URL to use (None: the embedded database). InvalidInput (exit 2,
    nothing opened) for a blank URL (:func:`_not_empty`) and for an explicit
    ``--data-dir`` beside a database URL: the URL would win without a word (an exported
    PIPETRACK_DATABASE_URL made ``add-user --data-dir /tmp/try`` add the user to
    production). The default data dir with a URL is the URL, as ever."""
    from protocol import InvalidInput

    if not _not_empty(ctx, database_url, data_dir):
        return None
    if data_dir is None:
        return database_url
    source = ctx.get_parameter_source("database_url")
    if source is not None and source.name == "ENVIRONMENT":
        said = (
            f"{DATABASE_URL_ENV} is set: give --database-url or --data-dir, not both"
            " (unset it to use the data dir)"
        )
    else:
        said = "--database-url and --data-dir given: give one of them, not both"
    raise InvalidInput("data_dir", said)


def _not_empty(ctx: typer.Context, database_url: str | None, data_dir: Path | None) -> bool:
    """InvalidInput (exit 2, nothing opened) for a blank database URL: ``--database-url
    ''``, or PIPETRACK_DATABASE_URL set to nothing (an env file's ``VAR=``), which click
    takes for unset: an embedded PostgreSQL started in the default data dir without a
    word (whitespace alone was tried as a URL: a confusing exit 1). A blank variable
    beside an explicit ``--data-dir`` names no database: the data dir is used. Whether
    a URL is given."""
    from protocol import InvalidInput

    if database_url is not None and database_url.strip():
        return True
    source = ctx.get_parameter_source("database_url")
    if database_url is not None and source is not None and source.name == "COMMANDLINE":
        raise InvalidInput(
            "database_url",
            f"the database URL is empty (--database-url {database_url!r}): give a PostgreSQL"
            " URL, or leave the option out for the embedded database",
        )
    blank = database_url if database_url is not None else os.environ.get(DATABASE_URL_ENV)
    if blank is None or data_dir is not None:
        return False
    raise InvalidInput(
        "database_url",
        f"the database URL is empty ({DATABASE_URL_ENV} is set to {blank!r}): set it to a"
        " PostgreSQL URL, or unset it for the embedded database",
    )


@contextlib.contextmanager
def _database_errors(database_url: str | None) -> Iterator[None]:
    """A database that cannot be used: one line on stderr, without its password; exit 1
    (systemd tries again), or 2 for a URL libpq refuses, or whose login PostgreSQL
    refuses (a wrong password, a database or user that does not exist): it would refuse
    it again, so the line says what to fix."""
    import psycopg

    from server.db import (
        check_database_url,
        is_bad_setting,
        login_refused,
        redact,
        refusal,
    )
    from server.embedded import EmbeddedError

    if database_url:
        check_database_url(database_url)  # InvalidInput: exit 2, nothing started
    setup_logging()
    try:
        yield
    except EmbeddedError as err:
        typer.echo(f"pipetrack: error: {err}", err=True)
        raise typer.Exit(1) from None
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction) as err:
        # the database as it is cannot be pipetrack's: exit 1, what to change
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        said = refusal(database_url, err) if database_url else f"the embedded database: {first}"
        typer.echo(f"pipetrack: error: {said}", err=True)
        raise typer.Exit(1) from None
    except psycopg.OperationalError as err:
        where = redact(database_url) if database_url else "the embedded database"
        said = login_refused(database_url, err) if database_url else None
        if said is not None:  # our words, with none of the password
            typer.echo(f"pipetrack: error: cannot use {where}: {said}", err=True)
            raise typer.Exit(2) from None
        # libpq's words when it connects name the host, port and user, never the password
        # (a URL it would misread is refused before: check_database_url); hiding a
        # password that is a word of them ("connection", "refused") garbled the line
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        typer.echo(f"pipetrack: error: cannot use {where}: {reason}", err=True)
        raise typer.Exit(2 if is_bad_setting(err) else 1) from None


if __name__ == "__main__":  # python -m pipetrack.server_cmd: these commands alone
    standalone = typer.Typer(add_completion=False)
    register(standalone)
    standalone()
