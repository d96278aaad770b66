"""``pipetrack admin`` alone, and ``serve``'s connections against max_connections."""

from __future__ import annotations

import re

import psycopg
import pytest

from protocol import InvalidInput
from server.run import ADMIN_ROOM, check_connections
from tests.support.server import ServerProcess, free_port

from .test_admin_cli import pipetrack


def test_admin_alone_prints_its_help_and_no_empty_error():
    run = pipetrack("admin")
    assert run.returncode == 0, run.stderr
    assert "Usage: pipetrack admin" in run.stdout and "add-user" in run.stdout
    assert run.stderr == ""


def test_more_connections_than_the_embedded_postgres_allows_is_refused(tmp_path):
    run = pipetrack(
        "serve", "--data-dir", str(tmp_path / "srv"), "--port", str(free_port()),
        "--workers", "2", "--db-connections", "200",
        env={"PIPETRACK_DATABASE_URL": ""},
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    errors = [row for row in run.stderr.splitlines() if row.startswith("pipetrack: error: ")]
    assert len(errors) == 1, run.stderr
    line = errors[0]
    assert "= 402 connections" in line and "max_connections 100" in line, run.stderr
    assert "--db-connections 46 or fewer" in line
    assert "Traceback" not in run.stderr


def test_more_connections_than_a_given_database_allows_is_a_warning(database_url):
    """Another host's database: its limit may be raised, so the server starts, and says."""
    options = ["--db-connections", "200"]
    with ServerProcess(database_url, workers=2, options=options) as srv:
        log = srv.log_text()
    [warning] = [row for row in log.splitlines() if " WARNING " in row]
    assert "= 402 connections" in warning and "max_connections" in warning


def _limit(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT current_setting('max_connections')::int").fetchone()[0]


def test_what_fits_keeps_the_other_option_as_given(database_url):
    """--workers 40 --db-connections 5 on max_connections 100 was told "--workers 31 or
    fewer" (as if --db-connections were 2): 31 × 6 = 186. What is suggested fits with
    the other option as given, and each suggestion fits."""
    room = _limit(database_url) - ADMIN_ROOM
    for workers, db_connections in ((40, 5), (10, 10), (2, 200), (room, 2)):
        if workers * (db_connections + 1) <= room:
            continue
        with pytest.raises(InvalidInput) as refused:
            check_connections(database_url, workers, db_connections, embedded=True)
        said = str(refused.value)
        suggested = dict(re.findall(r"--(workers|db-connections) (\d+) or fewer", said))
        assert suggested, said
        if "workers" in suggested:
            assert int(suggested["workers"]) * (db_connections + 1) <= room, said
            assert int(suggested["workers"]) == room // (db_connections + 1), said
        if "db-connections" in suggested:
            assert workers * (int(suggested["db-connections"]) + 1) <= room, said
    with pytest.raises(InvalidInput) as refused:
        check_connections(database_url, 40, 5, embedded=True)
    if room == 95:  # PostgreSQL's default max_connections
        assert str(refused.value).endswith("give --workers 15 or fewer"), refused.value
