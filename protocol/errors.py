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


class InvalidInputs(InvalidInput):
    """Several values broke rules (an import's rows): ``errors`` lists each, in order,
    so the user fixes them in one go; the first is this error's own field and reason."""

    def __init__(self, errors: list[InvalidInput]) -> None:
        super().__init__(errors[0].field, errors[0].message)
        self.errors = errors

    @classmethod
    def raise_any(cls, errors: list[InvalidInput]) -> None:
        """Raise nothing, the one error, or all of them."""
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise cls(errors)
