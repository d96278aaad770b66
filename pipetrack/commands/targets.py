"""Commands that change targets: ``add``, ``set``, ``edit``, ``snooze``."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from pipetrack.context import open_store
from protocol import UNTIL_FORMS, InvalidInput, parse_typed_status, parse_until
from storage import NotUndone, TargetView

from .args import JsonFlag, MarketOpt, NoteOpt, StatusHelp, TargetArg
from .output import emit_json, info, status_text


def register(app: typer.Typer) -> None:
    app.command()(add)
    app.command("set")(set_status)
    app.command()(undo)
    app.command()(edit)
    app.command()(snooze)


def show(target: TargetView, as_json: bool, message: str) -> None:
    """The target as JSON, or a one-line message for a person."""
    if as_json:
        emit_json(target.to_json())
    else:
        typer.echo(message)


def add(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The target's name (1-255 characters).")
    ],
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    market: MarketOpt = None,
    status: Annotated[str | None, typer.Option("--status", "-s", help=StatusHelp)] = None,
    note: NoteOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a target; prints its uid."""
    parsed = None if status is None else parse_typed_status(status)
    with open_store(ctx, missing="create") as store:
        target = store.create_target(name, description, market or (), parsed, note=note)
    show(target, as_json, target.uid)


def set_status(
    ctx: typer.Context,
    target: TargetArg,
    status: Annotated[str, typer.Argument(metavar="STATUS", help=StatusHelp)],
    note: NoteOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Set a target's pipeline status."""
    new = parse_typed_status(status)
    with open_store(ctx) as store:
        before = store.resolve(target)
        change = store.set_status(before.uid, new, note)
    after = change.target
    if change.changed:
        message = f"{after.name}: {status_text(before.status)} -> {status_text(after.status)}"
    else:
        message = f"{after.name} is already {status_text(after.status)}, nothing changed"
    show(after, as_json, message)


def undo(ctx: typer.Context) -> None:
    """Take back this device's last status change that still stands: one, a bulk change
    made in the terminal UI, or an import's status changes, whole (targets it created
    with a status lose it; its other edits and the targets stay). Run it again to walk
    further back. A change a teammate made since on the same target is never
    overwritten."""
    with open_store(ctx) as store:
        undone = store.undo_last()
    if undone is None:
        info("nothing to undo: no status change made on this device still stands")
    elif isinstance(undone, NotUndone):
        info(undone.words())
    else:
        typer.echo(f"undone: {undone.words()}")


def edit(
    ctx: typer.Context,
    target: TargetArg,
    name: Annotated[str | None, typer.Option("--name")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    market: Annotated[
        list[str] | None,
        typer.Option("--market", "-m", metavar="M", help="Replace the markets; repeat."),
    ] = None,
    clear_markets: Annotated[bool, typer.Option("--clear-markets")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Change a target's name, description or markets."""
    if market and clear_markets:
        raise InvalidInput("markets", "give --market or --clear-markets, not both")
    markets = [] if clear_markets else (market or None)
    if name is None and description is None and markets is None:
        raise InvalidInput(
            "edit", "nothing to change: give --name, --description, --market or --clear-markets"
        )
    with open_store(ctx) as store:
        uid = store.resolve(target).uid
        after = store.edit_target(uid, name=name, description=description, markets=markets)
    show(after, as_json, f"{after.name}: saved")


def snooze(
    ctx: typer.Context,
    target: TargetArg,
    until: Annotated[str | None, typer.Argument(metavar="[UNTIL]", help=f"{UNTIL_FORMS}.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="End the snooze.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Keep a target from counting as stale until a date (this device only)."""
    if clear == (until is not None):
        both = ", not both" if clear else ""
        raise InvalidInput("until", f"give a date ({UNTIL_FORMS}) or --clear{both}")
    day = None if clear else parse_until(until or "", date.today())
    with open_store(ctx) as store:
        uid = store.resolve(target).uid
        after = store.snooze(uid, day)
    message = f"{after.name}: snoozed until {day}" if day else f"{after.name}: snooze cleared"
    show(after, as_json, message)
