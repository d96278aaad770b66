"""User names in every admin command: stripped and NFC the same way, one user per name
ignoring case, control characters refused as such; users added before keep working."""

from __future__ import annotations

import psycopg

from server.migrate import apply_migrations
from server.users import hash_token

from .test_admin_cli import cli, pipetrack


def _names(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [n for (n,) in conn.execute("SELECT name FROM users ORDER BY id")]


def _refused(run, says: str) -> None:
    assert run.exit_code == 2, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert says in line, line


def test_names_equal_ignoring_case_or_unicode_form_are_one_user(database_url):
    url = database_url
    for name in ("alice", "Zoë", " erin "):
        added = pipetrack("admin", "add-user", name, "--database-url", url)
        assert added.returncode == 0, added.stderr
    assert "user 'erin' added" in added.stderr

    _refused(
        cli("admin", "add-user", "Alice", "--database-url", url), "a user named 'alice' exists"
    )
    _refused(cli("admin", "add-user", "Zoe\u0308", "--database-url", url), "named 'Zoë' exists")
    _refused(cli("admin", "add-user", "ERIN", "--database-url", url), "a user named 'erin' exists")
    assert _names(url) == ["alice", "Zoë", "erin"]

    disabled = pipetrack("admin", "disable-user", " erin ", "--database-url", url)
    assert disabled.returncode == 0, disabled.stderr
    assert disabled.stderr.strip() == "user 'erin' disabled"
    again = cli("admin", "disable-user", "Erin", "--database-url", url)
    assert again.exit_code == 0 and again.stderr.strip() == "user 'erin' was already disabled"
    renewed = cli("admin", "new-token", "Zoe\u0308", "--database-url", url)
    assert renewed.exit_code == 0 and "user 'Zoë' has a new token" in renewed.stderr


def test_control_characters_are_refused_as_such(database_url):
    for name, says in (
        ("bo\x07b", "must not contain control characters"),
        ("bo\x00b", "must not contain control characters"),
        ("two words", "must not contain spaces"),
        ("zero\u200bwidth", "must contain only visible characters"),
    ):
        _refused(cli("admin", "add-user", name, "--database-url", database_url), says)
    apply_migrations(database_url)
    assert _names(database_url) == []


def test_users_that_differ_only_in_case_from_before_keep_working(database_url):
    """Added before names were compared: each is found by its own spelling; a spelling
    that could be either is refused, not guessed."""
    apply_migrations(database_url)
    with psycopg.connect(database_url) as conn:
        for name in ("Bob", "bob", "Zoe\u0308"):
            conn.execute(
                "INSERT INTO users (name, token_hash) VALUES (%s, %s)", (name, hash_token(name))
            )
    url = database_url
    assert cli("admin", "disable-user", "bob", "--database-url", url).exit_code == 0
    listed = cli("admin", "list-users", "--json", "--database-url", url)
    assert listed.exit_code == 0, listed.stderr
    assert '"name": "Bob"' in listed.stdout
    with psycopg.connect(url) as conn:
        states = dict(conn.execute("SELECT name, disabled FROM users").fetchall())
    assert states == {"Bob": False, "bob": True, "Zoe\u0308": False}
    _refused(
        cli("admin", "new-token", "BOB", "--database-url", url), "could be any of 'Bob', 'bob'"
    )
    renewed = cli("admin", "new-token", "Zoë", "--database-url", url)  # NFC finds it
    assert renewed.exit_code == 0, renewed.stderr
