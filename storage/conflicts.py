"""Conflicts and rejections: showing them and settling them.

Settling rewrites the outbox row (or drops it) and recomputes the view. A dropped
change takes its local audit row with it: history must not claim a change that
never happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from peewee import SQL

from protocol import UNDO_NOTE, InvalidInput, Status, clean_note, op_words, parse_status

from . import actions, query
from .context import Ctx
from .errors import NotFound
from .schema import Audit, Outbox, Target, time_or_none
from .sync import rebase_after
from .types import ConflictView, RejectedView, StatusChange, TargetView
from .view import refresh

if TYPE_CHECKING:
    from protocol.wire import TargetState


def _theirs(row: Outbox, target: Target) -> TargetState | None:
    """The server's side of a conflict: as the push's answer gave it, or newer, once a
    pull brought a later version (a teammate changed the target again): a conflict
    shown or settled on the answer's version would be settled on a state gone by, and
    "keep mine" would meet the newer version as a conflict again. (Who last edited the
    details is not kept from pulls: unknown then.)"""
    from protocol.wire import TargetState  # pydantic only when a conflict is shown

    answer = None if row.server_state is None else TargetState.model_validate(row.server_state)
    pulled = target.server_version
    if pulled is None or (answer is not None and answer.version >= pulled):
        return answer
    return TargetState(
        uid=target.uid,
        name=target.server_name or target.name,
        description=target.server_description or "",
        markets=target.server_markets or [],
        status=target.server_status,
        version=pulled,
        status_changed_at=target.server_status_changed_at,
        status_changed_by=target.server_status_changed_by,
        created_at=target.created_at,
        last_updated=target.server_updated_at or target.updated_at,
    )


def _conflict_view(ctx: Ctx, row: Outbox, target: Target) -> ConflictView:
    a = ctx.m.audit
    audit = a.get_or_none(a.change_id == row.change_id)
    theirs = _theirs(row, target)
    by_status = row.op != "edit"  # who / when of the field the change touches
    theirs_version = theirs.version if theirs else (target.server_version or 0)
    # an edit's who / when are the target's last change: when that was a status change
    # of ours (made before it, in the same push), the teammate's edit is not it
    unknown = not by_status and _made_here(ctx, row.target, theirs_version)
    change = _their_change(ctx, row, theirs_version) if by_status else None
    edited = None if by_status else _their_edit(ctx, row, theirs_version)
    base_fields = None if by_status else _base_fields(row)
    if edited is not None:
        who, when = edited
    elif theirs is None or unknown:
        who, when = None, None
    elif by_status:  # when the teammate made it: an undo's status is held since long before
        who = theirs.status_changed_by
        when = change.changed_at if change is not None else theirs.status_changed_at
    else:
        who, when = theirs.updated_by, theirs.last_updated
    return ConflictView(
        change_id=row.change_id,
        target=row.target,
        name=target.name,
        op=row.op,
        base_status=audit.old_status if audit else _status_at(ctx, row),
        base_version=row.base_version,
        mine_status=row.status,
        mine_fields=row.fields,
        mine_changed_at=row.changed_at,
        mine_note=row.note,
        theirs_status=theirs.status if theirs else target.server_status,
        theirs_changed_by=who,
        theirs_changed_at=when,
        theirs_version=theirs_version,
        theirs_note=change.note if change is not None else None,
        theirs_fields=None if by_status else _their_fields(row, theirs, base_fields),
        base_fields=base_fields,
        undone=_undos_of(ctx, row).exists(),
        then=tuple(later.status for later in _later_statuses(ctx, row)),
        later_fields=_later_fields(ctx, row),
    )


def _made_here(ctx: Ctx, target: str, version: int) -> bool:
    """Whether a change of this device made ``target``'s server ``version``."""
    a = ctx.m.audit
    mine = (a.target == target) & (a.origin == "local") & (a.server_version == version)
    return a.select().where(mine & a.converged.is_null()).exists()


def _later_statuses(ctx: Ctx, row: Outbox) -> list[Outbox]:
    """The target's status changes waiting behind ``row`` (not undos of it), in order:
    they follow whatever the conflict is settled on (:func:`_follows`), so the conflict
    shows them beside mine ("then ...")."""
    o = ctx.m.outbox
    # its own undos are told apart (ConflictView.undone): settling drops them
    not_own_undo = o.note.is_null() | (o.note != f"{UNDO_NOTE}{row.change_id}")
    return list(_after(ctx, row).where((o.op == "set_status") & not_own_undo))


