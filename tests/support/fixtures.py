"""pytest fixtures of the shared test support (registered in tests/conftest.py).

- ``pg_cluster`` (session): the :class:`~tests.support.pg.PgCluster` of the run.
- ``database_url`` (function): URL of a fresh empty database, dropped afterwards.
- ``server`` (function): a started :class:`~tests.support.server.ServerProcess` on
  ``database_url``; stopped afterwards.
- ``make_user`` (function): ``make_user(name) -> token`` for a user of ``server``.

For a server shared by many tests (wider scope), see :func:`server_on_new_database`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def new_database(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh empty database for the ``with`` block; its URL."""
    url = pg_cluster.create_database()
    try:
        yield url
    finally:
        pg_cluster.drop_database(url)


@contextmanager
def server_on_new_database(pg_cluster: PgCluster, **options) -> Iterator[ServerProcess]:
    """A started server on a fresh database for the ``with`` block, e.g. in a
    package- or session-scoped fixture; ``options`` go to :class:`ServerProcess`."""
    with new_database(pg_cluster) as url, ServerProcess(url, **options) as srv:
        yield srv


@pytest.fixture
def database_url(pg_cluster: PgCluster) -> Iterator[str]:
    with new_database(pg_cluster) as url:
        yield url


@pytest.fixture
def server(database_url: str, tmp_path) -> Iterator[ServerProcess]:
    """Its log is kept in the test's tmp_path (``server.log_path``)."""
    with ServerProcess(database_url, log_dir=tmp_path) as srv:
        yield srv


@pytest.fixture
def make_user(server: ServerProcess) -> Callable[[str], str]:
    return server.add_user
