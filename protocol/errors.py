"""Validation errors shared by every part."""

from __future__ import annotations


class InvalidInput(ValueError):
    """A value a user (or a client) supplied breaks a rule.

    ``field`` names what was wrong; ``str(err)`` is a one-line reason a user
    understands and that names the bad value.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
