"""Messages the app sends its screens."""

from __future__ import annotations

from textual.message import Message


class DataChanged(Message, bubble=False):
    """The database changed (a write here, or another process such as the sync daemon)."""