def _later_fields(ctx: Ctx, row: Outbox) -> tuple[str, ...]:
    """The details the target's edits waiting behind ``row`` set (they follow whatever
    the conflict is settled on)."""
    edits = _after(ctx, row).where(ctx.m.outbox.op == "edit")
    return tuple(sorted({key for each in edits for key in (each.fields or {})}))


def _status_at(ctx: Ctx, row: Outbox) -> str | None:
    """The target's status at the version an edit was made on (an edit has no audit row
    saying it): the last status change the server recorded up to it, as pulled."""
    a = ctx.m.audit
    entry = (
        a.select(a.new_status)
        .where(
            (a.target == row.target)
            & a.server_version.is_null(False)
            & (a.server_version <= (row.base_version or 0))
        )
        .order_by(a.server_version.desc())
        .first()
    )
    return entry.new_status if entry else None


#: The details: one field group, an edit conflicts with a teammate's change to any of them.
DETAILS = ("name", "description", "markets")


def _base_fields(row: Outbox) -> dict[str, Any] | None:
    """The details an edit was made on, as the device had pulled them (None: not known,
    an edit made before the device kept them, or on a version it had not pulled)."""
    base = row.base_fields
    if not isinstance(base, dict) or base.get("name") is None:
        return None
    return {
        "name": base["name"],
        "description": base.get("description") or "",
        "markets": base.get("markets") or [],
    }


def _their_fields(
    row: Outbox, theirs: TargetState | None, base: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The server's values of the details an edit of mine changes, and of any other the
    teammate changed since the edit's base (why it conflicts: my description met their
    markets)."""
    if theirs is None:
        return None
    keys = set(row.fields or {})
    if base is not None:
        keys |= {key for key in DETAILS if getattr(theirs, key) != base[key]}
    return {key: getattr(theirs, key) for key in DETAILS if key in keys}


def _their_edit(ctx: Ctx, row: Outbox, theirs_version: int) -> tuple[str | None, Any] | None:
    """Who changed the details the edit met, and when: the teammate's last edit of the
    target pulled after its base, up to the server's version shown (None: not pulled,
    or a create's details)."""
    found = (
        ctx.db.cursor()
        .execute(
            "SELECT changed_by, changed_at FROM team_edits WHERE target = ?"
            " AND version > ? AND version <= ?",
            (row.target, row.base_version or 0, theirs_version),
        )
        .fetchone()
    )
    return None if found is None else (found[0], time_or_none(found[1]))


def _their_change(ctx: Ctx, row: Outbox, theirs_version: int) -> Audit | None:
    """The teammate's status change this one met (its note, its time): the last one
    pulled for the target after our base and up to the server's version we were
    answered with (None until the pull that follows the push answer has brought it)."""
    a = ctx.m.audit
    return (
        a.select(a.note, a.changed_at)
        .where(
            (a.target == row.target)
            & (a.origin == "server")
            & (a.server_version > (row.base_version or 0))
            & (a.server_version <= theirs_version)
        )
        .order_by(a.server_version.desc())
        .first()
    )


def _rows(ctx: Ctx, state: str) -> list[tuple[Outbox, Target]]:
    """The outbox rows in ``state`` with their targets (few: read one by one)."""
    o = ctx.m.outbox
    rows = list(o.select().where(o.state == state).order_by(o.id))
    return [(row, query.load(ctx, row.target)) for row in rows]


def conflicts(ctx: Ctx) -> list[ConflictView]:
    with ctx.read():
        return [_conflict_view(ctx, row, target) for row, target in _rows(ctx, "conflict")]


def rejected(ctx: Ctx) -> list[RejectedView]:
    with ctx.read():
        return [
            RejectedView(
                change_id=row.change_id,
                target=row.target,
                name=target.name,
                op=row.op,
                status=row.status,
                fields=row.fields,
                changed_at=row.changed_at,
                reason=row.last_error or "rejected by the server",
            )
            for row, target in _rows(ctx, "rejected")
        ]


