"""Server tests: one server for the tests that do not need a database of their own.

The function-scoped ``server`` / ``database_url`` / ``make_user`` fixtures come from
tests/support/fixtures.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.fixtures import server_on_new_database
from tests.support.pg import PgCluster
from tests.support.server import TLS, ServerProcess

from .client import Device


@pytest.fixture(scope="session")
def shared_server(pg_cluster: PgCluster, tmp_path_factory) -> Iterator[ServerProcess]:
    """One server (and database) shared by the server tests: use fresh uids and user
    names in each test, and cursors from the end (``test_pull.end_cursor``)."""
    log_dir = tmp_path_factory.mktemp("shared-server")
    with server_on_new_database(pg_cluster, log_dir=log_dir) as srv:
        yield srv


@pytest.fixture(scope="session")
def alice_token(shared_server: ServerProcess) -> str:
    return shared_server.add_user("alice")


@pytest.fixture(scope="session")
def bob_token(shared_server: ServerProcess) -> str:
    return shared_server.add_user("bob")


@pytest.fixture
def device_a(shared_server: ServerProcess, alice_token: str) -> Iterator[Device]:
    with Device(shared_server, alice_token, "device-a") as device:
        yield device


@pytest.fixture
def device_b(shared_server: ServerProcess, bob_token: str) -> Iterator[Device]:
    with Device(shared_server, bob_token, "device-b") as device:
        yield device


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client without a token (one for all: making one costs ~50 ms CPU)."""
    with httpx.Client(timeout=30, verify=TLS) as client:
        yield client
