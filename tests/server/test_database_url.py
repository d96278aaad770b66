"""A malformed database URL: one line without its password, exit 2 (a bad option, which
the systemd unit does not restart on), for ``serve`` and every admin command."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from server.db import redact

from .test_admin_cli import ADMIN_COMMANDS, pipetrack

MALFORMED = {
    "mysql://u:SECRETPW@h/db": "cannot use 'mysql://u@h/db': not a postgresql:// URL",
    "u:SECRETPW@h/db": "cannot use 'u@h/db': not a postgresql:// URL",
    "postgresql://u:SECRETPW@127.0.0.1:notaport/db": "port 'notaport' is not a port number",
    "postgresql://u:SECRETPW@h/db?badopt=1": 'invalid URI query parameter: "badopt"',
    "host=h password=SECRETPW bad=1": 'invalid connection option "bad"',
    # libpq reads this one only when it connects
    "postgresql://u:SECRETPW@127.0.0.1:1/db?sslmode=bogus": 'invalid sslmode value: "bogus"',
    # psycopg reads connect_timeout before libpq (it raised ProgrammingError: a traceback)
    "postgresql://u:SECRETPW@h/db?connect_timeout=abc": (
        "connect_timeout 'abc' is not a number of seconds"
    ),
    "host=h password=SECRETPW connect_timeout=1.5x": (
        "connect_timeout '1.5x' is not a number of seconds"
    ),
    # other secrets than the password: sslpassword (its value in the error before)
    "postgresql://u@h/db?sslpassword=SECRETPW&port=abc": (
        "cannot use 'postgresql://u@h/db?sslpassword=***&port=abc': port 'abc' is not a port"
    ),
    "host=h sslpassword=SECRETPW port=abc": "port=abc sslpassword=***': port 'abc'",
}
COMMANDS = (("serve", "--port", "1"), *ADMIN_COMMANDS)  # the URL is checked before the port


@pytest.mark.parametrize("n, url", list(enumerate(MALFORMED)))
def test_a_malformed_database_url_is_one_line_without_its_password_exit_2(n, url, tmp_path):
    """``serve`` with each URL, given as the option; one admin command each (every one
    in turn), given as the environment variable the systemd unit sets."""
    admin = COMMANDS[1:][n % len(COMMANDS[1:])]
    for args, env in ((("serve", "--port", "1", "--database-url", url), {}),
                      (admin, {"PIPETRACK_DATABASE_URL": url})):  # fmt: skip
        run = pipetrack(*args, env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), **env})
        assert run.returncode == 2, (args, run.stderr)
        assert run.stdout == "" and "SECRETPW" not in run.stderr, run.stderr
        [line] = run.stderr.strip().splitlines()
        assert line.startswith("pipetrack: error: cannot use ") and MALFORMED[url] in line, line
    assert list(tmp_path.iterdir()) == []  # the default data dir is not touched


def test_redact_never_fails_nor_shows_the_password():
    for url in (
        *MALFORMED,
        "postgresql://u:SECRETPW@[::1/db",
        "postgresql://u@h/db?password=SECRETPW",
        "postgresql://u@h/db?sslpassword=SECRETPW&Password=SECRETPW&x=1",
        "host=h sslpassword='SECRETPW' bad=1",
        "postgresql://u@[::1/db?sslpassword=SECRETPW",
    ):
        assert "SECRETPW" not in redact(url), url
    assert (
        redact("postgresql://u:pw@h/db?sslpassword=SECRETPW&password=SECRETPW&port=5")
        == "postgresql://u@h/db?sslpassword=***&password=***&port=5"
    )
    assert redact("host=h sslpassword=SECRETPW") == "host=h sslpassword=***"


def test_the_systemd_unit_does_not_restart_on_a_bad_option():
    unit = (Path(__file__).parents[2] / "docs" / "pipetrack-server.service").read_text()
    assert "Restart=on-failure" in unit.splitlines()
    assert "RestartPreventExitStatus=2" in unit.splitlines()


def test_a_data_dir_given_beside_a_database_url_is_refused(database_url, tmp_path):
    """An exported PIPETRACK_DATABASE_URL (as the README has admins do) silently won over
    an explicit --data-dir: ``add-user x --data-dir /tmp/try`` added the user to the
    production database. Refused, exit 2, one line naming where the URL came from;
    nothing touched. The URL alone still works (the default data dir is not in the way)."""
    try_dir = tmp_path / "try"
    env = {"PIPETRACK_DATABASE_URL": database_url}
    for args in (
        ("admin", "add-user", "xavier"),
        ("admin", "reset-cursors"),
        ("serve", "--port", "1"),
    ):
        run = pipetrack(*args, "--data-dir", str(try_dir), env=env)
        assert run.returncode == 2, (args, run.stderr)
        assert run.stdout == ""
        assert run.stderr.strip().splitlines() == [
            "pipetrack: error: PIPETRACK_DATABASE_URL is set: give --database-url or"
            " --data-dir, not both (unset it to use the data dir)"
        ], run.stderr
        both = pipetrack(*args, "--data-dir", str(try_dir), "--database-url", database_url)
        assert both.returncode == 2, (args, both.stderr)
        assert both.stderr.strip().splitlines() == [
            "pipetrack: error: --database-url and --data-dir given: give one of them, not both"
        ], both.stderr
    assert not try_dir.exists()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('users')").fetchone()[0] is None
    added = pipetrack("admin", "add-user", "xavier", env=env)
    assert added.returncode == 0, added.stderr
