"""The ``pipetrack`` command: where the parts are put together.

- ``pipetrack`` alone opens the terminal UI (:func:`open_tui`, the TUI's hook).
- Sub-commands come from command modules, each adding itself with ``register(app)``;
  see "sub-commands" below (one explicit line per module).
- Errors of every sub-command become exit codes in :class:`PipetrackGroup`, the one
  place that does it (codes in ``pipetrack/context.py``). Commands never catch them.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from pipetrack import commands, demo_cmd, server_cmd, sync_cmd
from pipetrack.context import (
    BAD_INPUT,
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    EXIT_READER_GONE,
    init_state,
)
from protocol import InvalidInput
from storage import StoreError
from storage.profile import HOME_ENV, Profile

FAILURE = (StoreError, OSError)


def fail(reason: str, code: int) -> NoReturn:
    """``pipetrack: error: <reason>`` on stderr, then exit with ``code``."""
    if code == EXIT_BAD_INPUT:
        reason = re.sub(r"\s*\n\s*", " ", reason.strip())  # one line
    typer.echo(f"pipetrack: error: {reason}", err=True)
    raise typer.Exit(code)


def reader_gone() -> NoReturn:
    """Whoever read our output stopped (``pipetrack list | head``): end quietly, as
    ``ls | head`` does, with the code a shell gives a process SIGPIPE ended. Standard
    output goes to /dev/null first, so Python's flush at exit cannot complain either."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(EXIT_READER_GONE)


def reason_of(err: Exception) -> str:
    if isinstance(err, typer.TyperException):  # usage errors of a sub-command
        ctx = getattr(err, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx else ""
        return err.format_message() + hint
    if isinstance(err, OSError) and err.strerror:
        return f"{err.strerror}: {err.filename}" if err.filename else err.strerror
    return str(err)


class PipetrackGroup(TyperGroup):
    """The root command: maps the errors of any sub-command to exit codes."""

    def make_context(self, *args: Any, **kwargs: Any) -> typer.Context:
        """The root's own options are parsed here, before :meth:`invoke`: their usage
        errors (``--bogus``, ``--home`` without a value) are one line too."""
        try:
            return super().make_context(*args, **kwargs)
        except typer.TyperException as err:
            fail(reason_of(err), getattr(err, "exit_code", EXIT_BAD_INPUT))

    def invoke(self, ctx: typer.Context) -> object:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            reader_gone()
        except BAD_INPUT as err:
            fail(reason_of(err), EXIT_BAD_INPUT)
        except typer.TyperException as err:  # click-style usage errors: exit 2
            fail(reason_of(err), getattr(err, "exit_code", EXIT_FAILURE))
        except FAILURE as err:
            fail(reason_of(err), EXIT_FAILURE)


app = typer.Typer(
    cls=PipetrackGroup,
    name="pipetrack",
    help="Track a pipeline of targets, offline first. Without a command: the terminal UI.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def open_tui(profile: Profile) -> None:
    """``pipetrack`` with no sub-command: the Textual app on ``profile``; its exit code.

    HOOK owned by the TUI engineer (``tui.app.run(profile) -> int``)."""
    if importlib.util.find_spec("tui.app") is None:
        fail("the terminal UI is not installed; see 'pipetrack --help'", EXIT_FAILURE)
    from tui.app import run

    code = run(profile)
    if code:
        raise typer.Exit(code)


def _print_version(given: bool) -> None:
    if given:
        from protocol import installed_version

        typer.echo(f"pipetrack {installed_version()}")
        raise typer.Exit()


def _from_env(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` took its value from its environment variable."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "ENVIRONMENT"


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    home: Annotated[
        str | None,  # a path, named as the user spelled it in an error
        typer.Option(
            "--home",
            envvar=HOME_ENV,
            metavar="DIR",
            help="Profile directory (database, config.toml, token).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version."
        ),
    ] = False,
) -> None:
    given = f"{HOME_ENV}=" if _from_env(ctx, "home") else "--home "
    env = os.environ.get(HOME_ENV)
    if home is None and env is not None:  # click reads an empty variable as unset
        home, given = env, f"{HOME_ENV}="  # (the default profile): refused below
    if home is not None and not home.strip():  # "" would be the working directory
        raise InvalidInput("home", f"{given}{home!r}: give a directory")
    path = None if home is None else Path(home).expanduser()
    if path is not None and path.exists() and not path.is_dir():
        raise InvalidInput("home", f"{given}{home}: is a file, not a directory")
    ctx.params["home"] = path  # as a Path, for commands that read it (demo)
    state = init_state(ctx, path, None if path is None else f"{given}{home}")
    if ctx.invoked_subcommand is None:
        open_tui(state.profile)


# ---- sub-commands: one explicit `register(app)` line per command module -------------
commands.register(app)  # add set edit list stale history status conflicts resolve import export
sync_cmd.register(app)  # login, sync
server_cmd.register(app)  # serve, admin
demo_cmd.register(app)  # demo


def reflow_help(group: typer.Typer) -> None:
    """Typer's help keeps a docstring's line breaks, which are the source's wrapping, not
    the terminal's: each paragraph of every command's help becomes one line, for the
    terminal to wrap."""
    for command in group.registered_commands:
        doc = command.help or (command.callback.__doc__ if command.callback else None)
        if doc:
            paragraphs = inspect.cleandoc(doc).split("\n\n")
            command.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            reflow_help(sub.typer_instance)


reflow_help(app)


def main() -> None:
    """Console script entry point (``pipetrack = pipetrack.cli:main``)."""
    app(prog_name="pipetrack")
