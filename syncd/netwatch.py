"""Noticing that the network changed (Wi-Fi joined, a cable plugged, a VPN up) or that
the machine slept, so a daemon that is backing off after failures tries again at once
instead of after up to ``backoff_max`` seconds, and a request sent before (on a
connection that may have died) is sent again: a laptop back online syncs within seconds.

The machine's interface addresses are compared every few seconds (psutil: Linux, macOS,
Windows alike); any change counts. A sleep shows as the wall clock running ahead of the
monotonic one, which stands still while the machine sleeps (Linux, macOS).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

log = logging.getLogger("syncd")

#: How often the addresses are compared.
CHECK_EVERY_S = 2.0
#: The wall clock running this much further than the monotonic one between two looks
#: means the machine slept (NTP's adjustments are far smaller).
SLEPT_S = 5.0
NETWORK_CHANGED = "the network changed"
WOKE_UP = "the machine woke from sleep"


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
    """Call :meth:`check` often; ``on_change`` runs, with :data:`NETWORK_CHANGED` or
    :data:`WOKE_UP`, when the addresses differ from those of the last comparison (not at
    the first one) or the machine slept since."""

    def __init__(
        self,
        on_change: Callable[[str], object],
        addresses: Callable[[], Hashable] = interface_addresses,
        every: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.on_change = on_change
        self.addresses = addresses
        self.every = every
        self.clock = clock
        self.wall = wall
        self._last: Hashable | None = None
        self._due = 0.0
        self._offset: float | None = None  # wall - monotonic at the last look
        self._unreadable = False  # said once

    def check(self) -> bool:
        """Compare if it is time to; True when something changed (``on_change`` ran)."""
        now = self.clock()
        if now < self._due:
            return False
        self._due = now + self.every
        offset, self._offset = self._offset, self.wall() - now
        slept = offset is not None and self._offset - offset > SLEPT_S
        current = self._read()
        moved = None not in (current, self._last) and current != self._last
        if current is not None:
            self._last = current
        what = WOKE_UP if slept else NETWORK_CHANGED if moved else None
        if what is not None:
            self.on_change(what)
        return what is not None

    def _read(self) -> Hashable | None:
        try:
            return self.addresses()
        except Exception as err:  # noqa: BLE001 - a convenience: never worth stopping sync
            if not self._unreadable:
                log.warning("cannot read the network interfaces (%s); not watching them", err)
            self._unreadable = True
            return None
