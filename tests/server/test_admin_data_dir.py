"""``--data-dir`` slips: the PostgreSQL directory itself, a typo, a cluster that cannot
start. The real command in its own process, on a real embedded PostgreSQL."""

from __future__ import annotations

import stat

from tests.support.server import ServerProcess, free_port

from .test_admin_cli import ADMIN_COMMANDS, pipetrack

NO_URL = {"PIPETRACK_DATABASE_URL": ""}


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _one_line(run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipetrack: error: "), run.stderr
    return lines[0]


def test_the_postgres_directory_given_as_data_dir_is_refused_untouched(tmp_path):
    """The server's log names data_dir/pgdata: given as --data-dir, initdb used to make a
    cluster inside the live one and open its mode, so the next start failed."""
    data_dir = tmp_path / "srv"
    pgdata = data_dir / "pgdata"
    with ServerProcess(None, data_dir=data_dir) as srv:
        before = sorted(p.name for p in pgdata.iterdir())
        mode = _mode(pgdata)
        serve = ("serve", "--port", str(free_port()))
        for args in (("admin", "list-users"), ("admin", "add-user", "dora"), serve):
            run = pipetrack(*args, "--data-dir", str(pgdata), env=NO_URL)
            assert run.returncode == 2, run.stderr
            assert f"--data-dir {data_dir}" in _one_line(run)
        assert _mode(pgdata) == mode == 0o700
        assert sorted(p.name for p in pgdata.iterdir()) == before
        assert srv.health() == 200
        listed = pipetrack("admin", "list-users", "--data-dir", str(data_dir), env=NO_URL)
        assert listed.returncode == 0, listed.stderr

    # and a PostgreSQL that cannot start says why in one line, exit 1, no traceback
    pgdata.chmod(0o755)
    try:
        for args in (("admin", "list-users"), ("serve", "--port", str(free_port()))):
            run = pipetrack(*args, "--data-dir", str(data_dir), env=NO_URL)
            assert run.returncode == 1, run.stderr
            line = _one_line(run)
            assert "cannot start: FATAL:" in line and "invalid permissions" in line, line
    finally:
        pgdata.chmod(0o700)


def test_admin_commands_never_make_an_embedded_database(tmp_path):
    """A typo in --data-dir (or a forgotten PIPETRACK_DATABASE_URL): exit 2, one line,
    nothing made; a token from add-user there would have been refused by the server."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for data_dir in (tmp_path / "typo" / "svr", empty):
        for args in ADMIN_COMMANDS:
            run = pipetrack(*args, "--data-dir", str(data_dir), env=NO_URL)
            assert run.returncode == 2, (args, run.stderr)
            assert run.stdout == ""
            assert f"no pipetrack server data in {data_dir}" in _one_line(run)
    assert not (tmp_path / "typo").exists()
    assert list(empty.iterdir()) == []


def test_a_postgres_that_cannot_start_without_a_fatal_line_says_why(tmp_path):
    """No FATAL line in PostgreSQL's log (a data dir with PG_VERSION and nothing else):
    it said "cannot start: error:" and nothing after; now the log's last line."""
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15\n")
    run = pipetrack("admin", "list-users", "--data-dir", str(tmp_path), env=NO_URL)
    assert run.returncode == 1, run.stderr
    line = _one_line(run)
    assert line.startswith(f"pipetrack: error: the embedded PostgreSQL in {pgdata} cannot start: ")
    said = line.split(" cannot start: ", 1)[1]
    assert "postgresql.conf" in said or str(pgdata / "log") in said, line
