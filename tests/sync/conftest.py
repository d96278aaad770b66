"""Fixtures of the sync tests: devices (profiles) A and B on one real server.

One server process on one fresh database serves the whole tests/sync package (a server
start costs seconds): ``server``, ``database_url`` and ``make_user`` here override the
per-test ones of tests/support. Tests stay independent by using their own users,
devices (device ids) and targets; a test that stops the server gets it back running
for the next one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.pg import PgCluster
from tests.support.server import ServerProcess
from tests.sync.faultproxy import FaultProxy
from tests.sync.synchelp import Device


@pytest.fixture(scope="package")
def shared_server(pg_cluster: PgCluster) -> Iterator[ServerProcess]:
    url = pg_cluster.create_database()
    try:
        with ServerProcess(url) as srv:
            yield srv
    finally:
        pg_cluster.drop_database(url)


@pytest.fixture
def server(shared_server: ServerProcess) -> ServerProcess:
    if not shared_server.running:  # a test stopped it and failed before restarting it
        shared_server.start()
    return shared_server


@pytest.fixture
def database_url(server: ServerProcess) -> str:
    return server.database_url


@pytest.fixture
def make_user(server: ServerProcess) -> Callable[[str], str]:
    """``make_user(name) -> token``; names are made unique on the shared database."""
    return lambda name: server.add_user(f"{name}-{uuid.uuid4().hex[:8]}")


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
