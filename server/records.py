"""Rows of ``targets`` and ``audit_log`` as Python values, and their wire forms.

(The pull's wire JSON is PostgreSQL's: each row's ``wire`` column, written by the
functions of migration 0002_wire_json.sql.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from protocol.wire import AuditEntry, TargetState

#: Columns of ``targets`` in the order of :class:`Target`'s fields (``t`` is the alias).
TARGET_COLUMNS = (
    "t.id, t.uid, t.name, t.description, t.markets, t.pipeline_status, t.version,"
    " t.status_changed_at, t.status_changed_by, t.created_at, t.last_updated, t.updated_by"
)

#: Columns of ``audit_log`` (alias ``a``, joined with ``targets t``) for :class:`AuditEntry`.
AUDIT_COLUMNS = (
    "a.id, a.change_id, t.uid, a.op, a.old_status, a.new_status, a.change_timestamp,"
    " a.recorded_at, a.changed_by, a.device_id, a.note, a.version"
)


@dataclass(frozen=True)
class Target:
    """One target's state; ``id`` is None until a new target is inserted."""

    id: int | None
    uid: UUID
    name: str
    description: str
    markets: list[str]
    status: str | None
    version: int
    status_changed_at: datetime | None
    status_changed_by: str | None
    created_at: datetime
    last_updated: datetime
    updated_by: str | None

    def state(self) -> TargetState:
        return TargetState(**{name: getattr(self, name) for name in TargetState.model_fields})

    def state_values(self) -> dict[str, Any]:
        """:meth:`state` as plain values, for ``pydantic_core.to_json`` (the same JSON as
        the model's; no model built: a push answers with up to 1,000 of them)."""
        return {name: getattr(self, name) for name in _STATE_FIELDS}


_STATE_FIELDS = tuple(TargetState.model_fields)


def target_from_row(row: tuple) -> Target:
    return Target(*row)


def audit_entry_from_row(row: tuple) -> AuditEntry:
    keys = [
        "id",
        "change_id",
        "target",
        "op",
        "old_status",
        "new_status",
        "changed_at",
        "recorded_at",
        "changed_by",
        "device_id",
        "note",
        "version",
    ]
    return AuditEntry(**dict(zip(keys, row, strict=True)))
