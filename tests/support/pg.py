"""One PostgreSQL per test session, a fresh empty database per test.

``PIPETRACK_TEST_DATABASE_URL`` (a URL whose user may CREATE DATABASE) selects an
existing PostgreSQL; otherwise one embedded PostgreSQL 16 (pgserver) is started in a
temporary directory for the session and deleted at its end. Only the embedded one can
be stopped and started by tests (``cluster.restartable``).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from server.embedded import EmbeddedPostgres

TEST_DATABASE_URL_ENV = "PIPETRACK_TEST_DATABASE_URL"


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` instead (URL or conninfo form)."""
    if "://" in url:
        return urlunsplit(urlsplit(url)._replace(path="/" + dbname))
    return make_conninfo(url, dbname=dbname)


class PgCluster:
    """A running PostgreSQL that tests create their databases in."""

    def __init__(self, admin_url: str, embedded: EmbeddedPostgres | None = None) -> None:
        self.admin_url = admin_url
        self._embedded = embedded

    @classmethod
    def start(cls) -> PgCluster:
        url = os.environ.get(TEST_DATABASE_URL_ENV)
        if url:
            return cls(url)
        data_dir = Path(tempfile.mkdtemp(prefix="pipetrack-pg-"))
        embedded = EmbeddedPostgres(data_dir, delete_on_close=True)
        return cls(embedded.url(), embedded)

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"test_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return with_database(self.admin_url, name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database` (its sessions are ended)."""
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def copy_database(self, source_url: str, name: str) -> str:
        """``CREATE DATABASE name TEMPLATE source`` (a backup, or a restore of one: a new
        database, as ``pg_restore`` makes), replacing any database of that name; its URL.
        Nothing may be connected to the source."""
        target = with_database(self.admin_url, name)
        self.drop_database(target)
        source = psycopg.conninfo.conninfo_to_dict(source_url)["dbname"]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(source)
                )
            )
        return target

    @property
    def restartable(self) -> bool:
        return self._embedded is not None

    def stop(self) -> None:
        """Stop PostgreSQL (fast shutdown); embedded only."""
        self._require_embedded().stop_postgres()

    def start_again(self) -> None:
        """Start PostgreSQL after :meth:`stop`, at the same URL; embedded only."""
        self._require_embedded().start_postgres()

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """PostgreSQL down for the ``with`` block, up again after it (even on failure)."""
        self.stop()
        try:
            yield
        finally:
            self.start_again()

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.close()

    def _require_embedded(self) -> EmbeddedPostgres:
        if self._embedded is None:
            raise RuntimeError(
                f"only the embedded PostgreSQL can be stopped, not {TEST_DATABASE_URL_ENV}"
            )
        return self._embedded
