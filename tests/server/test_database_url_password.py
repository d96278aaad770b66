"""A database URL whose password holds a character URLs reserve: never shown, in the
one-line error of ``serve`` or an admin command.

libpq reads a URL's user info up to its first ``@`` (before any ``/``): a ``#`` or a
``?`` in the password is read as part of it (and works), but an ``@`` or a ``/`` makes
libpq take the rest of the password as the host or the database, so such a URL is
refused (exit 2) with the hint to percent-encode them, without the password."""

from __future__ import annotations

import pytest

from server.db import hide_secrets, redact, secrets_of
from tests.support.server import free_port

from .test_admin_cli import pipetrack

# libpq reads these passwords whole; nothing listens on port 1: exit 1, not the password
READ_WHOLE = (
    "postgresql://pipetrack:Sup3r#Secret@127.0.0.1:1/db",
    "postgresql://pipetrack:Sup3r?Secret@127.0.0.1:1/db",
    "postgresql://pipetrack:Sup3r#Secret@127.0.0.1:1/db?sslmode=disable",
)
# libpq would read part of the password as the host or the database: refused, exit 2
MISREAD = (
    "postgresql://pipetrack:hunter2@MyPass@127.0.0.1:1/db",
    "postgresql://pipetrack:p@ss/word@127.0.0.1:1/db",
    "postgresql://pipetrack:pa/ss@127.0.0.1:1/db",
    "postgresql://pipetrack:12/word@127.0.0.1:1/db",
    "postgresql://pipetrack:a@b?c@127.0.0.1:1/db",
)
SECRET_PIECES = ("Sup3r", "Secret", "hunter2", "MyPass", "ss/word", "word", "pa/ss")


def _shows_no_secret(text: str) -> bool:
    return not any(piece in text for piece in SECRET_PIECES)


def _one_line_each(url: str, tmp_path, admin: tuple[str, ...], code: int) -> list[str]:
    """The one line (and exit ``code``) of an admin command given ``url`` by option and
    of ``serve`` given it by PIPETRACK_DATABASE_URL."""
    home = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    lines = []
    for args, env in (
        (("admin", *admin, "--database-url", url), {}),
        (("serve", "--port", str(free_port())), {"PIPETRACK_DATABASE_URL": url}),
    ):
        run = pipetrack(*args, env={**home, **env})
        assert run.returncode == code, (args, run.stderr)
        [line] = run.stderr.strip().splitlines()
        lines.append(line)
    return lines


@pytest.mark.parametrize("url", READ_WHOLE)
def test_a_password_holding_a_hash_or_question_mark_is_not_shown(url, tmp_path):
    """It was printed in full: urlsplit took ``#Secret@...`` for the URL's fragment (or
    ``?Secret@...`` for its query), so no user info was found to take out."""
    for line in _one_line_each(url, tmp_path, ("list-users",), 1):
        assert line.startswith(
            "pipetrack: error: cannot use postgresql://pipetrack@127.0.0.1:1/db"
        ), line
        assert _shows_no_secret(line), line


@pytest.mark.parametrize("url", MISREAD)
def test_a_password_holding_an_at_or_a_slash_is_refused_with_a_hint(url, tmp_path):
    """It was tried as another host (``failed to resolve host 'MyPass@127.0.0.1'``) or
    database, the error quoting part of the password, exit 1 (systemd tried again)."""
    for line in _one_line_each(url, tmp_path, ("stats",), 2):
        assert line == (
            "pipetrack: error: cannot use 'postgresql://pipetrack@127.0.0.1:1/db': its password"
            " (or user name) holds an '@' or a '/', which libpq reads as part of the host or"
            " database: percent-encode them (@ as %40, / as %2F)"
        ), line
    assert list(tmp_path.iterdir()) == []


def test_redact_takes_out_everything_up_to_the_last_at():
    for url in (*READ_WHOLE, *MISREAD, "postgresql://me@corp:Sup3r@127.0.0.1:1/db"):
        said = redact(url)
        assert _shows_no_secret(said) and said.startswith("postgresql://"), (url, said)
    assert redact("postgresql://u:Sup3r#Secret@h:5/d#b?sslpassword=x") == (
        "postgresql://u@h:5/d#b?sslpassword=***"
    )
    # an @ only in a query value is libpq's; the user info is cut safely at the last @
    assert "pw" not in redact("postgresql://u:pw@h/db?application_name=a@b")


def test_secrets_of_holds_the_pieces_libpq_would_quote():
    """libpq's own error quoted the host it failed to resolve: ``MyPass@127.0.0.1``."""
    url = "postgresql://pipetrack:hunter2@MyPass@127.0.0.1:1/db"
    assert {"hunter2@MyPass", "MyPass"} <= set(secrets_of(url)), secrets_of(url)
    message = "failed to resolve host 'MyPass@127.0.0.1': [Errno -2] Name or service not known"
    assert hide_secrets(message, url) == (
        "failed to resolve host '***@127.0.0.1': [Errno -2] Name or service not known"
    )


def test_a_password_is_hidden_where_it_stands_as_a_word_only():
    """A password "t" was hidden inside every word ("pipe***rack"), which told it."""
    url = "postgresql://pipetrack:t@127.0.0.1:1/db"
    said = 'invalid value "t" for the port of pipetrack'
    assert hide_secrets(said, url) == 'invalid value "***" for the port of pipetrack'


#: URLs libpq cannot read whose reason quoted the password (spaces, a bad %-escape), or
#: whose redaction left part of it (a key/value password with a space; a %-encoded key).
UNREADABLE = (
    "postgresql://u:top Secret pw@127.0.0.1:1/x",
    "postgresql://u:50%Secret@127.0.0.1:1/x",
    "postgresql://u:Sup3r%00x@127.0.0.1:1/x",
    "postgresql://u@127.0.0.1:1/x?password=Sup3r%zz",
    "host=127.0.0.1 port=1 password='top Secret",
    'host=127.0.0.1 port=1 password="top Secret"',
)


@pytest.mark.parametrize("url", UNREADABLE)
def test_a_url_libpq_cannot_read_is_refused_without_its_password(url, tmp_path):
    """libpq's reason quoted the piece it could not read: `unexpected spaces found in
    "top secret pw"`; exit 2, so the journal kept it."""
    for line in _one_line_each(url, tmp_path, ("stats",), 2):
        assert line.startswith("pipetrack: error: cannot use "), line
        assert not any(piece in line for piece in ("Secret", "Sup3r", "50%")), line


def test_a_percent_encoded_password_key_is_redacted():
    assert redact("postgresql://u@h/pt?pass%77ord=Sup3r") == "postgresql://u@h/pt?pass%77ord=***"


def test_no_rights_on_the_tables_is_not_told_to_grant_create():
    """`permission denied for table schema_migrations` named a schema only in the table's
    name; CREATE on the schema would not help."""
    from psycopg import errors

    from server.db import refusal

    said = refusal(
        "postgresql://ptapp@127.0.0.1:1/pt2",
        errors.InsufficientPrivilege("permission denied for table schema_migrations"),
    )
    assert "grant it CREATE" not in said and "privileges" in said, said
