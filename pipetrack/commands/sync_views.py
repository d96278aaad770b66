"""What sync left for the user: ``status``, ``conflicts``/``resolve``, ``rejected``/``drop``.

The daemon itself (``login``, ``sync``) lives in ``pipetrack/sync_cmd.py``. Nothing
here reads the API token: ``status`` shows the server URL from ``config.toml`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from pipetrack.context import lenient_config, open_store, pipetrack_for, profile_of
from protocol import InvalidInput, markets_text, note_words, op_words, parse_typed_status
from storage import ConflictView, NotFound, RejectedView, SyncState, TargetView

from .args import ChangeArg, JsonFlag, NoteOpt, StatusHelp
from .output import (
    NONE,
    ListSpec,
    age_text,
    emit_fields,
    emit_json,
    emit_list,
    local_time,
    plural,
)
from .output import status_text as st
from .targets import show


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command()(conflicts)
    app.command()(resolve)
    app.command()(rejected)
    app.command()(drop)
    app.command()(correct)


def _sync_text(state: SyncState, logged_in: bool = True, pipetrack: str = "pipetrack") -> str:
    text = _connection_text(state, logged_in, pipetrack)
    if state.pulling_again:
        return text + (
            "; pulling everything again (the server's database was restored from a backup):"
            " your changes go out once it ends"
        )
    return text + ("; catching up with the team's changes" if state.pulling else "")


LOGIN_FIRST = "not logged in: log in first with pipetrack login URL --token T"


def _connection_text(state: SyncState, logged_in: bool = True, pipetrack: str = "pipetrack") -> str:
    if state.connection == "not syncing":  # the network may be fine: nothing syncs
        if not logged_in:
            return f"not syncing ({LOGIN_FIRST})"
        return f"not syncing (no sync daemon runs: start one with {pipetrack} sync)"
    if state.connection == "connecting":
        text = "connecting (the sync daemon has not reached the server yet)"
    else:  # online / offline, since the daemon said so
        since = f" since {local_time(state.online_since)}" if state.online_since else ""
        text = state.connection + since
    if state.current_hint:
        text += f" ({state.current_hint})"
    return text


def state_lines(
    state: SyncState, user: str | None = None, logged_in: bool = True, pipetrack: str = "pipetrack"
) -> list[tuple[str, str]]:
    """``user``: the server's name for this profile's user, when known; ``logged_in``:
    the profile has a server and a token (``pipetrack sync`` can run); ``pipetrack``: the
    command as hints spell it (:func:`pipetrack_for`)."""
    oldest = f" (oldest queued {age_text(state.oldest_pending_age_s)} ago)" if state.to_send else ""
    if state.held:
        oldest += f"; {state.held} more waiting behind a conflict or a refusal"
    server = state.server or "not set (pipetrack login URL --token T)"
    return [
        ("Sync", _sync_text(state, logged_in, pipetrack)),
        ("Server", f"{server} (as {user})" if state.server and user else server),
        ("Last sync", _last_sync_text(state)),
        ("Pending", f"{state.to_send}{oldest}"),
        ("Conflicts", str(state.conflicts)),
        ("Rejected", str(state.rejected)),
        ("Last error", _error_text(state)),
    ]


def _last_sync_text(state: SyncState) -> str:
    """``2026-06-01 12:00 (3h 5m ago)``: how stale the laptop's copy may be, at a glance."""
    if state.last_sync_at is None:
        return "never"
    ago = max(0.0, (datetime.now(UTC) - state.last_sync_at).total_seconds())
    return f"{local_time(state.last_sync_at)} ({age_text(ago)} ago)"


def _error_text(state: SyncState) -> str:
    if state.error_from_before:
        return f"{state.last_error} (before the sync daemon started)"
    return state.last_error or NONE


def status_json(state: SyncState, user: str | None) -> dict[str, Any]:
    """``status --json``: the store's shape, with ``online_since`` and ``offline_since``
    each set only while it is true. The store records one time, of the daemon's last
    change between online and offline; ``online_since`` (DESIGN.md's key) gave it while
    offline too, the time the connection went away."""
    shape = state.to_json()
    recorded = shape["online_since"]
    shape["online_since"] = recorded if state.connection == "online" else None
    shape["offline_since"] = recorded if state.connection == "offline" else None
    return {**shape, "user": user}


