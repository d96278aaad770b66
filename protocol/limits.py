"""Field limits, enforced in this one place by the store, the CLI and the server."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from .errors import InvalidInput
from .fold import fold_key

NAME_MAX = 255
DESCRIPTION_MAX = 10_000
MARKETS_MAX = 32
MARKET_MAX = 64
NOTE_MAX = 1_000
#: Separates markets in one CSV cell, so no market may contain it.
MARKET_SEPARATOR = ";"


def _short(value: str, width: int = 40) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


#: Control characters (general category Cc: U+0000-001F, U+007F-009F) and lone
#: surrogates (Cs: U+D800-DFFF; not text: UTF-8 cannot encode them, so PostgreSQL and
#: SQLite refuse them). Both categories are closed by Unicode's stability policy, so
#: ranges say it exactly, and a regex scans text ~30x faster than a category lookup per
#: character (a 100,000-row import spent 1.4 s there).
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_TEXT_BUT_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _has_control(value: str, allow_newlines: bool = False) -> bool:
    """Whether ``value`` holds a control character (newlines and tabs allowed if said)."""
    return (_NOT_TEXT_BUT_LINES if allow_newlines else _NOT_TEXT).search(value) is not None


#: Runs of spaces (any width; tabs and newlines are control characters, refused).
_SPACES = re.compile("[ \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def single_spaced(text: str) -> str:
    """``text`` trimmed, each run of spaces one space: "Acme  Robotics" is "Acme
    Robotics", a name no one could tell from the other in a list."""
    return _SPACES.sub(" ", text).strip()


def clean_name(value: str) -> str:
    """A target name: 1-255 characters, single-spaced, no control characters."""
    if not isinstance(value, str):
        raise InvalidInput("name", "name must be text")
    name = single_spaced(value)
    if not name:
        raise InvalidInput("name", "name must not be empty")
    if len(name) > NAME_MAX:
        raise InvalidInput(
            "name", f"name {_short(name)!r} is {len(name)} characters; the limit is {NAME_MAX}"
        )
    if _has_control(name):
        raise InvalidInput("name", f"name {_short(name)!r} contains control characters")
    return name


def clean_description(value: str | None) -> str:
    """A description: at most 10,000 characters (newlines and tabs allowed)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("description", "description must be text")
    if len(value) > DESCRIPTION_MAX:
        raise InvalidInput(
            "description",
            f"description is {len(value)} characters; the limit is {DESCRIPTION_MAX}",
        )
    if _has_control(value, allow_newlines=True):
        raise InvalidInput("description", "description contains control characters")
    return value


def markets_text(markets: Iterable[str]) -> str:
    """Markets for people to read: ``EU, US``; ``Europe, North; Asia`` once one holds a
    comma (a market may, never a ``;``), so that it does not read as two."""
    markets = list(markets)
    with_commas = any("," in market for market in markets)
    return ("; " if with_commas else ", ").join(markets)


def clean_markets(values: Iterable[str] | None) -> list[str]:
    """Markets (tags): at most 32 entries of 1-64 characters each, single-spaced, no ``;``.

    Duplicates (in any case, accents aside: Zurich is Zürich) are dropped, the first
    spelling and the order kept.
    """
    if values is None:
        return []
    if isinstance(values, str):
        raise InvalidInput("markets", "markets must be a list of text")
    out: list[str] = []
    seen: set[str] = set()
    for raw in values:
        if not isinstance(raw, str):
            raise InvalidInput("markets", "each market must be text")
        market = single_spaced(raw)
        if not market:
            raise InvalidInput("markets", "a market must not be empty")
        if len(market) > MARKET_MAX:
            raise InvalidInput(
                "markets",
                f"market {_short(market)!r} is {len(market)} characters; the limit is {MARKET_MAX}",
            )
        if _has_control(market):
            raise InvalidInput("markets", f"market {_short(market)!r} contains control characters")
        if MARKET_SEPARATOR in market:
            raise InvalidInput(
                "markets",
                f"market {_short(market)!r} contains {MARKET_SEPARATOR!r}, "
                "which separates markets in CSV files; give them one by one",
            )
        key = fold_key(market)
        if key in seen:
            continue
        seen.add(key)
        out.append(market)
        if len(out) > MARKETS_MAX:
            raise InvalidInput("markets", f"more than {MARKETS_MAX} markets")
    return out


def clean_note(value: str | None) -> str | None:
    """A note on a status change: at most 1,000 characters; empty means none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("note", "note must be text")
    note = value.strip()
    if not note:
        return None
    if len(note) > NOTE_MAX:
        raise InvalidInput("note", f"note is {len(note)} characters; the limit is {NOTE_MAX}")
    if _has_control(note, allow_newlines=True):
        raise InvalidInput("note", "note contains control characters")
    return note


#: What a snooze date may be typed as (the CLI's and the TUI's words).
UNTIL_FORMS = "YYYY-MM-DD, +7d or +2w"
#: What the start of a span back in time may be typed as (``activity --since``).
SINCE_FORMS = "7d, 2w or YYYY-MM-DD"
_DAYS = re.compile(r"^(\d+)([dw])$")
#: More days than any two dates are apart (a count of more digits is read as this).
_MORE_DAYS = 10**9
#: The last day a date can be, for a span that would go past it.
LAST_DAY = date.max


def _typed_day(text: str, sign: str) -> int | date | None:
    """``7d`` / ``2w`` (after an optional ``sign``) as a number of days, ``YYYY-MM-DD`` as
    a date; None for anything else."""
    text = text.strip().lower()
    match = _DAYS.match(text.removeprefix(sign))
    if match:
        count = int(match[1]) if len(match[1]) <= 9 else _MORE_DAYS
        return count * (7 if match[2] == "w" else 1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_until(value: str, today: date) -> date:
    """The last day of a snooze typed by a user: ``YYYY-MM-DD``, or ``+N d`` / ``+N w``
    from ``today``; a later day than ``today`` (one before would snooze nothing)."""
    typed = _typed_day(value, "+")
    if typed is None:
        raise InvalidInput("until", f"bad date {value!r}; use {UNTIL_FORMS}")
    try:
        day = today + timedelta(days=typed) if isinstance(typed, int) else typed
    except OverflowError:
        raise InvalidInput(
            "until", f"{value.strip()!r} is after {LAST_DAY}, the last day a date can be"
        ) from None
    if day <= today:
        raise InvalidInput("until", f"{day} is not after today; a snooze runs until a later day")
    return day


def parse_since(value: str, now: datetime) -> datetime:
    """The start of a span typed by a user: ``N d`` / ``N w`` before ``now``, or the
    start of a day (``YYYY-MM-DD``, in the machine's time zone); in UTC."""
    typed = _typed_day(value, "-")
    if typed is None:
        raise InvalidInput("since", f"bad span {value!r}; use {SINCE_FORMS}")
    if isinstance(typed, int):
        try:
            return now - timedelta(days=typed)
        except OverflowError:  # before the first day a date can be: since ever
            return datetime.min.replace(tzinfo=UTC)
    try:
        return datetime.combine(typed, time()).astimezone().astimezone(UTC)
    except (OverflowError, ValueError):
        # a day at the edge of what a date holds (0001-01-01, 9999-12-31), whose local
        # midnight falls outside that range in UTC: UTC's midnight of it says the same
        # (before or after every change)
        return datetime.combine(typed, time(), tzinfo=UTC)
