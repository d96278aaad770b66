"""How values look on screen: labels, glyphs and times. Presentation only, no rules.

The store decides *what* a target is (its stagnation, its sync state, its days in
status); this module only decides how that is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size

from protocol import markets_text
from storage import StatusChange, SyncState, TargetQuery, TargetView

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

NO_STATUS = "—"

#: Glyph shown before the days of a stagnant target (a glyph and text, not colour alone).
BADGE_GLYPH = {"aging": "◐", "stale": "⚠", "snoozed": "z"}
#: Glyph of a target's sync state in the table ("synced" shows nothing).
SYNC_GLYPH = {"synced": " ", "pending": "↑", "conflict": "≠", "rejected": "✗"}
SYNC_WORD = {
    "synced": "synced",
    "pending": "pending",
    "conflict": "conflict",
    "rejected": "rejected",
    "converged": "same as team's",  # history only: a teammate had made it first
}
MARK_GLYPH = "●"
#: The stagnation filter of the "stale only" switch.
STALE_ONLY = ("stale",)
#: The sync filter of "not synced yet only": what is not on the server as the user left it.
UNSYNCED = ("pending", "conflict", "rejected")


def status_label(status: str | None) -> str:
    return status or NO_STATUS


def status_class(status: str | None) -> str:
    """The CSS-friendly name of a status (``hot``, ``none``...), for component classes."""
    return (status or "none").lower()


def badge(view: TargetView) -> str:
    """``◐ 25d`` aging, ``⚠ 97d`` stale, ``z 40d`` snoozed, empty when fresh. A fresh
    target snoozed ahead (till after today) shows ``z`` too: the snooze was taken."""
    glyph = BADGE_GLYPH.get(view.stagnation)
    if glyph is None and view.snooze_ahead:
        glyph = BADGE_GLYPH["snoozed"]
    return f"{glyph} {view.days_in_status}d" if glyph else ""


def markets_field(markets: Sequence[str]) -> str:
    """Markets as a form's field shows them, read back by :func:`split_markets` as the
    same list: ``EU, US``, or ``Europe, North; Asia;`` once a market holds a comma (a
    market may hold one, never a ``;``), which a save must not split in two."""
    text = markets_text(markets)
    return text + ";" if any("," in market for market in markets) else text


def split_markets(text: str) -> list[str]:
    """What the user typed in a markets field as a list: split at ``;`` when there is
    one, else at commas (``EU, US``). Empty pieces are dropped; the store checks the rest.
    """
    separator = ";" if ";" in text else ","
    return [piece for piece in (p.strip() for p in text.split(separator)) if piece]


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis when longer (never padded)."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)) + "…"


def local_time(value: datetime | None, *, short: bool = False) -> str:
    """A UTC time in the local time zone, to the minute (``short``: without the year)."""
    if value is None:
        return "never"
    return value.astimezone().strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M")


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def status_news(change: StatusChange, note: str | None = None) -> str:
    """What a status change did, for a notice: ``Acme: Cold → Hot``, or that nothing
    changed, and then that the note typed with it was not kept (a note belongs to a
    change)."""
    target = change.target
    if change.changed:
        return f"{target.name}: {status_label(change.before)} → {status_label(target.status)}"
    dropped = " (the note was not saved: a note goes with a change)" if note else ""
    return f"{target.name} is already {status_label(target.status)}; nothing changed{dropped}"


def describe_filter(query: TargetQuery, *, count_markets: bool = False) -> str:
    """The active filter in words (``status Hot, Cold · market EU · "acme" · stale only``);
    ``all`` without one. ``count_markets``: for a line too short for it all, the markets
    as their number (``1 market``, ``3 markets``), after the switches (stale only, not
    synced yet), which a cut line then keeps: ``status Hot · stale only · 3 markets``."""
    switches = []
    if query.stagnation:
        switches.append("stale only")
    if query.sync:
        switches.append(
            "not synced yet" if query.sync == UNSYNCED else "sync " + ", ".join(query.sync)
        )
    parts = []
    if query.statuses:
        parts.append("status " + ", ".join(status_label(s) for s in query.statuses))
    if count_markets:
        parts += switches
        if query.markets:
            parts.append(plural(len(query.markets), "market"))
    elif query.markets:
        parts.append("market " + ", ".join(query.markets))
    if query.search:
        parts.append(f"“{query.search}”")
    if not count_markets:
        parts += switches
    return " · ".join(parts) if parts else "all"


def sync_news(before: SyncState, now: SyncState, key: str) -> list[tuple[str, SeverityLevel]]:
    """What the sync brought since ``before`` that needs the user: new conflicts, changes
    the server refused (``key`` opens the screen where they are settled), and changes
    the server had lost and is sent again."""
    news = needs_you(now.conflicts - before.conflicts, now.rejected - before.rejected, key)
    resent = now.resent - before.resent
    if resent > 0:
        news.append(
            (
                f"The server had lost {plural(resent, 'change')} of yours (restored from a"
                " backup?): sent again",
                "warning",
            )
        )
    return news


def needs_you(conflicts: int, rejected: int, key: str) -> list[tuple[str, SeverityLevel]]:
    """Notifications of ``conflicts`` and ``rejected`` changes (none for 0 or fewer)."""
    news: list[tuple[str, SeverityLevel]] = []
    if conflicts > 0:
        news.append(
            (
                f"{plural(conflicts, 'change')} of yours met a teammate's: "
                f"{key} to keep yours or take theirs",
                "warning",
            )
        )
    if rejected > 0:
        what = "change was" if rejected == 1 else "changes were"
        news.append((f"{rejected:,} {what} refused by the server: {key} to see why", "error"))
    return news


def describe_sync(state: SyncState, *, last_sync: bool = True) -> str:
    """``online · 3 pending · 1 conflict · synced 06-01 12:00``; "not syncing" when no
    sync daemon runs on the profile (see :attr:`SyncState.connection`). Without
    ``last_sync`` the time of the last sync is left out (a narrow screen)."""
    hint = state.current_hint
    parts = [f"{state.connection} ({hint})" if hint else state.connection]
    if state.pulling_again:  # a restored server: nothing is pushed until it ends
        parts.append("pulling again")
    elif state.pulling:
        parts.append("catching up")
    parts.append(f"{state.to_send:,} pending")  # those behind a conflict: its count says
    if state.conflicts:
        parts.append(plural(state.conflicts, "conflict"))
    if state.rejected:
        parts.append(f"{state.rejected:,} rejected")
    if last_sync:
        parts.append(f"synced {local_time(state.last_sync_at, short=True)}")
    return " · ".join(parts)
