"""A ``pg_restore --clean --if-exists`` of a dump over the same database: the database
keeps its OID, so it was not taken for a copy and devices kept cursors (and states) the
server had lost. Its tables are made again, so the ``targets`` table's OID is recorded
too; either changing gives a new epoch at the next start."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path

import pgserver
import psycopg
import pytest

from server.cursors import notice_a_copy, reset_cursors
from server.migrate import apply_migrations

from .client import Device, create, set_status

PG_BIN = Path(pgserver.__file__).parent / "pginstall" / "bin"


def _tool(name: str) -> str:
    found = PG_BIN / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def _dump(url: str, to: Path) -> None:
    subprocess.run([_tool("pg_dump"), "-Fc", "-f", str(to), "-d", url], check=True)


def _restore_clean(url: str, dump: Path) -> None:
    """Over the same database, as an admin restoring last night's dump in place."""
    subprocess.run(
        [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "-d", url, str(dump)],
        check=True,
        capture_output=True,
    )


def _meta(url: str) -> dict[str, tuple[str, str]]:
    """server_meta: key -> (value, the transaction that last wrote it)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT key, value, xmin::text FROM server_meta").fetchall()
    return {key: (value, xmin) for key, value, xmin in rows}


def test_a_restore_with_clean_over_the_same_database_gets_a_new_epoch(
    database_url, tmp_path, caplog
):
    apply_migrations(database_url)
    first = _meta(database_url)
    assert set(first) >= {"epoch", "database_oid", "targets_oid"}
    apply_migrations(database_url)  # an ordinary start: nothing written
    assert _meta(database_url) == first

    _dump(database_url, tmp_path / "backup.dump")
    _restore_clean(database_url, tmp_path / "backup.dump")
    assert _meta(database_url)["epoch"][0] == first["epoch"][0]  # as restored

    with caplog.at_level(logging.WARNING, logger="pipetrack.server"):
        apply_migrations(database_url)
    renewed = _meta(database_url)
    assert renewed["epoch"][0] != first["epoch"][0]
    assert renewed["database_oid"][0] == first["database_oid"][0]
    assert renewed["targets_oid"][0] != first["targets_oid"][0]
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("this database is a copy of another (a restore?): its targets")
    assert "every device pulls everything again from the start" in warning

    apply_migrations(database_url)  # once
    assert _meta(database_url) == renewed


def test_the_first_start_of_this_version_on_an_older_database_is_no_copy(database_url):
    """A database whose ``targets`` OID was never recorded (a server from before this
    check) keeps its epoch: the OID is only recorded."""
    apply_migrations(database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM server_meta WHERE key = 'targets_oid'")
    before = _meta(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert notice_a_copy(conn) is False
    after = _meta(database_url)
    assert after["epoch"] == before["epoch"] and "targets_oid" in after


def test_reset_cursors_records_the_oids_so_the_next_start_renews_nothing(database_url, tmp_path):
    apply_migrations(database_url)
    _dump(database_url, tmp_path / "backup.dump")
    _restore_clean(database_url, tmp_path / "backup.dump")
    epoch = reset_cursors(database_url)
    apply_migrations(database_url)
    assert _meta(database_url)["epoch"][0] == epoch


def test_a_device_pulls_again_after_the_server_restarts_on_a_clean_restore(
    server, make_user, tmp_path
):
    """The whole story, with the real commands: a change made after the backup is lost by
    the restore; the device's cursor (which had seen it) is refused, so it pulls again
    and takes the server's state instead of keeping one the server lost."""
    with Device(server, make_user("ada")) as ada:
        uid = ada.push_one(create(status="Cold"))["target"]["uid"]
        _dump(server.database_url, tmp_path / "backup.dump")
        ada.push_one(set_status(uid, "Hot", base=1))  # after the backup
        cursor = ada.pull()["cursor"]

        server.stop()
        _restore_clean(server.database_url, tmp_path / "backup.dump")
        server.start()

        refused = ada.http.get("/v1/pull", params={"cursor": cursor})
        assert refused.status_code == 400, refused.text
        again = ada.pull()
        assert [(t["uid"], t["status"]) for t in again["targets"]] == [(uid, "Cold")]
    assert server.log_text().count("this database is a copy of another") == 1


def test_a_restore_over_the_database_while_serve_runs_is_noticed(server, make_user, tmp_path):
    """The README says to stop serve for a restore; an admin restored under it. Every
    device kept a state the server had lost, said synced, and the log said nothing,
    until a restart. Now the running server sees it within seconds, as a start does."""
    with Device(server, make_user("ada")) as ada:
        uid = ada.push_one(create(status="Cold"))["target"]["uid"]
        _dump(server.database_url, tmp_path / "backup.dump")
        ada.push_one(set_status(uid, "Hot", base=1))  # after the backup
        cursor = ada.pull()["cursor"]

        _restore_clean(server.database_url, tmp_path / "backup.dump")  # serve runs on

        deadline = time.monotonic() + 30
        while "a restore while serve ran?" not in server.log_text():
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.2)
        refused = ada.http.get("/v1/pull", params={"cursor": cursor})
        assert refused.status_code == 400, refused.text
        again = ada.pull()
        assert [(t["uid"], t["status"]) for t in again["targets"]] == [(uid, "Cold")]
    time.sleep(12)  # a later look finds nothing more to say
    assert server.log_text().count("this database is a copy of another") == 1
