"""``pipetrack admin`` alone, and ``serve``'s connections against max_connections."""

from __future__ import annotations

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
