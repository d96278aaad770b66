"""Test support shared by every part's tests: a real PostgreSQL and a real server.

- :mod:`tests.support.pg` — :class:`PgCluster`: one PostgreSQL per test session
  (``PIPETRACK_TEST_DATABASE_URL`` if set, else an embedded pgserver in a temp dir),
  a fresh database per test, stop/start of the embedded PostgreSQL.
- :mod:`tests.support.server` — :class:`ServerProcess`: a real ``pipetrack serve``
  (uvicorn) process on a free loopback port.
- :mod:`tests.support.fixtures` — the pytest fixtures ``pg_cluster``, ``database_url``,
  ``server`` and ``make_user`` (registered for all tests by tests/conftest.py).
"""