def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Sync state: online or not, last sync, pending changes, conflicts, last error."""
    # runs with a config.toml in error (the defaults then), saying so: the one command
    # that tells how sync stands should not be the one that stops
    config, problem = lenient_config(ctx)
    server = config.server
    # whether a token is saved, without reading it (nothing here reads the token)
    logged_in = bool(server) and profile_of(ctx).token_path.exists()
    with open_store(ctx, thresholds=config.thresholds) as store:
        state, user = store.sync_state(server=server), store.user_name
    if as_json:
        emit_json(status_json(state, user))
        return
    lines = state_lines(state, user, logged_in, pipetrack_for(ctx))
    if problem:
        lines.append(("Config", f"{problem} (other commands refuse to run until it is fixed)"))
    emit_fields(lines)


def change_text(op: str, status: str | None, fields: dict[str, Any] | None) -> str:
    """What a change asked for: a status, or which details an edit touched."""
    if op == "edit":
        return "edit " + ", ".join(sorted(fields or {}))
    return st(status) if op == "set_status" else f"{op_words(op)}, {st(status)}"


def fields_text(fields: dict[str, Any] | None) -> str:
    """An edit's values: ``description: from the fair; markets: EU, US``."""
    parts = []
    for key, value in sorted((fields or {}).items()):
        if isinstance(value, list):
            text = markets_text(value) or NONE
        else:
            text = NONE if value in (None, "") else str(value)
        parts.append(f"{key}: {text}")
    return "; ".join(parts)


def conflict_row(c: ConflictView) -> tuple[str, ...]:
    """An edit that met a teammate's shows my new values and the server's: those the
    teammate changed, and mine they left as they were ("markets not changed"; when the
    edit's base is not known, the server's values of my fields, none said to be theirs)."""
    edit = c.op == "edit"  # the details, not the status, met a teammate's
    if edit:
        mine = fields_text(c.mine_fields)
        kept = c.theirs_unchanged()  # told apart: the conflict is over the others
        changed = {k: v for k, v in (c.theirs_fields or {}).items() if k not in kept}
        theirs = "; ".join(
            filter(None, [fields_text(changed), *(f"{k} not changed" for k in sorted(kept))])
        )
        theirs = f"{theirs} (server v{c.theirs_version})"
    else:
        mine = change_text(c.op, c.mine_status, c.mine_fields)
        theirs = f"{st(c.theirs_status)} v{c.theirs_version}"
    if c.undone:  # settling drops the undo: the user may want what it brought back
        mine += " (undone since)"
    if c.then:  # they follow whatever is settled on: the target ends at the last
        mine += f", then {', '.join(st(s) for s in c.then)}"
    if c.later_fields:
        mine += f" (edited again since: {', '.join(c.later_fields)})"
    return (
        c.change_id[:8],
        c.name,
        f"v{c.base_version}" if edit else f"{st(c.base_status)} v{c.base_version}",
        mine,
        local_time(c.mine_changed_at),
        theirs,
        c.theirs_changed_by or "",
        local_time(c.theirs_changed_at),
        notes_text(note_words(c.mine_note), note_words(c.theirs_note)),
    )


def notes_text(mine: str | None, theirs: str | None) -> str:
    """Both sides' notes in one cell, each said whose: ``mine: … · theirs: …``."""
    said = [f"{whose}: {note}" for whose, note in (("mine", mine), ("theirs", theirs)) if note]
    return " · ".join(said)


CONFLICTS = ListSpec(
    columns=("CHANGE", "TARGET", "BASE", "MINE", "MINE AT", "THEIRS", "BY", "THEIRS AT", "NOTES"),
    row=conflict_row,
    empty="no conflicts",
    shrink=("NOTES", "BY", "TARGET", "THEIRS", "MINE"),
    hint=(
        "resolve each with: pipetrack resolve CHANGE_ID --mine | --theirs | --status S"
        " (changes listed 'then …' follow any choice)"
    ),
)


