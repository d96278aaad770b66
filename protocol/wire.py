"""Wire messages of the sync protocol (DESIGN.md, "Sync protocol"), shared by server and daemon.

Types are checked by pydantic (a wrong type is a 422 at the API). Business rules
(unknown status, over-long name...) are *not* checked here: the server checks each
change with :func:`change_problem` and answers ``rejected`` for that change alone, so
one bad change never fails a whole push.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_serializer,
)

from .errors import InvalidInput
from .limits import clean_description, clean_markets, clean_name, clean_note
from .status import parse_status

MAX_CHANGES_PER_PUSH = 1_000
MAX_PUSH_BYTES = 2 * 1024 * 1024
PULL_LIMIT_DEFAULT = 1_000
PULL_LIMIT_MAX = 10_000
PULL_WAIT_MAX = 60.0
#: A push carries the device's pull cursor in this header: a server whose database was
#: restored since answers 409 before deciding anything (base versions from before a
#: restore may name versions it lost or gave again); the device pulls again first.
CURSOR_HEADER = "Pipetrack-Cursor"

Op = Literal["create", "set_status", "edit"]
Outcome = Literal["applied", "duplicate", "converged", "conflict", "blocked", "rejected"]
OUTCOMES: tuple[str, ...] = ("applied", "duplicate", "converged", "conflict", "blocked", "rejected")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# pydantic's lax mode would coerce ``"3"`` into a version and ``1700000000`` into a time;
# a value of the wrong JSON type is refused instead (422), as the schema says. (Its strict
# mode would also refuse ``3.0``, which JSON Schema counts as an integer.)
def _number(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise ValueError("must be a number, not text or true/false")
    return value


def _not_number(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("must be an RFC 3339 time, such as 2026-06-01T12:00:00Z")
    return value


#: Bounded so it fits PostgreSQL's bigint (a larger one was a 500) and JSON numbers stay
#: exact (2**53); negative is ``rejected``.
Version = Annotated[int, Field(ge=-(2**53), le=2**53), BeforeValidator(_number)]
Time = Annotated[AwareDatetime, BeforeValidator(_not_number)]


class ChangeFields(_Model):
    """Details carried by ``create`` and ``edit``; ``None`` means "leave as is" on edit."""

    name: str | None = None
    description: str | None = None
    markets: list[str] | None = None


class Change(_Model):
    change_id: UUID
    target: UUID
    op: Op
    base_version: Version | None = None
    status: str | None = None
    fields: ChangeFields | None = None
    changed_at: Time
    note: str | None = None
    #: set_status only: when the change brings back an earlier status (an undo), since
    #: when the target had held it; the server keeps it as ``status_changed_at``
    #: (within bounds) so the target's days in status count on. Left out when None.
    status_since: Time | None = None

    @model_serializer(mode="wrap")
    def _leave_out_no_since(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if data.get("status_since", 0) is None:
            del data["status_since"]
        return data


class PushRequest(_Model):
    #: Printable ASCII (devices send a UUID): a NUL would fail in PostgreSQL (a 500).
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[ -~]+$")
    changes: list[Change] = Field(max_length=MAX_CHANGES_PER_PUSH)


class TargetState(_Model):
    """The server's truth about one target."""

    uid: UUID
    name: str
    description: str = ""
    markets: list[str] = []
    status: str | None = None
    version: int
    status_changed_at: datetime | None = None
    status_changed_by: str | None = None
    created_at: datetime
    last_updated: datetime
    updated_by: str | None = None


class Result(_Model):
    change_id: UUID
    outcome: Outcome
    target: TargetState | None = None
    error: str | None = None


class PushResponse(_Model):
    results: list[Result]


class AuditEntry(_Model):
    """One applied change as recorded by the server (audit_log row)."""

    id: int
    change_id: UUID
    target: UUID
    op: Op
    old_status: str | None = None
    new_status: str | None = None
    changed_at: datetime
    recorded_at: datetime
    changed_by: str
    device_id: str
    note: str | None = None
    version: int


class PullResponse(_Model):
    targets: list[TargetState]
    history: list[AuditEntry]
    cursor: str
    more: bool


class HistoryResponse(_Model):
    target: TargetState
    history: list[AuditEntry]


class Me(_Model):
    """Who the token belongs to: the name the server records as ``changed_by``."""

    user: str


class ErrorBody(_Model):
    message: str
    field: str | None = None


def change_problem(change: Change) -> str | None:
    """Why a change is invalid, in words a user understands; ``None`` when it is valid.

    Checks what the sync protocol's ``rejected`` covers and what needs no database:
    status values, field limits and which parts each op must carry.
    """
    try:
        if change.status_since is not None and change.op != "set_status":
            return "only a status change says since when its status was held"
        if change.op == "set_status":
            if change.fields is not None:
                return "a status change carries no fields"
            parse_status(change.status)
        elif change.op == "create":
            if change.base_version is not None:
                return "a create has no base version"
            if change.fields is None or change.fields.name is None:
                return "a new target needs a name"
            parse_status(change.status)
            _check_fields(change.fields)
        else:  # edit
            if change.status is not None:
                return "an edit does not change the status"
            if change.fields is None or all(
                v is None
                for v in (change.fields.name, change.fields.description, change.fields.markets)
            ):
                return "an edit must change name, description or markets"
            _check_fields(change.fields)
        if change.op != "create" and change.base_version is None:
            return "a change to an existing target needs a base version"
        if change.base_version is not None and change.base_version < 0:
            return "base version must not be negative"
        clean_note(change.note)
    except InvalidInput as err:
        return str(err)
    return None


def _check_fields(fields: ChangeFields) -> None:
    if fields.name is not None:
        clean_name(fields.name)
    if fields.description is not None:
        clean_description(fields.description)
    if fields.markets is not None:
        clean_markets(fields.markets)
