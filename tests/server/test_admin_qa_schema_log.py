"""What ``serve``'s log says at start about the schema, at the default log level: that
it created it in an empty database, or which migrations it applied to an older one, and,
before a migration known to be long on a big database, that it is running. Before, the
admin saw nothing: the line was logged by each worker's start-up, after ``serve`` had
applied the migrations already (so it never had any to tell)."""

from __future__ import annotations

import re

import psycopg

from server.migrate import apply_migrations, migration_files
from tests.support.server import ServerProcess

NAMES = [name for _, name, _ in migration_files()]
LATEST = migration_files()[-1][0]


def _dbname(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]


def _schema_lines(log: str) -> list[str]:
    """The log's lines about the schema, each without its time stamp."""
    return [
        re.sub(r"^\S+ \S+ ", "", line)
        for line in log.splitlines()
        if "pipetrack schema" in line or "applying migration" in line
    ]


def test_serve_says_it_created_the_schema_in_an_empty_database(database_url, tmp_path):
    with ServerProcess(database_url, log_dir=tmp_path) as srv:
        log = srv.log_text()
    where = f"database '{_dbname(database_url)}'"
    assert _schema_lines(log) == [
        f"INFO created the pipetrack schema in {where} ({', '.join(NAMES)})"
    ], log
    # said before the server says it serves
    assert log.index("created the pipetrack schema") < log.index("pipetrack server on")

    with ServerProcess(database_url, log_dir=tmp_path) as srv:  # nothing to do: nothing said
        assert _schema_lines(srv.log_text()) == []


def test_serve_says_which_migrations_it_applied_and_that_a_long_one_runs(database_url, tmp_path):
    apply_migrations(database_url, through=1)
    with psycopg.connect(database_url) as conn:
        conn.execute("ANALYZE")  # PostgreSQL's estimate of the table's rows: 0, not unknown
    with ServerProcess(database_url, workers=2, log_dir=tmp_path) as srv:
        log = srv.log_text()
    where = f"database '{_dbname(database_url)}'"
    long_one, upgraded = _schema_lines(log)
    assert long_one == (
        f"INFO applying migration 0002_wire_json.sql to {where}: it rewrites every target"
        " and audit row (audit_log: about 0 rows), which takes minutes on a big database;"
        " the server answers once it is done"
    )
    assert upgraded == (
        f"INFO upgraded the pipetrack schema of {where} from migration 1 to {LATEST}:"
        f" applied {', '.join(NAMES[1:])}"
    )