def _settled_text(
    c: ConflictView | None, after: TargetView, choice: str, drop_later: bool = False
) -> str:
    """What ``resolve`` did, in the terms of the conflict (:meth:`ConflictView.settled_text`)."""
    if c is None:
        return f"{after.name}: resolved, now {st(after.status)}"
    return c.settled_text(after.name, after.status, choice, st, drop_later)


def _followed(found: list[ConflictView], after: dict[str, TargetView]) -> list[tuple[str, str]]:
    """The targets with later changes behind their conflict, and where they end: (Acme,
    ``now Hot``), (Fjord, ``(description)``) for a later edit."""
    said = []
    for c in found:
        now = after.get(c.target)
        if now is None:
            continue
        if c.then:
            said.append((now.name, f"now {st(now.status)}"))
        elif c.later_fields:
            said.append((now.name, f"({', '.join(c.later_fields)})"))
    return said


def _named(found: list[Any], change_id: str) -> Any:
    """The item of ``found`` (conflicts, rejected changes) ``change_id`` or a prefix of
    it names, once the store found it."""
    key = change_id.strip().lower()
    return next((c for c in found if c.change_id == key), None) or next(
        (c for c in found if c.change_id.startswith(key)), None
    )


def _refuse_a_status_for_an_edit(found: list[ConflictView], choice: str) -> None:
    """``resolve --all --status S`` among conflicting edits: name the first, as the
    store's refusal does not (it would change nothing either way)."""
    if choice in ("mine", "theirs"):
        return
    for c in found:
        if c.op != "set_status":
            raise InvalidInput(
                "choice",
                f"{c.name} ({c.change_id[:8]}): a conflicting {op_words(c.op)} is settled"
                " with --mine or --theirs, not a status; nothing was resolved (settle it"
                f" first: pipetrack resolve {c.change_id[:8]} --mine | --theirs)",
            )


