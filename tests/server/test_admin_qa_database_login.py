"""A database URL whose login PostgreSQL refuses (a wrong password, none given where one
is needed, a database or a user that does not exist) is a configuration error, like a
URL that is not one: ``serve`` (and an admin command) exits 2 in one line saying what to
fix, without the password, so systemd (RestartPreventExitStatus=2) does not restart it
every 5 s forever. Before: exit 1 and libpq's raw text. A database that is down still
exits 1 (systemd tries again).

A PostgreSQL of this module's own checks passwords (the session's trusts every login)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from server.db import redact
from server.embedded import EmbeddedPostgres
from tests.support.pg import PgCluster, with_database
from tests.support.server import free_port

from .test_admin_cli import pipetrack

USER = "qa_pw_user"
PASSWORD = "Right" + uuid.uuid4().hex[:10]
WRONG = "Wrong" + uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[str]:
    """The socket directory of a PostgreSQL that wants ``USER``'s password (scram)."""
    data_dir = Path(tempfile.mkdtemp(prefix="pipetrack-qa-pw-"))
    embedded = EmbeddedPostgres(data_dir, delete_on_close=True)
    try:
        admin = embedded.url()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(USER), sql.Literal(PASSWORD)
                )
            )
            conn.execute(sql.SQL("CREATE DATABASE qa_pw OWNER {}").format(sql.Identifier(USER)))
            hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
            hba.write_text("local all postgres trust\nlocal all all scram-sha-256\n")
            conn.execute("SELECT pg_reload_conf()")
        yield admin.split("host=", 1)[1]
    finally:
        embedded.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _url(socket_dir: str, password: str | None = None, dbname: str = "qa_pw") -> str:
    auth = f"{USER}:{password}" if password else USER
    return f"postgresql://{auth}@/{dbname}?host={socket_dir}"


def _refused(url: str, code: int) -> list[str]:
    """``serve`` (by PIPETRACK_DATABASE_URL, as the systemd unit gives it) and an admin
    command (by --database-url): exit ``code``, one line each, no password."""
    lines = []
    for args, env in (
        (("serve", "--port", str(free_port())), {"PIPETRACK_DATABASE_URL": url}),
        (("admin", "list-users", "--database-url", url), {}),
    ):
        run = pipetrack(*args, env=env)
        assert run.returncode == code, (args, run.returncode, run.stderr)
        assert run.stdout == "" and "Traceback" not in run.stderr, run.stderr
        assert PASSWORD not in run.stderr and WRONG not in run.stderr, run.stderr
        [line] = run.stderr.strip().splitlines()
        lines.append(line)
    assert lines[0] == lines[1], lines
    return lines


def test_the_right_password_is_let_in(socket_dir):
    with psycopg.connect(_url(socket_dir, PASSWORD)) as conn:
        assert conn.info.user == USER


def test_a_wrong_password_exits_2_saying_to_check_it(socket_dir):
    url = _url(socket_dir, WRONG)
    [line, _] = _refused(url, 2)
    assert line == (
        f"pipetrack: error: cannot use {redact(url)}: wrong password for user '{USER}', or"
        " no such user: check the user name and the password in the database URL"
        " (--database-url or PIPETRACK_DATABASE_URL)"
    )


@pytest.mark.parametrize("wrong", ["database", "t", USER])
def test_a_wrong_password_that_is_a_word_of_the_line_leaves_the_line_whole(socket_dir, wrong):
    """Every copy of the password in the line was replaced by *** after it was written:
    "user 'pipe***rack'", "the *** URL (--***-url", which garbled it and told the
    password. The line is written without it."""
    url = _url(socket_dir, wrong)
    run = pipetrack("admin", "list-users", "--database-url", url)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip() == (
        f"pipetrack: error: cannot use {redact(url)}: wrong password for user '{USER}', or"
        " no such user: check the user name and the password in the database URL"
        " (--database-url or PIPETRACK_DATABASE_URL)"
    )


@pytest.mark.parametrize("password", ["connection", "refused", "127.0.0.1"])
def test_a_database_that_is_down_is_told_whole_whatever_the_password(password):
    """libpq's own line hid every copy of the password: "*** failed: *** to server at",
    "Connection ***", "at \"***\"": garbled, and telling the password."""
    url = f"postgresql://pipetrack:{password}@127.0.0.1:{free_port()}/pipetrack"
    run = pipetrack("admin", "list-users", "--database-url", url)
    assert run.returncode == 1, run.stderr
    [line] = run.stderr.strip().splitlines()
    said = 'connection failed: connection to server at "127.0.0.1", port '
    assert line.startswith(f"pipetrack: error: cannot use {redact(url)}: {said}"), line
    assert "Connection refused" in line and "***" not in line, line


def test_a_user_a_password_checking_postgresql_does_not_have_is_not_only_a_password(
    socket_dir,
):
    """PostgreSQL answers an unknown user as a wrong password (it does not tell who
    exists): the line said only "wrong password", blaming what may be right."""
    url = _url(socket_dir, PASSWORD).replace(f"{USER}:", "qa_nosuchuser:", 1)
    assert "qa_nosuchuser" in url
    [line, _] = _refused(url, 2)
    assert "wrong password for user 'qa_nosuchuser', or no such user: check the user" in line


def test_no_password_where_one_is_needed_exits_2_saying_to_add_it(socket_dir, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(Path(tempfile.gettempdir()) / "no-such-pgpass"))
    url = _url(socket_dir)
    [line, _] = _refused(url, 2)
    assert line == (
        f"pipetrack: error: cannot use {redact(url)}: user '{USER}' needs a password and"
        " the database URL (--database-url or PIPETRACK_DATABASE_URL) gives none: add it to"
        f" the URL (postgresql://{USER}:PASSWORD@HOST/DATABASE)"
    )


def test_a_database_that_does_not_exist_exits_2_saying_to_create_it(socket_dir):
    url = _url(socket_dir, PASSWORD, dbname="nosuchdb")
    [line, _] = _refused(url, 2)
    assert line == (
        f"pipetrack: error: cannot use {redact(url)}: database 'nosuchdb' does not exist:"
        f" create it (e.g. `createdb -O {USER} nosuchdb`) or fix the database name in the"
        " database URL (--database-url or PIPETRACK_DATABASE_URL)"
    )


def test_a_user_that_does_not_exist_exits_2(pg_cluster: PgCluster):
    """(A PostgreSQL that trusts logins says so; one that checks passwords says the
    password is wrong, not to tell who exists.)"""
    url = with_database(pg_cluster.admin_url, "postgres")
    url = url.replace("postgres:@", "qa_nobody:@", 1).replace("postgres@", "qa_nobody@", 1)
    if "qa_nobody" not in url:
        pytest.skip("the test PostgreSQL's URL names no user to replace")
    [line, _] = _refused(url, 2)
    assert line.endswith(
        ": user 'qa_nobody' does not exist: create it (e.g. `createuser --pwprompt qa_nobody`)"
        " or fix the user name in the database URL (--database-url or PIPETRACK_DATABASE_URL)"
    ), line


def test_a_database_that_is_down_still_exits_1(socket_dir):
    """Nothing listens there: systemd must try again (the database may come up)."""
    url = f"postgresql://{USER}:{WRONG}@127.0.0.1:1/qa_pw"
    [line, _] = _refused(url, 1)
    assert line.startswith(f"pipetrack: error: cannot use {redact(url)}: ") and "127.0.0.1" in line
