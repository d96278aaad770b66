"""Noticing that the network changed (Wi-Fi joined, a cable plugged, a VPN up), so a
daemon that is backing off after failures tries again at once instead of after up to
``backoff_max`` seconds: a laptop back online syncs within seconds.

The machine's interface addresses are compared every few seconds (psutil: Linux, macOS,
Windows alike); any change counts. A change while online only makes the next failure, if
any, retry at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

log = logging.getLogger("syncd")

#: How often the addresses are compared.
CHECK_EVERY_S = 2.0


def interface_addresses() -> frozenset[tuple[str, str]]:
    """(interface, address) of every interface that is up."""
    import psutil  # the daemon only

    up = {name for name, stats in psutil.net_if_stats().items() if stats.isup}
    return frozenset(
        (name, entry.address)
        for name, entries in psutil.net_if_addrs().items()
        if name in up
        for entry in entries
    )


class NetworkWatch:
    """Call :meth:`check` often; ``on_change`` runs when the addresses differ from those
    of the last comparison (not at the first one)."""

    def __init__(
        self,
        on_change: Callable[[], object],
        addresses: Callable[[], Hashable] = interface_addresses,
        every: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_change = on_change
        self.addresses = addresses
        self.every = every
        self.clock = clock
        self._last: Hashable | None = None
        self._due = 0.0
        self._unreadable = False  # said once

    def check(self) -> bool:
        """Compare if it is time to; True when the network changed (``on_change`` ran)."""
        now = self.clock()
        if now < self._due:
            return False
        self._due = now + self.every
        try:
            current = self.addresses()
        except Exception as err:  # noqa: BLE001 - a convenience: never worth stopping sync
            if not self._unreadable:
                log.warning("cannot read the network interfaces (%s); not watching them", err)
            self._unreadable = True
            return False
        changed = self._last is not None and current != self._last
        self._last = current
        if changed:
            self.on_change()
        return changed
