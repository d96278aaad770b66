"""What ``serve`` migrates: an empty database or an older pipetrack schema; never one
holding another application's tables, nor a schema newer than it knows (exit 2, one
line, nothing changed). The real command on a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg

from server.migrate import apply_migrations, migration_files
from tests.support.server import ServerProcess, free_port

from .test_admin_schema import _migrations, _tables

NOT_OURS = "not a pipetrack database: it holds other tables; give an empty database or pipetrack's"


def _serve_refused(url: str, says: str) -> None:
    """``pipetrack serve`` on ``url`` exits 2 at once with one line saying ``says``
    (before, it migrated and served: ended here after 30 s, a failure)."""
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pipetrack", "serve", "--host", "127.0.0.1",
             "--port", str(free_port()), "--database-url", url],
            capture_output=True, text=True, timeout=30, env=dict(os.environ),
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise AssertionError(f"serve started on a database it should refuse ({says})") from None
    assert run.returncode == 2, run.stderr
    assert run.stdout == ""
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("pipetrack: error: ") and says in line, line
    assert "Traceback" not in run.stderr


def _served(url: str, tmp_path) -> None:
    with ServerProcess(url, log_dir=tmp_path) as srv:
        assert srv.health() == 200


def test_serve_refuses_another_applications_tables_and_takes_the_database_emptied(
    database_url, tmp_path
):
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
    _serve_refused(database_url, f"database '{_dbname(database_url)}' is {NOT_OURS}")
    assert _tables(database_url) == ["orders"]

    # another tool's table of that name (Rails, Flyway-like) is not pipetrack's schema
    with psycopg.connect(database_url) as conn:
        conn.execute("DROP TABLE orders")
        conn.execute("CREATE TABLE schema_migrations (version varchar PRIMARY KEY)")
    _serve_refused(database_url, NOT_OURS)
    assert _tables(database_url) == ["schema_migrations"]

    # even with pipetrack's columns and numbered names: not the files pipetrack ships
    with psycopg.connect(database_url) as conn:
        conn.execute("DROP TABLE schema_migrations")
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (1, '0001_users.sql')")
    _serve_refused(database_url, NOT_OURS)
    assert _tables(database_url) == ["schema_migrations"]

    with psycopg.connect(database_url) as conn:
        conn.execute("DROP TABLE schema_migrations")
    _served(database_url, tmp_path)  # empty: migrated, as before
    assert _migrations(database_url) == [name for _, name, _ in migration_files()]


def test_serve_refuses_a_newer_schema_and_upgrades_an_older_one(database_url, tmp_path):
    apply_migrations(database_url, through=1)
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_from_the_future.sql')")
    _serve_refused(database_url, "newer pipetrack schema (migration 9999)")
    assert _migrations(database_url) == [migration_files()[0][1], "9999_from_the_future.sql"]

    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = 9999")
    _served(database_url, tmp_path)  # older: upgraded, as before
    assert _migrations(database_url) == [name for _, name, _ in migration_files()]


def _dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]
