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


@pytest.fixture
def a(devices: Callable[[str], Device], server: ServerProcess, token: str) -> Device:
    device = devices("a")
    device.connect(server.url, token)
    return device


@pytest.fixture
def b(devices: Callable[[str], Device], server: ServerProcess, make_user) -> Device:
    device = devices("b")
    device.connect(server.url, make_user("bob"))
    return device


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[FaultProxy]:
    with FaultProxy(server.url) as p:
        yield p
