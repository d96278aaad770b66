"""The pipeline statuses and their parsing."""

from __future__ import annotations

from enum import StrEnum

from .errors import InvalidInput


class Status(StrEnum):
    PASSED = "Passed"
    COLD = "Cold"
    ACTIVE = "Active"
    HOT = "Hot"
    CLOSED = "Closed"


#: Statuses in pipeline order; the TUI's keys 1-5 follow this order.
STATUS_ORDER: tuple[Status, ...] = (
    Status.PASSED,
    Status.COLD,
    Status.ACTIVE,
    Status.HOT,
    Status.CLOSED,
)
_BY_LOWER = {s.value.lower(): s for s in Status}
_NO_STATUS = {"", "none"}


def parse_status(value: str | Status | None) -> Status | None:
    """Parse a user- or wire-supplied status.

    Case-insensitive and trimmed (``" hot"`` -> ``Status.HOT``); ``None``, ``""`` and
    ``"none"`` mean "no status yet" and return ``None``. Anything else raises
    :class:`InvalidInput` naming the bad value and the valid ones.
    """
    if value is None or isinstance(value, Status):
        return value
    key = str(value).strip().lower()
    if key in _NO_STATUS:
        return None
    try:
        return _BY_LOWER[key]
    except KeyError:
        raise _unknown(value) from None


def parse_typed_status(value: str) -> Status | None:
    """A status a person typed (a command's argument): :func:`parse_status`, but an
    empty one is refused, so that a script's unset variable (``set "$T" "$S"``) never
    clears a status; ``none`` is the way to say "no status"."""
    if not value.strip():
        raise _unknown(value)
    return parse_status(value)


def _unknown(value: str) -> InvalidInput:
    valid = ", ".join(s.value for s in STATUS_ORDER)
    return InvalidInput("status", f"unknown status {value!r}; valid: {valid} (or none)")
