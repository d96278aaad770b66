"""Stagnation: how long a target has sat in its status, and whether that is too long.

Whole days count, as the user sees them: ``days_in_status`` is the number of whole days
since ``status_since``. With a threshold of ``t`` days a target is

- ``stale`` when ``days_in_status > t`` (it has lasted *longer* than the threshold),
- ``aging`` when ``days_in_status >= ceil(0.8 * t)`` and it is not stale,
- ``snoozed`` when it would be aging or stale but ``snoozed_until`` is after today
  (a snooze never hides a fresh target: snoozed means "known, not now"),
- ``fresh`` otherwise, and always for statuses without a threshold.

Each rule is turned into a cutoff time per status (``status_since <= cutoff``), so the
SQL filter uses the (status, status_since) index and never filters in Python.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any

from peewee import SQL, NodeList

from .profile import _parse_thresholds
from .schema import time_text

DAY = timedelta(days=1)


def normalize_thresholds(thresholds: dict[str, int] | None) -> dict[str, int]:
    """Status -> days over the defaults (Cold 60, Active 30, Hot 14); InvalidInput if bad."""
    return _parse_thresholds(thresholds)


def aging_days(threshold: int) -> int:
    """ceil(0.8 * threshold), in integers."""
    return -(-4 * threshold // 5)


def days_since(start: datetime, now: datetime) -> int:
    """Whole days from ``start`` to ``now`` (0 when ``start`` is in the future)."""
    return max(0, (now - start) // DAY)


@dataclass(frozen=True)
class Cutoffs:
    """The stagnation rules at one moment: ``status_since <= cutoff`` per status."""

    today: date
    stale: dict[str, datetime]
    aging: dict[str, datetime]


def cutoffs(thresholds: dict[str, int], now: datetime) -> Cutoffs:
    return Cutoffs(
        today=now.date(),
        stale={s: now - (t + 1) * DAY for s, t in thresholds.items()},
        aging={s: now - aging_days(t) * DAY for s, t in thresholds.items()},
    )


def _unindexed(column: Any) -> Any:
    """``+column``: the same value, but SQLite will not use an index for the term."""
    return NodeList((SQL("+"), column), glue="")


def _past(target: Any, cut: dict[str, datetime], indexed: bool = True) -> Any:
    status, since = target.status, target.status_since
    if not indexed:
        status, since = _unindexed(status), _unindexed(since)
    terms = [(status == name) & (since <= time_text(when)) for name, when in sorted(cut.items())]
    return reduce(operator.or_, terms) if terms else SQL("0")


def _snoozed(target: Any, c: Cutoffs) -> Any:
    return target.snoozed_until > c.today


def _awake(target: Any, c: Cutoffs) -> Any:
    return target.snoozed_until.is_null() | (target.snoozed_until <= c.today)


def label(status: str | None, since: datetime, snoozed_until: date | None, c: Cutoffs) -> str:
    """A target's stagnation label; :func:`where` is the same rule in SQL (the tests hold
    the two together at every boundary)."""
    if status not in c.aging or since > c.aging[status]:
        return "fresh"
    if snoozed_until is not None and snoozed_until > c.today:
        return "snoozed"
    return "stale" if since <= c.stale[status] else "aging"


def where(target: Any, c: Cutoffs, states: tuple[str, ...], *, indexed: bool = True) -> Any:
    """SQL condition keeping the rows whose label is one of ``states``. ``indexed=False``
    keeps SQLite off the (status, status_since) index: a page of a filter matching many
    targets is found sooner by walking the sort order's index (``query``)."""
    aging, stale = _past(target, c.aging, indexed), _past(target, c.stale, indexed)
    conditions = {
        "stale": stale & _awake(target, c),
        "aging": aging & ~stale & _awake(target, c),
        "snoozed": aging & _snoozed(target, c),
        "fresh": target.status.is_null() | ~aging,
    }
    return reduce(operator.or_, [conditions[s] for s in dict.fromkeys(states)])


def candidates(target: Any, c: Cutoffs, states: tuple[str, ...]) -> Any | None:
    """A wider condition than :func:`where` on (status, status_since) alone, so SQLite
    answers it from that index without reading rows (snoozes are in the rows); None when
    ``states`` include ``fresh`` (no such range)."""
    if "fresh" in states:
        return None
    return _past(target, c.stale if set(states) == {"stale"} else c.aging)
