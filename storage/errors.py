"""The store's exceptions (re-exported by :mod:`storage.store`, their public home)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .types import TargetView


class NotFound(LookupError):
    """No target matches; ``str()`` names the reference."""


class Ambiguous(LookupError):
    """More than one target matches a reference; ``candidates`` lists them."""

    def __init__(self, ref: str, candidates: Sequence[TargetView]) -> None:
        names = ", ".join(f"{t.uid[:8]} {t.name!r}" for t in candidates[:10])
        super().__init__(f"{ref!r} matches {len(candidates)} targets: {names}")
        self.ref = ref
        self.candidates = list(candidates)


class StoreError(RuntimeError):
    """The database cannot be used (corrupt, not a pipetrack file, disk full...).

    The message says what happened and what to do, in one or two lines.
    """
