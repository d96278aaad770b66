"""Push outcomes, decided in Python in push order from state loaded up front.

The caller (``push_store``) holds row locks on every touched target, so the loaded
state, the ``seen`` change ids and the ``conflicts`` facts cannot change under us.
Everything the push applies is by one device, so only the database's facts (other
devices' changes) can make a change conflict; the push's own earlier changes never do.

Outcomes (DESIGN.md, "Sync protocol"), checked in this order for each change:

1. ``duplicate`` — its change_id is in audit_log (or was applied earlier in this push);
   the current state of the target it was applied to is returned.
2. ``blocked`` — an earlier change to the same target in this push was ``conflict``,
   ``rejected`` or ``blocked`` (``duplicate`` and ``converged`` do not block).
3. ``rejected`` — :func:`change_problem` objects, the target is unknown, a create names
   an existing uid with other details, or base_version is ahead of the server.
4. ``converged`` — the target already has exactly what the change asks.
5. ``conflict`` — another device changed the same field group (status, or details =
   name/description/markets) at a version > base_version, and no earlier change of
   this push to that group converged (the device accepted the group's state then: its
   changes made after that one build on it).
6. ``applied`` — version + 1 and one audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from protocol import clean_description, clean_markets, clean_name, clean_note, parse_status
from protocol.wire import Change, change_problem

from .records import Target

STATUS = "status"
DETAILS = "details"

#: (target uid, base_version, field group) of a change that another device's later
#: change to that group makes a conflict.
ConflictKey = tuple[UUID, int, str]
#: A target's state as plain values: :class:`~protocol.wire.TargetState`'s fields, which
#: are also the columns of the write statement's target record set (``push_store``).
State = dict[str, Any]


_GROUPS = {"set_status": STATUS, "edit": DETAILS}

#: A change dated before this comes from a clock that lost its time (a laptop with a
#: dead clock battery says 1970; a year 1 in a far time zone is year 0 in UTC, which
#: PostgreSQL stores as BC): it is dated when the server receives it, as a change
#: dated in the future is.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def field_group(change: Change) -> str | None:
    """The field group a set_status / edit touches; None for create."""
    return _GROUPS.get(change.op)


@dataclass
class Plan:
    """What a push writes, and the result of each change in push order (the values of a
    :class:`~protocol.wire.Result`, serialized as they are: see ``routes.push``).

    States are never changed once made (each applied change makes a new one), so a
    result and the plan share them. ``audit`` holds the audit rows as the write
    statement reads them."""

    results: list[dict[str, Any]] = field(default_factory=list)
    created: dict[UUID, State] = field(default_factory=dict)
    updated: dict[UUID, State] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)


class Decider:
    """Decides a push's changes in order against the facts loaded for it."""

    def __init__(
        self,
        *,
        user: str,
        now: datetime,
        targets: dict[UUID, Target],
        seen: dict[UUID, UUID],
        conflicts: set[ConflictKey],
    ) -> None:
        self.user = user
        self.now = now
        self.loaded = targets
        self.work: dict[UUID, State] = {}  # uid -> state as of this point in the push
        self.seen = dict(seen)  # change_id -> uid of the target it was applied to
        self.conflicts = conflicts
        self.failed: set[UUID] = set()
        #: (target, field group) whose state a converged change of this push accepted
        self.accepted: set[tuple[UUID, str | None]] = set()
        self.plan = Plan()

    def state(self, uid: UUID) -> State | None:
        """The target's state at this point of the push (None: it does not exist)."""
        state = self.work.get(uid)
        if state is None:
            target = self.loaded.get(uid)
            if target is not None:
                state = self.work[uid] = target.state_values()
        return state

    def result(self, change: Change, outcome: str, state: State | None = None, error=None):
        self.plan.results.append(
            {"change_id": change.change_id, "outcome": outcome, "target": state, "error": error}
        )
        if outcome in ("conflict", "rejected", "blocked"):
            self.failed.add(change.target)

    def decide_all(self, changes: list[Change]) -> Plan:
        for change in changes:
            self.decide(change)
        return self.plan

    def decide(self, change: Change) -> None:
        if change.change_id in self.seen:
            return self.result(change, "duplicate", self.state(self.seen[change.change_id]))
        if change.target in self.failed:
            return self.result(
                change, "blocked", error="an earlier change to this target was not applied"
            )
        problem = change_problem(change)
        current = self.state(change.target)
        if problem is not None:
            return self.result(change, "rejected", current, problem)
        if change.op == "create":
            return self.create(change, current)
        if current is None:
            return self.result(change, "rejected", error="unknown target: it does not exist")
        version = current["version"]
        if change.base_version > version:
            return self.result(
                change,
                "rejected",
                current,
                f"base version {change.base_version} is ahead of the server's {version}"
                " (was the server restored from a backup?)",
            )
        wanted = _wanted(change, current)
        group = field_group(change)
        if all(current[key] == value for key, value in wanted.items()):
            # the device asked for what the field group holds now: its later changes of
            # that group in this push build on it, and nothing changes it meanwhile
            self.accepted.add((change.target, group))
            return self.result(change, "converged", current)
        accepted = (change.target, group) in self.accepted
        if not accepted and (change.target, change.base_version, group) in self.conflicts:
            return self.result(change, "conflict", current)
        self.apply(change, current, wanted)

    def received(self, change: Change) -> datetime:
        """The change's time as the device says, unless its clock is implausible
        (before EARLIEST or after now): then the server's receive time."""
        at = change.changed_at
        return self.now if at > self.now or at < EARLIEST else at

    def held_since(self, change: Change, current: State, stamp: datetime) -> datetime:
        """When the target's new status counts from: the change's time, or, for a change
        that brings back an earlier status (an undo), since when it had held it, as the
        device says; never before the target existed, nor after the change itself."""
        since = change.status_since
        if since is None or since < EARLIEST:
            return stamp
        return min(max(since, current["created_at"]), stamp)

    def apply(self, change: Change, current: State, wanted: dict[str, Any]) -> None:
        # A device whose clock is behind (a restored VM, a reset clock) must not date a
        # change before the target existed, nor a status before the one it follows: the
        # team would see the target in it for years, and stale. Changes applied in
        # order are never that early.
        stamp = max(self.received(change), current["created_at"])
        new = {
            **current,
            **wanted,
            "version": current["version"] + 1,
            "last_updated": self.now,
            "updated_by": self.user,
        }
        if change.op == "set_status":
            if current["status_changed_at"] is not None:
                stamp = max(stamp, current["status_changed_at"])
            new["status_changed_at"] = self.held_since(change, current, stamp)
            new["status_changed_by"] = self.user
        self.record(change, new, stamp, current["status"])

    def create(self, change: Change, current: State | None) -> None:
        stamp = self.received(change)
        fields = change.fields
        status = _status(change.status)
        new = {
            "uid": change.target,
            "name": clean_name(fields.name),
            "description": clean_description(fields.description),
            "markets": clean_markets(fields.markets),
            "status": status,
            "version": 1,
            "status_changed_at": stamp if status else None,
            "status_changed_by": self.user if status else None,
            "created_at": stamp,
            "last_updated": self.now,
            "updated_by": self.user,
        }
        if current is not None:
            if _details(current) == _details(new):
                # the device's target is the server's: its later changes in this push,
                # made on it (base 0), build on it as on one it created
                self.accepted.update({(change.target, STATUS), (change.target, DETAILS)})
                return self.result(change, "converged", current)
            return self.result(
                change, "rejected", current, "a different target with this id already exists"
            )
        self.plan.created[change.target] = new
        self.record(change, new, stamp, None)

    def record(self, change: Change, new: State, stamp: datetime, old_status) -> None:
        """``new`` becomes the target's state, with one audit row and ``applied``."""
        uid = change.target
        self.work[uid] = new
        if uid in self.plan.created:
            self.plan.created[uid] = new
        else:
            self.plan.updated[uid] = new
        self.seen[change.change_id] = uid
        op = change.op
        self.plan.audit.append(
            {
                "target": uid,
                "change_id": change.change_id,
                "op": op,
                "old_status": old_status,
                "new_status": new["status"],
                "touches_status": op != "edit",
                "touches_details": op != "set_status",
                "version": new["version"],
                "change_timestamp": stamp,  # the client's changed_at, corrected as above
                "note": clean_note(change.note),
            }
        )
        self.result(change, "applied", new)


def _wanted(change: Change, current: State) -> dict[str, Any]:
    """What a set_status / edit asks the target's fields to be, cleaned."""
    if change.op == "set_status":
        return {"status": _status(change.status)}
    fields = change.fields
    return {
        "name": current["name"] if fields.name is None else clean_name(fields.name),
        "description": current["description"]
        if fields.description is None
        else clean_description(fields.description),
        "markets": current["markets"] if fields.markets is None else clean_markets(fields.markets),
    }


def _status(value: str | None) -> str | None:
    status = parse_status(value)
    return status.value if status is not None else None


def _details(state: State) -> tuple:
    return (state["name"], state["description"], list(state["markets"]), state["status"])
