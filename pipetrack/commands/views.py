"""Commands that read targets: ``list``, ``stale``, ``history``, ``activity``."""

from __future__ import annotations

from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Annotated

import typer

from pipetrack.context import EXIT_STALE, open_store
from protocol import (
    SINCE_FORMS,
    InvalidInput,
    markets_text,
    note_words,
    parse_since,
    parse_typed_status,
)
from storage import ActivityEntry, HistoryEntry, Store, TargetQuery, TargetView
from storage.types import SortKey

from .args import JsonFlag, TargetArg
from .output import NONE, ListSpec, day, emit_list, local_time, status_text


def register(app: typer.Typer) -> None:
    app.command("list")(list_targets)
    app.command()(stale)
    app.command()(history)
    app.command()(activity)


def stagnation_text(target: TargetView) -> str:
    """``stale``, ``snoozed to 2026-12-19``, ``fresh, snoozed to 2026-12-19`` (a snooze
    taken ahead, before the target aged)."""
    if target.stagnation == "snoozed" and target.snoozed_until:
        return f"snoozed to {day(target.snoozed_until)}"
    if target.snooze_ahead:
        return f"{target.stagnation}, snoozed to {day(target.snoozed_until)}"
    return target.stagnation


def target_row(t: TargetView) -> tuple[str, ...]:
    return (
        t.uid[:8],
        t.name,
        status_text(t.status),
        str(t.days_in_status),
        stagnation_text(t),
        t.sync,
        markets_text(t.markets),
    )


TARGETS = ListSpec(
    columns=("UID", "NAME", "STATUS", "DAYS", "STAGNATION", "SYNC", "MARKETS"),
    row=target_row,
    empty="no targets match",
    shrink=("MARKETS", "NAME"),
)


def history_row(e: HistoryEntry) -> tuple[str, ...]:
    return (
        local_time(e.changed_at),
        status_text(e.old_status),
        status_text(e.new_status),
        NONE if e.days_in_previous is None else str(e.days_in_previous),
        e.changed_by,
        e.sync,
        note_words(e.note),
    )


HISTORY = ListSpec(
    columns=("WHEN", "FROM", "TO", "DAYS BEFORE", "BY", "SYNC", "NOTE"),
    row=history_row,
    empty="no status changes yet",
    shrink=("NOTE", "BY"),
)


def activity_row(a: ActivityEntry) -> tuple[str, ...]:
    when, old, new, _days, by, sync, note = history_row(a.change)
    return (when, a.name, old, new, by, sync, note)


ACTIVITY = ListSpec(
    columns=("WHEN", "TARGET", "FROM", "TO", "BY", "SYNC", "NOTE"),
    row=activity_row,
    empty="no status changes in that time",
    shrink=("NOTE", "TARGET", "BY"),
)


def activity(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", metavar="SPAN", help=f"From when: {SINCE_FORMS}.")
    ] = "7d",
    by: Annotated[
        str | None, typer.Option("--by", metavar="USER", help="Only this user's changes.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Status changes of every target, newest first: what moved in the team's pipeline
    (the last 7 days unless --since says otherwise)."""
    if by is not None and not by.strip():  # an unset variable in a script: not everyone
        raise InvalidInput("by", f"--by {by!r}: give a user name (as in the BY column)")
    start = parse_since(since, datetime.now(UTC))
    with open_store(ctx) as store:
        entries = store.activity(start, by, limit)
        if entries or by is None or as_json:
            spec = ACTIVITY
        else:  # a name mistyped, or one the history never shows: say which
            never = not store.activity(EVER, by, 1)
            spec = replace(ACTIVITY, empty=nobody_text(by, never))
    emit_list(entries, as_json, spec)


#: Before any change: ``activity`` since then is the whole history.
EVER = datetime(1970, 1, 1, tzinfo=UTC)


def nobody_text(by: str, never: bool) -> str:
    text = f"no status changes by {by!r} in that time"
    if never:
        text += (
            f", nor ever: no user {by!r} appears in the history"
            " (names are matched exactly, as in the BY column)"
        )
    return text


def list_targets(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", "-s", metavar="S", help="Only this status (none = no status)."),
    ] = None,
    market: Annotated[
        list[str] | None, typer.Option("--market", "-m", metavar="M", help="Only this market.")
    ] = None,
    stale_only: Annotated[bool, typer.Option("--stale", help="Only stale targets.")] = False,
    sync: Annotated[
        list[str] | None,
        typer.Option(
            "--sync",
            metavar="S",
            help="Only this sync state: synced, pending, conflict or rejected"
            " (pending: not on the server yet).",
        ),
    ] = None,
    search: Annotated[
        str, typer.Option("--search", "-q", metavar="TEXT", help="Name contains TEXT.")
    ] = "",
    sort: Annotated[SortKey, typer.Option("--sort", show_default=True)] = "name",
    descending: Annotated[bool, typer.Option("--desc", help="Reverse the order.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List targets, filtered and sorted."""
    query = TargetQuery(
        statuses=tuple(parse_typed_status(s) for s in status or ()),
        markets=tuple(market or ()),
        search=search,
        stagnation=("stale",) if stale_only else (),
        sync=tuple(s.strip().lower() for s in sync or ()),  # type: ignore[misc]
        sort=sort,
        descending=descending,
        limit=limit,
    )
    # a target at a time (100,000 are never all held), closed even when a pipe ends it
    with open_store(ctx) as store, closing(store.iter_targets(query)) as targets:
        # nothing listed: none matches, or the profile has none yet (say how to get some)
        empty = partial(_nothing_listed, store)
        emit_list(targets, as_json, replace(TARGETS, empty=empty))


#: What an empty profile's ``list`` says (the TUI's empty list says the same).
NO_TARGETS_YET = (
    "no targets yet: add one with pipetrack add NAME, or import a CSV file with"
    " pipetrack import FILE.csv; to work with your team: pipetrack login URL --token T,"
    " then pipetrack sync"
)


def _nothing_listed(store: Store) -> str:
    return "no targets match" if store.count_targets() else NO_TARGETS_YET


def stale(
    ctx: typer.Context,
    fail: Annotated[
        bool, typer.Option("--fail", help=f"Exit {EXIT_STALE} when any target is stale (cron).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Targets that sat in their status past its threshold."""
    with open_store(ctx) as store, closing(store.iter_stale_targets()) as targets:
        shown = emit_list(targets, as_json, replace(TARGETS, empty="no stale targets"))
    if fail and shown:
        raise typer.Exit(EXIT_STALE)


def history(ctx: typer.Context, target: TargetArg, as_json: JsonFlag = False) -> None:
    """A target's status changes, oldest first."""
    with open_store(ctx) as store:
        entries = store.history(store.resolve(target).uid)
    emit_list(entries, as_json, HISTORY)
