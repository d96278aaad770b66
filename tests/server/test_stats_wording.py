"""``admin stats``' help and its output say the same of the users counted: seen in the
last 24 hours (the help said "seen today"); the JSON key keeps its name."""

from __future__ import annotations

import psycopg

from .test_admin_cli import cli


def _words(text: str) -> str:
    """The help's text without the box drawing and line breaks rich adds."""
    return " ".join(text.replace("│", " ").split())


def test_the_help_and_the_output_both_say_the_last_24_hours(server, make_user):
    make_user("uma")
    with psycopg.connect(server.database_url) as conn:
        conn.execute("UPDATE users SET last_seen_at = now() - interval '20 hours'")
    helped = _words(cli("admin", "stats", "--help").stdout)
    assert "users seen in the last 24 hours" in helped and "today" not in helped.replace(
        "users_seen_today", ""
    ), helped
    text = cli("admin", "stats", "--database-url", server.database_url).stdout
    assert "(1 enabled, 1 seen in the last 24 hours)" in text, text
    json_out = cli("admin", "stats", "--json", "--database-url", server.database_url)
    assert '"users_seen_today": 1' in json_out.stdout  # the stable key