def _find(ctx: Ctx, change_id: str, state: str) -> Outbox:
    """The outbox row in ``state`` with this change id or a unique prefix (>= 4)."""
    o = ctx.m.outbox
    key = change_id.strip().lower()
    rows = list(o.select().where(o.state == state, o.change_id == key))
    if not rows and len(key) >= query.MIN_PREFIX:
        rows = list(o.select().where(o.state == state, o.change_id.startswith(key)).limit(2))
    if len(rows) != 1:
        if rows:
            raise NotFound(f"several {state} changes start with {change_id!r}; give more of it")
        raise NotFound(
            f"no {'conflict' if state == 'conflict' else 'rejected change'} matches {change_id!r}"
        )
    return rows[0]


def _rejected(ctx: Ctx, change_id: str, op: str, otherwise: str) -> tuple[Outbox, Target]:
    """The rejected change ``change_id``, which must be an ``op`` (else InvalidInput
    saying ``otherwise``: drop it), and its target."""
    row = _find(ctx, change_id, "rejected")
    if row.op != op:
        raise InvalidInput("change_id", f"this rejected {op_words(row.op)}: {otherwise}; drop it")
    return row, query.load(ctx, row.target)


def _drop(ctx: Ctx, row: Outbox) -> None:
    a = ctx.m.audit
    a.delete().where(a.change_id == row.change_id).execute()
    row.delete_instance()


def _reissue(
    ctx: Ctx, row: Outbox, theirs: str | None, status: str | None, version: int, note: str | None
) -> None:
    """The change again, made now on the server's ``version``, whose status is
    ``theirs``: its history row says it changes that, unless it asks that very status
    (the teammate came round: then it says what the user changed, as before)."""
    o, a = ctx.m.outbox, ctx.m.audit
    now = ctx.now()
    o.update(
        state="pending",
        status=status,
        # kept mine: an undo still brings back since when; another status starts now
        status_since=row.status_since if status == row.status else None,
        base_version=version,
        changed_at=now,
        note=note,
        server_state=None,
        last_error=None,
        attempts=0,
    ).where(o.id == row.id).execute()
    fields: dict[str, Any] = {"new_status": status, "changed_at": now, "note": note}
    if status != theirs:
        fields["old_status"] = theirs
    later = o.select(o.change_id).where((o.target == row.target) & (o.id > row.id))
    if not later.exists():
        # the user's latest action now, which an undo takes back first (unless changes
        # of the target made after it wait behind it: those stay the later ones)
        fields["id"] = SQL("(SELECT max(id) + 1 FROM audit)")
    a.update(**fields).where(a.change_id == row.change_id).execute()
    # those follow it, so they are dated with it: listed before it, the newest change
    # read as a status the target does not end at
    o.update(changed_at=now).where(o.change_id.in_(later) & (o.changed_at < now)).execute()
    a.update(changed_at=now).where(a.change_id.in_(later) & (a.changed_at < now)).execute()


def _follows(ctx: Ctx, row: Outbox, status: str | None) -> None:
    """The target's next status change waiting behind ``row`` now follows ``status``
    (what the conflict was settled on), not what ``row`` had asked: its history row,
    and an undo of it, say so."""
    o, a = ctx.m.outbox, ctx.m.audit
    after = (
        o.select(o.change_id)
        .where((o.target == row.target) & (o.id > row.id) & (o.op == "set_status"))
        .order_by(o.id)
        .first()
    )
    if after is not None:
        a.update(old_status=status).where(a.change_id == after.change_id).execute()
        # its undo, waiting too, brings back what it now follows
        undo = (o.target == row.target) & (o.note == f"{UNDO_NOTE}{after.change_id}")
        # (since when the settled status was held is not known here: from the undo on)
        o.update(status=status, status_since=None).where(undo & (o.state == "pending")).execute()
        undone = (a.target == row.target) & (a.note == f"{UNDO_NOTE}{after.change_id}")
        a.update(new_status=status).where(undone & (a.origin == "local")).execute()


def _after(ctx: Ctx, row: Outbox) -> Any:
    """The target's changes waiting behind ``row``."""
    o = ctx.m.outbox
    return o.select().where((o.target == row.target) & (o.id > row.id)).order_by(o.id)


def _undos_of(ctx: Ctx, row: Outbox) -> Any:
    """The undos of ``row``'s change waiting behind it."""
    o = ctx.m.outbox
    return o.select().where(
        (o.target == row.target) & (o.id > row.id) & (o.note == f"{UNDO_NOTE}{row.change_id}")
    )


