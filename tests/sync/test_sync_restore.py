"""The server's database restored from a backup of an earlier point (into a new
database, as ``pg_restore`` does): the server notices at its start, every device pulls
again and takes the server's state, even where a target's version went back, and goes on
syncing (its changes are not refused as made on a version "ahead of the server's")."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
from psycopg import sql

from tests.support.fixtures import server_on_new_database
from tests.support.pg import PgCluster
from tests.sync.synchelp import Device


def _name(url: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(url)["dbname"]


def _drop(cluster: PgCluster, name: str) -> None:
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _copy(cluster: PgCluster, source: str, target: str) -> None:
    """``CREATE DATABASE target TEMPLATE source``: a backup, or a restore of one."""
    _drop(cluster, target)
    with psycopg.connect(cluster.admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(target), sql.Identifier(source)
            )
        )


def _listed(device: Device, name: str) -> tuple[str | None, int | None]:
    result = device.run("list", "--json")
    assert result.returncode == 0, result.stderr
    [row] = [t for t in json.loads(result.stdout) if t["name"] == name]
    return row["status"], row["version"]


def _set(device: Device, status: str) -> None:
    result = device.run("set", "Acme", status)
    assert result.returncode == 0, result.stderr
    device.sync_once()


def test_devices_take_the_restored_state_and_go_on_syncing(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    with server_on_new_database(pg_cluster) as server:
        live = _name(server.database_url)
        backup = f"{live}_backup"
        a, b = devices("a"), devices("b")
        a.connect(server.url, server.add_user("ann"))
        b.connect(server.url, server.add_user("ben"))
        assert a.run("add", "Acme", "--status", "Cold").returncode == 0
        a.sync_once()
        b.sync_once()

        server.stop()  # the nightly backup: Acme at version 1, Cold
        _copy(pg_cluster, live, backup)
        server.start()
        try:
            _after_the_backup(pg_cluster, server, a, b, live, backup)
        finally:
            _drop(pg_cluster, backup)


def _after_the_backup(pg_cluster, server, a: Device, b: Device, live: str, backup: str) -> None:
    _set(a, "Hot")
    _set(a, "Active")
    b.sync_once()
    assert _listed(b, "Acme") == ("Active", 3)
    assert b.run("set", "Acme", "Passed").returncode == 0  # on version 3, not yet sent

    server.stop()  # the database is lost; the backup is restored
    _copy(pg_cluster, backup, live)
    server.start()
    assert "this database is a copy of another" in server.log_path.read_text()

    a.sync_once()
    assert _listed(a, "Acme") == ("Cold", 1)
    _set(a, "Closed")  # made on the restored version: not refused
    with a.store() as store:
        assert store.sync_state().rejected == 0

    # b's change made on version 3, which the restore lost: refused, left to its user
    b.sync_once()
    with b.store() as store:
        [refused] = store.rejected()
    assert refused.reason.endswith(
        "ahead of the server's 2 (was the server restored from a backup?)"
    )
    assert b.run("correct", refused.change_id, "--status", "Passed").returncode == 0
    b.sync_once()
    assert _listed(b, "Acme") == ("Passed", 3)
    a.sync_once()
    assert _listed(a, "Acme") == ("Passed", 3)
