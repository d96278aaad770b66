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
   name/description/markets) at a version > base_version.
6. ``applied`` — version + 1 and one audit row.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
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


def field_group(change: Change) -> str | None:
    """The field group a set_status / edit touches; None for create."""
    return {"set_status": STATUS, "edit": DETAILS}.get(change.op)


@dataclass(frozen=True)
class AuditRow:
    change: Change
    target: UUID
    old_status: str | None
    new_status: str | None
    version: int
    change_timestamp: datetime
    note: str | None
    touches_status: bool
    touches_details: bool


@dataclass
class Plan:
    """What a push writes, and the result of each change in push order (the values of a
    :class:`~protocol.wire.Result`, serialized as they are: see ``routes.push``)."""

    results: list[dict[str, Any]] = field(default_factory=list)
    created: dict[UUID, Target] = field(default_factory=dict)
    updated: dict[UUID, Target] = field(default_factory=dict)
    audit: list[AuditRow] = field(default_factory=list)


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
        self.work = dict(targets)  # uid -> state as of this point in the push
        self.seen = dict(seen)  # change_id -> uid of the target it was applied to
        self.conflicts = conflicts
        self.failed: set[UUID] = set()
        self.plan = Plan()

    def result(self, change: Change, outcome: str, target: Target | None = None, error=None):
        state = target.state_values() if target is not None else None
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
            return self.result(change, "duplicate", self.work.get(self.seen[change.change_id]))
        if change.target in self.failed:
            return self.result(
                change, "blocked", error="an earlier change to this target was not applied"
            )
        problem = change_problem(change)
        if problem is not None:
            return self.result(change, "rejected", self.work.get(change.target), problem)
        current = self.work.get(change.target)
        if change.op == "create":
            return self.create(change, current)
        if current is None:
            return self.result(change, "rejected", error="unknown target: it does not exist")
        if change.base_version > current.version:
            return self.result(
                change,
                "rejected",
                current,
                f"base version {change.base_version} is ahead of the server's {current.version}",
            )
        wanted = self.wanted(change, current)
        if wanted == current:
            return self.result(change, "converged", current)
        if (change.target, change.base_version, field_group(change)) in self.conflicts:
            return self.result(change, "conflict", current)
        self.apply(change, current, wanted)

    def wanted(self, change: Change, current: Target) -> Target:
        """The target as the change asks for it (version and stamps untouched)."""
        if change.op == "set_status":
            return replace(current, status=_status(change.status))
        fields = change.fields
        return replace(
            current,
            name=current.name if fields.name is None else clean_name(fields.name),
            description=current.description
            if fields.description is None
            else clean_description(fields.description),
            markets=current.markets if fields.markets is None else clean_markets(fields.markets),
        )

    def create(self, change: Change, current: Target | None) -> None:
        stamp = self.stamp(change)
        fields = change.fields
        status = _status(change.status)
        new = Target(
            id=None,
            uid=change.target,
            name=clean_name(fields.name),
            description=clean_description(fields.description),
            markets=clean_markets(fields.markets),
            status=status,
            version=1,
            status_changed_at=stamp if status else None,
            status_changed_by=self.user if status else None,
            created_at=stamp,
            last_updated=self.now,
            updated_by=self.user,
        )
        if current is not None:
            if _details(current) == _details(new):
                return self.result(change, "converged", current)
            return self.result(
                change, "rejected", current, "a different target with this id already exists"
            )
        self.work[new.uid] = new
        self.plan.created[new.uid] = new
        self.record(change, new, old_status=None, touches_status=True, touches_details=True)

    def apply(self, change: Change, current: Target, wanted: Target) -> None:
        stamp = self.stamp(change)
        status_change = change.op == "set_status"
        new = replace(
            wanted,
            version=current.version + 1,
            last_updated=self.now,
            updated_by=self.user,
            status_changed_at=stamp if status_change else current.status_changed_at,
            status_changed_by=self.user if status_change else current.status_changed_by,
        )
        self.work[new.uid] = new
        if new.uid in self.plan.created:
            self.plan.created[new.uid] = new
        else:
            self.plan.updated[new.uid] = new
        self.record(
            change,
            new,
            old_status=current.status,
            touches_status=status_change,
            touches_details=not status_change,
        )

    def record(self, change: Change, new: Target, *, old_status, touches_status, touches_details):
        self.seen[change.change_id] = new.uid
        self.plan.audit.append(
            AuditRow(
                change=change,
                target=new.uid,
                old_status=old_status,
                new_status=new.status,
                version=new.version,
                change_timestamp=self.stamp(change),
                note=clean_note(change.note),
                touches_status=touches_status,
                touches_details=touches_details,
            )
        )
        self.result(change, "applied", new)

    def stamp(self, change: Change) -> datetime:
        """The client's changed_at, never later than the server's clock."""
        return min(change.changed_at, self.now)


def _status(value: str | None) -> str | None:
    status = parse_status(value)
    return status.value if status is not None else None


def _details(target: Target) -> tuple:
    return (target.name, target.description, list(target.markets), target.status)
