"""Running devices through faults: random seeds, daemons, settling, the final checks."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.support.server import ServerProcess
from tests.sync.synchelp import DaemonProcess, Device

from .central import audit_rows, server_errors
from .ledger import Ledger, RandomUser, check_device, wait_converged

if TYPE_CHECKING:
    from .conftest import Figures

DAEMON_UP = r"syncing .* with "


def seeded(figures: Figures) -> random.Random:
    """A random generator whose seed is reported with the figures (to replay a failure)."""
    seed = random.randrange(2**32)
    figures["seed"] = seed
    return random.Random(seed)


def start_daemon(device: Device, **env: str) -> DaemonProcess:
    """``pipetrack sync`` for the device, once it has started syncing."""
    daemon = device.start_daemon(**env)
    daemon.wait_log(DAEMON_UP, timeout=30)
    return daemon


def answered_but_pending(device: Device, database_url: str) -> int:
    """Changes the server applied whose answer the device never recorded (lost responses)."""
    with device.store() as store:
        pending = {str(c.change_id) for c in store.take_batch(10_000)}
        on_server = {r.change_id for r in audit_rows(database_url, store.device_id)}
    return len(pending & on_server)


Fleet = Sequence[tuple[Device, Ledger]]


def settle(fleet: Fleet, server: ServerProcess, daemons: Sequence[DaemonProcess] = ()) -> None:
    """Sync every device to quiescence with its daemon (started here unless given), then
    stop the daemons cleanly."""
    if not daemons:
        daemons = [start_daemon(device) for device, _ in fleet]
    for daemon in daemons:
        assert daemon.proc.poll() is None, f"a daemon died:\n{daemon.log()[-2000:]}"
    for device, _ in fleet:
        wait_converged(device, server.database_url, timeout=120)
    for daemon in daemons:
        assert daemon.terminate() == 0, daemon.log()[-2000:]


def check_fleet(fleet: Fleet, server: ServerProcess, figures: Figures) -> None:
    """After quiescence: nothing lost, nothing twice, every device equals the server, and
    the server answered no request with an internal error."""
    problems: list[str] = []
    for device, ledger in fleet:
        found = check_device(device, ledger, server.database_url)
        figures.add("lost", found.lost)
        figures.add("duplicated", found.duplicated)
        problems += found.problems
    internal, unavailable = server_errors(server.log_text())
    figures["server_errors"] = internal
    figures["unavailable_503"] = unavailable
    assert not problems, "\n".join(problems[:20])
    assert (figures["lost"], figures["duplicated"]) == (0, 0)
    assert internal == 0, server.log_text()[-4000:]


@dataclass
class Team:
    """Two devices of two users (alice on A, bob on B) on one server."""

    a: Device
    b: Device
    tokens: tuple[str, str]

    @property
    def devices(self) -> tuple[Device, Device]:
        return (self.a, self.b)

    def connect(self, url: str) -> None:
        for device, token in zip(self.devices, self.tokens, strict=True):
            device.connect(url, token)

    @contextmanager
    def users(self, rng: random.Random) -> Iterator[list[RandomUser]]:
        """A random user on each device (each on its own open store), A's first."""
        with self.a.store() as store_a, self.b.store() as store_b:
            yield [RandomUser(store_a, rng, "A"), RandomUser(store_b, rng, "B")]

    def fleet(self, users: Sequence[RandomUser]) -> list[tuple[Device, Ledger]]:
        return [(d, u.ledger) for d, u in zip(self.devices, users, strict=True)]