def _drop_undos_of(ctx: Ctx, row: Outbox) -> None:
    """Drop the pending undos of ``row``'s change, whose conflict the user settles now:
    an undo made before the conflict was known would otherwise go out after it and
    overwrite what the user settled on (theirs, mine, or the status chosen instead).
    The conflict says it was undone (``ConflictView.undone``), so the user can choose
    the status the undo brought back instead."""
    for undo in list(_undos_of(ctx, row)):
        _drop(ctx, undo)


def resolve_conflict(
    ctx: Ctx,
    change_id: str,
    choice: Status | str,
    note: str | None = None,
    drop_later: bool = False,
    seen_version: int | None = None,
) -> TargetView:
    """Settle a conflict: 'mine' (sent again on the server's version, with its note),
    'theirs' (dropped), or another status (sent instead, with ``note``: the old note was
    written for the old status). The user's later changes of the target, waiting behind
    it, follow whatever is chosen; ``drop_later`` (with theirs or a status) drops them
    too, so the target ends at the choice (InvalidInput with 'mine'). ``seen_version``:
    the server's version the user was shown (a dialog open a while); another now is
    InvalidInput, nothing settled: the team's side changed, to be looked at again."""
    key = choice if isinstance(choice, Status) else choice.strip().lower()
    note = clean_note(note)
    if drop_later and key == "mine":
        raise InvalidInput("choice", "keep mine keeps the later changes: drop them with undo")
    with ctx.write():
        row = _find(ctx, change_id, "conflict")
        target = query.load(ctx, row.target)
        if drop_later:  # with their audit rows: history never claims what did not happen
            for later in list(_after(ctx, row)):
                _drop(ctx, later)
        theirs = _theirs(row, target)
        version = theirs.version if theirs else (target.server_version or 0)
        their_status = theirs.status if theirs else target.server_status
        if seen_version is not None and version != seen_version:
            now = (their_status or "no status") if row.op == "set_status" else "other details"
            raise InvalidInput(
                "choice",
                f"{target.name}: the team's side changed while you looked (now {now}):"
                " nothing settled; look at it again",
            )
        _drop_undos_of(ctx, row)  # what the user settles on now is their latest word
        if key == "theirs":
            _drop(ctx, row)
            settled = target.server_status if theirs is None else theirs.status
        elif key == "mine":
            _reissue(ctx, row, their_status, row.status, version, row.note)
            settled = row.status
        else:
            status = parse_status(choice)
            if row.op != "set_status":
                raise InvalidInput(
                    "choice",
                    f"the conflicting {op_words(row.op)} of {target.name} ({row.change_id[:8]})"
                    " is settled with 'mine' or 'theirs'",
                )
            settled = status.value if status else None
            _reissue(ctx, row, their_status, settled, version, note)
        if row.op == "set_status":
            _follows(ctx, row, settled)
        rebase_after(ctx, row, version)
        refresh(ctx, target)
        return query.get(ctx, target.uid)


def _agreed(row: Outbox, theirs: TargetState | None) -> bool:
    """Whether the server's newest side of a conflict asks what the change asks: a
    teammate has since made the same status, or the same details."""
    if theirs is None:
        return False
    if row.op == "set_status":
        return theirs.status == row.status
    if row.op == "edit" and row.fields:
        have = {key: getattr(theirs, key) for key in row.fields}
        return _compared(row.fields) == _compared(have)
    return False


def _compared(details: dict[str, Any]) -> dict[str, Any]:
    """Details as two sides' are compared: markets in any order."""
    return {k: sorted(v or []) if k == "markets" else v for k, v in details.items()}


def settle_agreed(ctx: Ctx) -> int:
    """Settle, as "keep mine", every conflict whose newest pulled side now asks what the
    change asks (the teammate came round to it): there is nothing left to choose, and the
    change goes out again to be answered ``converged``, with the changes held behind it.
    A conflict whose change the user undid since waits for the user: the undo is their
    word. Returns how many were settled; a read of the (indexed, few) conflicts when
    there are none."""
    with ctx.read():
        if not _agreed_ids(ctx):
            return 0
    with ctx.write():  # again: the user may have settled one meanwhile
        agreed = _agreed_ids(ctx)
        for change_id in agreed:
            resolve_conflict(ctx, change_id, "mine")
    return len(agreed)


