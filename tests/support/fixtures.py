"""pytest fixtures of the shared test support (registered in tests/conftest.py).

- ``pg_cluster`` (session): the :class:`~tests.support.pg.PgCluster` of the run.
- ``database_url`` (function): URL of a fresh empty database, dropped afterwards.
- ``server`` (function): a started :class:`~tests.support.server.ServerProcess` on
  ``database_url``; stopped afterwards.
- ``make_user`` (function): ``make_user(name) -> token`` for a user of ``server``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .pg import PgCluster
from .server import ServerProcess


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster.start()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def database_url(pg_cluster: PgCluster) -> Iterator[str]:
    url = pg_cluster.create_database()
    try:
        yield url
    finally:
        pg_cluster.drop_database(url)


@pytest.fixture
def server(database_url: str) -> Iterator[ServerProcess]:
    with ServerProcess(database_url) as srv:
        yield srv


@pytest.fixture
def make_user(server: ServerProcess) -> Callable[[str], str]:
    return server.add_user
