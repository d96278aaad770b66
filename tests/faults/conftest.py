"""The fault and attack suite (issue 7): sizes, figures, and the fixtures its tests share.

``PIPETRACK_FAULTS=long`` (``make faults``) runs every test at full size; without it
(``make test``) the same tests run small. Each test reports its figures through the
``figures`` fixture; tests/support/figures.py prints them one line per test at the end of
the session (whether or not ``-s`` is given, with or without xdist) and keeps them in the
pytest cache under ``faults/figures``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.figures import PROPERTY as _PROPERTY
from tests.support.fixtures import server_on_new_database
from tests.support.pg import PgCluster
from tests.support.server import ServerProcess
from tests.sync.conftest import devices, token

from .harness import Team

FAULTS_ENV = "PIPETRACK_FAULTS"
LONG = os.environ.get(FAULTS_ENV, "").strip().lower() == "long"


@dataclass(frozen=True)
class Sizes:
    """How much each test does, short (``make test``) or long (``make faults``)."""

    long: bool
    daemon_kill_rounds: int
    api_kill_rounds: int
    pg_outage_s: float
    proxy_rounds: int
    shared_writers_s: float
    model_examples: int
    model_steps: int
    schema_examples: int


SHORT_SIZES = Sizes(
    long=False,
    daemon_kill_rounds=10,
    api_kill_rounds=10,
    pg_outage_s=5.0,
    proxy_rounds=12,
    shared_writers_s=10.0,
    model_examples=10,
    model_steps=30,
    schema_examples=15,
)
LONG_SIZES = Sizes(
    long=True,
    daemon_kill_rounds=60,
    api_kill_rounds=50,
    pg_outage_s=30.0,
    proxy_rounds=80,
    shared_writers_s=60.0,
    model_examples=60,
    model_steps=60,
    schema_examples=150,
)


@pytest.fixture(scope="session")
def sizes() -> Sizes:
    return LONG_SIZES if LONG else SHORT_SIZES


# ---- figures (printed by the root plugin tests/support/figures.py) ----------------------------
class Figures(dict):
    """What a test measured; ``figures.add("changes", 3)`` counts up."""

    def add(self, key: str, n: int = 1) -> None:
        self[key] = self.get(key, 0) + n


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    found = Figures()
    started = time.monotonic()
    yield found
    found["seconds"] = round(time.monotonic() - started, 1)
    # carried by the test's teardown report, so it also reaches the controller under xdist
    request.node.user_properties.append((_PROPERTY, dict(found)))


# ---- devices: ``devices(name)`` and ``token`` (alice's) come from the sync tests' fixtures
__all__ = ["devices", "token"]


@pytest.fixture(scope="module")
def shared_server(pg_cluster: PgCluster, tmp_path_factory) -> Iterator[ServerProcess]:
    """One server for a whole module whose tests use fresh uids (bad-input tests)."""
    log_dir = tmp_path_factory.mktemp("shared-server")
    with server_on_new_database(pg_cluster, log_dir=log_dir) as srv:
        yield srv


@pytest.fixture(scope="module")
def alice_token(shared_server: ServerProcess) -> str:
    return shared_server.add_user("alice")


@pytest.fixture
def team(devices, token: str, make_user) -> Team:
    """Devices A (alice) and B (bob), not yet connected to a server."""
    return Team(devices("a"), devices("b"), (token, make_user("bob")))
