"""The vocabulary both sides speak: statuses, field limits, wire messages, validation errors."""

from .errors import InvalidInput
from .limits import (
    DESCRIPTION_MAX,
    MARKET_MAX,
    MARKETS_MAX,
    NAME_MAX,
    NOTE_MAX,
    UNTIL_FORMS,
    clean_description,
    clean_markets,
    clean_name,
    clean_note,
    markets_text,
    parse_until,
)
from .ops import op_words
from .status import STATUS_ORDER, Status, parse_status
from .version import installed_version

__all__ = [
    "DESCRIPTION_MAX",
    "MARKETS_MAX",
    "MARKET_MAX",
    "NAME_MAX",
    "NOTE_MAX",
    "STATUS_ORDER",
    "UNTIL_FORMS",
    "InvalidInput",
    "Status",
    "clean_description",
    "clean_markets",
    "clean_name",
    "clean_note",
    "installed_version",
    "markets_text",
    "op_words",
    "parse_status",
    "parse_until",
]
