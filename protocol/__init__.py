"""The vocabulary both sides speak: statuses, field limits, wire messages, validation errors."""

from .errors import InvalidInput, InvalidInputs
from .limits import (
    DESCRIPTION_MAX,
    MARKET_MAX,
    MARKETS_MAX,
    NAME_MAX,
    NOTE_MAX,
    SINCE_FORMS,
    UNTIL_FORMS,
    clean_description,
    clean_markets,
    clean_name,
    clean_note,
    markets_text,
    parse_since,
    parse_until,
    single_spaced,
)
from .ops import UNDO_NOTE, note_words, op_words, undone_id
from .status import STATUS_ORDER, Status, parse_status, parse_typed_status
from .version import installed_version

__all__ = [
    "DESCRIPTION_MAX",
    "MARKETS_MAX",
    "MARKET_MAX",
    "NAME_MAX",
    "NOTE_MAX",
    "STATUS_ORDER",
    "SINCE_FORMS",
    "UNTIL_FORMS",
    "UNDO_NOTE",
    "InvalidInput",
    "InvalidInputs",
    "Status",
    "clean_description",
    "clean_markets",
    "clean_name",
    "single_spaced",
    "clean_note",
    "installed_version",
    "markets_text",
    "note_words",
    "op_words",
    "parse_status",
    "parse_typed_status",
    "parse_since",
    "parse_until",
    "undone_id",
]
