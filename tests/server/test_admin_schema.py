"""What admin commands may do to the schema of the database they are given: the read-only
ones nothing, none makes pipetrack's tables beside another application's, and none
works on a schema newer than it knows."""

from __future__ import annotations

import psycopg

from server.migrate import NOT_PIPETRACKS, apply_migrations, migration_files

from .test_admin_cli import ADMIN_COMMANDS, cli, pipetrack

COMMANDS = ADMIN_COMMANDS
READ_ONLY = (("admin", "list-users"), ("admin", "stats", "--json"))


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [name for (name,) in rows]


def _migrations(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [n for (n,) in conn.execute("SELECT name FROM schema_migrations ORDER BY 1")]


def _refused(run, says: str) -> None:
    code = run.returncode if hasattr(run, "returncode") else run.exit_code
    assert code == 2, run.stderr
    assert run.stdout == ""
    [line] = run.stderr.strip().splitlines()
    assert line.startswith("pipetrack: error: ") and says in line, line


def test_no_admin_command_makes_pipetrack_tables_beside_another_applications(database_url):
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY)")
        # another tool's table of the same name (Rails, Flyway-like): not ours
        conn.execute("CREATE TABLE schema_migrations (version varchar PRIMARY KEY)")
    for args in COMMANDS:  # each says so as serve does (not "it has no pipetrack schema;
        # `pipetrack serve` makes one": serve refuses it)
        _refused(pipetrack(*args, "--database-url", database_url), f"is {NOT_PIPETRACKS}")
    assert _tables(database_url) == ["orders", "schema_migrations"]


def test_read_only_commands_never_change_the_schema(database_url):
    """An empty database: list-users and stats refuse it (and so do the commands on a
    user), add-user makes the schema (the README's order: add-user, then serve)."""
    for args in (*READ_ONLY, ("admin", "disable-user", "x"), ("admin", "reset-cursors")):
        _refused(cli(*args, "--database-url", database_url), "is not a pipetrack database")
    assert _tables(database_url) == []

    added = cli("admin", "add-user", "ann", "--database-url", database_url)
    assert added.exit_code == 0, added.stderr
    assert _migrations(database_url) == [name for _, name, _ in migration_files()]
    assert cli("admin", "list-users", "--database-url", database_url).exit_code == 0

    # a schema older than this pipetrack's: the read-only commands leave it so
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version > 2")
        conn.execute("ALTER TABLE users DROP COLUMN last_seen_at")  # what 0003 adds
        conn.execute("DROP TABLE replaced_tokens")  # and 0004
    for args in READ_ONLY:
        _refused(cli(*args, "--database-url", database_url), "older pipetrack schema")
    assert len(_migrations(database_url)) == 2


def test_a_schema_newer_than_this_pipetrack_is_refused(database_url):
    apply_migrations(database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_x.sql')")
    for args in COMMANDS:
        run = cli(*args, "--database-url", database_url)
        _refused(run, "newer pipetrack schema (migration 9999)")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
