"""A database pipetrack may not write to as it must: a user without CREATE on schema
public (PostgreSQL 15+'s default for every user but the owner), a read-only database.
One line saying what to do, exit 1 (the database cannot be used as it is), no password;
before, a 50-line traceback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from server.migrate import apply_migrations
from server.users import add_user
from tests.support.server import ServerProcess, free_port

from .client import Device, create
from .test_admin_cli import pipetrack

PASSWORD = "LIMPW" + uuid.uuid4().hex[:8]
COMMANDS = (
    ("serve", "--port"),  # a free port is added
    ("admin", "add-user", "rita"),
    ("admin", "disable-user", "quinn"),
    ("admin", "reset-cursors"),
)


def _run(args: tuple[str, ...], url: str):
    if args[0] == "serve":
        args = (*args, str(free_port()))
    return pipetrack(*args, env={"PIPETRACK_DATABASE_URL": url})


def _one_line(run) -> str:
    assert run.stdout == "" and PASSWORD not in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    [line] = run.stderr.strip().splitlines()
    return line


@pytest.fixture
def limited(database_url: str) -> Iterator[tuple[str, str]]:
    """A login role that owns nothing, and its URL to the test's database."""
    role = f"limited_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(PASSWORD)
            )
        )
    try:
        yield role, make_conninfo(database_url, user=role, password=PASSWORD)
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_user_that_may_not_create_tables_is_told_what_to_grant(database_url, limited):
    role, url = limited
    dbname = conninfo_to_dict(database_url)["dbname"]
    for args in COMMANDS[:2]:  # an empty database: the schema cannot be made
        run = _run(args, url)
        assert run.returncode == 1, (args, run.stderr)
        assert _one_line(run) == (
            f"pipetrack: error: user {role!r} may not create tables in database {dbname!r}"
            " (permission denied for schema public): grant it CREATE on schema public, or"
            " give the database's owner"
        )
    apply_migrations(database_url)  # the owner made the schema: still not the user's
    add_user(database_url, "quinn")
    for args in COMMANDS[2:]:
        run = _run(args, url)
        assert run.returncode == 1, (args, run.stderr)
        line = _one_line(run)
        assert line.startswith(f"pipetrack: error: user {role!r} may not ") and (
            "the database's owner" in line
        ), line


def test_a_role_granted_only_the_rows_serves_a_current_schema(database_url, limited, tmp_path):
    """Least privilege: the owner makes the schema, the server's role may read and write
    rows but not create tables. Before, ``serve`` asked for CREATE all the same."""
    role, url = limited
    apply_migrations(database_url)
    token = add_user(database_url, "quinn")
    grants = (
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}",
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        for grant in grants:
            conn.execute(sql.SQL(grant).format(sql.Identifier(role)))
    with ServerProcess(url, log_dir=tmp_path) as srv, Device(srv, token) as device:
        assert srv.health() == 200
        assert device.push_one(create(name="Least Privilege Ltd"))["outcome"] == "applied"
        assert [t["name"] for t in device.pull()["targets"]] == ["Least Privilege Ltd"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM targets").fetchone()[0] == 1


def test_a_role_missing_some_rights_is_told_the_grants_then_serves(database_url, limited, tmp_path):
    """Rows granted but not the sequences (nor INSERT on the audit): ``serve`` refuses at
    start with the GRANTs to run, and serves once the owner runs them as printed. Before,
    it started and answered every push that creates a target with a 500."""
    role, url = limited
    apply_migrations(database_url)
    token = add_user(database_url, "quinn")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {}").format(
                sql.Identifier(role)
            )
        )
        conn.execute(sql.SQL("REVOKE INSERT ON audit_log FROM {}").format(sql.Identifier(role)))
    run = _run(COMMANDS[0], url)
    assert run.returncode == 1, run.stderr
    line = _one_line(run)
    dbname = conninfo_to_dict(database_url)["dbname"]
    prefix = (
        f"pipetrack: error: user {role!r} lacks rights the server uses in database"
        f" {dbname!r}: as the tables' owner, run "
    )
    assert line.startswith(prefix), line
    grants = line.removeprefix(prefix).split("; ")
    assert grants == [
        f'GRANT INSERT ON audit_log TO "{role}"',
        "GRANT USAGE ON SEQUENCE public.audit_log_id_seq, public.targets_id_seq,"
        f' public.users_id_seq TO "{role}"',
    ]
    with psycopg.connect(database_url, autocommit=True) as conn:
        for grant in grants:
            conn.execute(grant.encode())
    with ServerProcess(url, log_dir=tmp_path) as srv, Device(srv, token) as device:
        assert device.push_one(create(name="Granted Ltd"))["outcome"] == "applied"


def test_a_read_only_database_says_give_the_primary(database_url):
    dbname = conninfo_to_dict(database_url)["dbname"]
    apply_migrations(database_url)
    add_user(database_url, "quinn")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(
                sql.Identifier(dbname)
            )
        )
    for args in COMMANDS:
        run = _run(args, database_url)
        assert run.returncode == 1, (args, run.stderr)
        assert _one_line(run).startswith(
            f"pipetrack: error: database {dbname!r} is read-only (a standby?"
        ), run.stderr