def conflicts(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Changes the server refused because another device changed the same thing."""
    with open_store(ctx) as store:
        found = store.conflicts()
    emit_list(found, as_json, CONFLICTS)


def resolve(
    ctx: typer.Context,
    change_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[CHANGE_ID]",
            help="A change id or a unique prefix of it (4+ characters); or --all.",
        ),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every conflict, with the same choice (all or none).")
    ] = False,
    mine: Annotated[bool, typer.Option("--mine", help="Keep my change.")] = False,
    theirs: Annotated[bool, typer.Option("--theirs", help="Take the server's.")] = False,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="Choose another status: " + StatusHelp)
    ] = None,
    note: Annotated[
        str | None,
        typer.Option(
            "--note", "-n", help="With --status: a note for it (mine keeps its own note)."
        ),
    ] = None,
    drop_later: Annotated[
        bool,
        typer.Option(
            "--drop-later",
            help="With --theirs or --status: also drop your later changes of the target"
            " waiting behind the conflict, so it ends at your choice.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Resolve a conflict, or all of them: keep mine, take theirs, or another status.
    Your later changes of the target, waiting behind the conflict (listed "then ..." by
    pipetrack conflicts), follow whatever you choose: the target ends at the last
    (unless --drop-later)."""
    if [mine, theirs, status is not None].count(True) != 1:
        raise InvalidInput("resolve", "give exactly one of --mine, --theirs or --status S")
    if note is not None and status is None:
        raise InvalidInput("note", "--note goes with --status (keep mine keeps its own note)")
    if drop_later and mine:
        raise InvalidInput("drop_later", "--drop-later goes with --theirs or --status S")
    if change_id is not None and not change_id.strip():  # an unset variable: not "both"
        raise InvalidInput(
            "change_id", "the change id is empty: give one from pipetrack conflicts, or --all"
        )
    if change_id is not None and every:
        raise InvalidInput("resolve", "give a CHANGE_ID or --all, not both")
    if change_id is None and not every:
        raise InvalidInput("resolve", "give a CHANGE_ID (see pipetrack conflicts) or --all")
    choice = "mine" if mine else "theirs"
    if status is not None:
        choice = parse_typed_status(status) or "none"
    if change_id is not None:
        with open_store(ctx) as store, _pointing_to("conflicts"):
            found = store.conflicts()
            after = store.resolve_conflict(change_id, choice, note, drop_later)
        said = _settled_text(_named(found, change_id), after, choice, drop_later)
        show(after, as_json, said)
        return
    with open_store(ctx) as store:
        found = store.conflicts()
        _refuse_a_status_for_an_edit(found, choice)
        targets = store.resolve_all(choice, note, drop_later)
    if as_json:
        emit_json([target.to_json() for target in targets])
    elif not targets:
        typer.echo("no conflicts to resolve")
    else:
        how = {"mine": "kept mine", "theirs": "took theirs"}.get(choice, f"chose {choice}")
        count = len(targets)
        typer.echo(f"{plural(count, 'conflict')} resolved: {how}")
        followed = _followed(found, {t.uid: t for t in targets})
        if followed and drop_later:
            typer.echo(f"your later changes dropped: {', '.join(name for name, _ in followed)}")
        elif followed:
            ends = ", ".join(f"{name} {where}" for name, where in followed)
            typer.echo(f"your later changes follow: {ends}")


@contextmanager
def _pointing_to(command: str) -> Iterator[None]:
    """A change id that matches nothing: point to the command that lists the ids."""
    try:
        yield
    except NotFound as err:
        raise NotFound(f"{err}; see pipetrack {command}") from None


def rejected_row(r: RejectedView) -> tuple[str, ...]:
    return (
        r.change_id[:8],
        r.name,
        change_text(r.op, r.status, r.fields),
        local_time(r.changed_at),
        r.reason,
    )


REJECTED = ListSpec(
    columns=("CHANGE", "TARGET", "ASKED", "AT", "REASON"),
    row=rejected_row,
    empty="no rejected changes",
    shrink=("REASON", "TARGET"),
    hint=(
        "drop one with pipetrack drop CHANGE_ID, or correct it: pipetrack correct CHANGE_ID"
        " --status S (a status change), pipetrack correct CHANGE_ID (a new target, made again)"
    ),
)


def rejected(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Changes the server refused as invalid, with its reason."""
    with open_store(ctx) as store:
        found = store.rejected()
    emit_list(found, as_json, REJECTED)


def drop(ctx: typer.Context, change_id: ChangeArg, as_json: JsonFlag = False) -> None:
    """Drop a rejected change; the target's later changes then go on."""
    with open_store(ctx) as store, _pointing_to("rejected"):
        found = store.rejected()
        after = store.drop_rejected(change_id)
    show(after, as_json, _dropped_text(_named(found, change_id), after))


def _dropped_text(item: RejectedView | None, after: TargetView) -> str:
    if item is None or item.op != "create":
        return f"{after.name}: rejected change dropped, now {st(after.status)}"
    if after.version is None:  # the server never had it: the target is gone
        return f"{item.name}: the new target the server refused is dropped, with its changes"
    return (
        f"{item.name}: the new target the server refused is dropped, with its later changes;"
        f" its id stays {after.name}'s, as the server has it"
    )


def correct(
    ctx: typer.Context,
    change_id: ChangeArg,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", "-s", help="For a status change: the status instead. " + StatusHelp
        ),
    ] = None,
    note: NoteOpt = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="For a new target: make it again under this name (the server's target"
            " under its id may have the name).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Correct a rejected change in one step: a status change is replaced by --status S;
    a new target is made again under a new uid, as it is now (the server gave its uid
    to another target), or under --name N. A rejected edit can only be dropped."""
    if status is None and note is not None:
        raise InvalidInput("note", "--note goes with --status")
    if status is not None and name is not None:
        raise InvalidInput("name", "--name goes with a new target, not with --status")
    new = None if status is None else parse_typed_status(status)
    with open_store(ctx) as store, _pointing_to("rejected"):
        try:
            if status is None:
                after = store.recreate_rejected(change_id, name)
                message = f"{after.name}: made again as a new target ({after.uid})"
            else:
                after = store.correct_rejected(change_id, new, note).target
                message = f"{after.name}: corrected, now {st(after.status)}"
        except InvalidInput as err:
            if err.field == "name" and name is None:
                how = f"give it another: pipetrack correct {change_id} --name NEW"
                raise InvalidInput(err.field, f"{err} ({how})") from None
            if err.field != "change_id":
                raise
            how = "a status change takes --status S; a new target is made again without it"
            raise InvalidInput(err.field, f"{err} ({how})") from None
    show(after, as_json, message)