def _agreed_ids(ctx: Ctx) -> list[str]:
    return [
        row.change_id
        for row, target in _rows(ctx, "conflict")
        if _agreed(row, _theirs(row, target)) and not _undos_of(ctx, row).exists()
    ]


def resolve_all(
    ctx: Ctx, choice: Status | str, note: str | None = None, drop_later: bool = False
) -> list[TargetView]:
    """Every conflict resolved with one choice, oldest first, in one transaction: all of
    them or (a choice one cannot take, e.g. a status for a conflicting edit) none."""
    with ctx.write():
        rows = ctx.db.execute_sql(
            "SELECT change_id FROM outbox WHERE state = 'conflict' ORDER BY id"
        )
        return [
            resolve_conflict(ctx, change_id, choice, note, drop_later)
            for (change_id,) in rows.fetchall()
        ]


def drop_rejected(ctx: Ctx, change_id: str) -> TargetView:
    """Drop a rejected change (with its undos). A rejected ``create`` takes the changes
    made on it along: the whole target when the server never had its uid (the returned
    view is its last state), else its later changes, which must never reach the other
    target the server has under that uid (the returned view is that one)."""
    with ctx.write():
        row = _find(ctx, change_id, "rejected")
        target = query.load(ctx, row.target)
        if row.op == "create" and target.server_version is None:
            last = query.get(ctx, target.uid)
            target.delete_instance()  # cascades to its outbox, audit and market rows
            return last
        if row.op == "create":  # the server has another target under this uid
            _drop_later(ctx, row)  # its changes were made on ours: never send them to it
        else:
            _drop(ctx, row)
            _drop_undos_of(ctx, row)
        refresh(ctx, target)
        return query.get(ctx, target.uid)


def _drop_later(ctx: Ctx, row: Outbox) -> None:
    """Drop ``row`` and every change of its target made after it."""
    o, a = ctx.m.outbox, ctx.m.audit
    later = o.select(o.change_id).where(o.target == row.target, o.id >= row.id)
    a.delete().where(a.change_id.in_(later)).execute()
    o.delete().where(o.target == row.target, o.id >= row.id).execute()


def recreate_rejected(ctx: Ctx, change_id: str, name: str | None = None) -> TargetView:
    """A rejected new target made again under a new uid, as the user sees it now (its
    later status changes and edits, held behind the rejection, folded in), in one
    transaction with dropping the rejected one: what the user typed is kept. The usual
    cause is a uid the server gives another target (an import of someone's export).
    ``name``: made under this name instead (the server's target under the uid may keep
    the name: two devices imported one row offline)."""
    with ctx.write():
        row, target = _rejected(ctx, change_id, "create", "only a new target is made again")
        now = query.get(ctx, target.uid)
        o = ctx.m.outbox
        last_status = (
            o.select(o.note)
            .where((o.target == target.uid) & (o.id > row.id) & (o.op == "set_status"))
            .order_by(o.id.desc())
            .first()
        )
        # the note of the status it is made with: its last status change's, if that has
        # one; else the one it was made with
        note = last_status.note if last_status is not None and last_status.note else row.note
        if target.server_version is None:
            target.delete_instance()  # cascades to its outbox, audit and market rows
        else:  # the server has another target under this uid: it stays, as the server says
            _drop_later(ctx, row)
            refresh(ctx, target)
        new = actions.validate_new(
            name if name is not None else now.name,
            now.description,
            now.markets,
            now.status,
            None,
            note,
        )
        return actions.create_target(ctx, new)


def correct_rejected(
    ctx: Ctx, change_id: str, status: Status | str | None, note: str | None
) -> StatusChange:
    """Drop a rejected status change and set ``status`` on its target instead, in one
    transaction (dropping, then crashing before the new change, would lose the user's
    intent). Only status changes: a rejected create or edit has no status to correct."""
    new = actions.status_value(status)
    note = clean_note(note)
    with ctx.write():
        row, target = _rejected(ctx, change_id, "set_status", "it cannot be corrected by a status")
        _drop(ctx, row)
        refresh(ctx, target)
        return actions.change_status(ctx, row.target, new, note)
