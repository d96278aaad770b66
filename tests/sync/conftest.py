"""Fixtures of the sync tests: devices A and B (two profiles) on one real server.

``server`` / ``make_user`` / ``database_url`` come from tests/support (a real uvicorn
process on an embedded PostgreSQL, a fresh database per test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.server import ServerProcess
from tests.sync.faultproxy import FaultProxy
from tests.sync.synchelp import Device


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Callable[[str], Device]]:
    """``devices(name)``: a new, empty device (profile directory); its daemons are
    killed at the end of the test."""
    made: list[Device] = []

    def make(name: str) -> Device:
        device = Device(name, tmp_path / name)
        device.profile.ensure()
        made.append(device)
        return device

    yield make
    for device in made:
        for daemon in device.daemons:
            daemon.cleanup()


@pytest.fixture
def token(make_user: Callable[[str], str]) -> str:
    return make_user("alice")


def _connected(device: Device, url: str, token: str) -> Iterator[Device]:
    device.connect(url, token)
    yield device
    # before the server stops: a long-poll in flight would hold up its graceful stop
    for daemon in device.daemons:
        daemon.cleanup()


@pytest.fixture
def a(devices: Callable[[str], Device], server: ServerProcess, token: str) -> Iterator[Device]:
    yield from _connected(devices("a"), server.url, token)


@pytest.fixture
def b(devices: Callable[[str], Device], server: ServerProcess, make_user) -> Iterator[Device]:
    yield from _connected(devices("b"), server.url, make_user("bob"))


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[FaultProxy]:
    with FaultProxy(server.url) as p:
        yield p
