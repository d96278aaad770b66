"""Migrations: concurrent starts apply each file once; the schema's constraints hold."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from server.migrate import apply_migrations, migration_files

from .test_pull import assert_wire_is_the_models


def test_concurrent_starts_apply_each_migration_once(database_url):
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(apply_migrations(database_url)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    names = [name for _, name, _ in migration_files()]
    assert sorted(n for applied in results for n in applied) == sorted(names)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == names


def test_the_schema_refuses_bad_rows(database_url):
    apply_migrations(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        insert = (
            "INSERT INTO targets (uid, name, pipeline_status, version, created_at,"
            " last_updated) VALUES (%s, 'X', %s, 1, now(), now()) RETURNING id"
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(insert, (uuid.uuid4(), "Lukewarm"))
        target_id = conn.execute(insert, (uuid.uuid4(), "Hot")).fetchone()[0]
        audit = (
            "INSERT INTO audit_log (target_id, change_id, op, touches_status,"
            " touches_details, version, change_timestamp, recorded_at, changed_by,"
            " device_id) VALUES (%s, %s, 'set_status', true, false, %s, now(), now(), 'a', 'd')"
        )
        change_id = uuid.uuid4()
        conn.execute(audit, (target_id, change_id, 1))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(audit, (target_id, change_id, 2))
        # the target's uid an audit row may carry (for its wire JSON) must be its own
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                audit.replace("target_id,", "target_id, target_uid,").replace("(%s,", "(%s, %s,"),
                (target_id, uuid.uuid4(), uuid.uuid4(), 3),
            )


def test_the_wire_migration_fills_existing_rows(database_url):
    """A database with rows from before 0002 gets every row's wire JSON, the pydantic
    models' JSON of that row, and the rows keep their pull keys (not pulled again)."""
    apply_migrations(database_url, through=1)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for n, at in enumerate(("2026-01-02 03:04:05+00", "2026-01-02 03:04:05.25+00")):
            (target_id,) = conn.execute(
                "INSERT INTO targets (uid, name, description, markets, pipeline_status,"
                " version, status_changed_at, status_changed_by, created_at, last_updated)"
                " VALUES (%s, %s, 'é \"q\"', %s, %s, 2, %s, 'ann', %s, now()) RETURNING id",
                (uuid.uuid4(), f"T{n}", ["eu", "b\\"], "Hot" if n else None, at, at),
            ).fetchone()
            for version in (1, 2):
                conn.execute(
                    "INSERT INTO audit_log (target_id, change_id, op, new_status, touches_status,"
                    " touches_details, version, change_timestamp, recorded_at, changed_by,"
                    " device_id, note) VALUES (%s, %s, 'set_status', 'Hot', true, false, %s,"
                    " %s, now(), 'ann', 'd', %s)",
                    (target_id, uuid.uuid4(), version, at, None if n else "n\n"),
                )
        keys = conn.execute(_KEYS).fetchall()

    assert apply_migrations(database_url, through=2) == ["0002_wire_json.sql"]

    with psycopg.connect(database_url) as conn:
        assert conn.execute(_KEYS).fetchall() == keys
        uids = [uid for (uid,) in conn.execute("SELECT uid FROM targets")]
        assert [assert_wire_is_the_models(conn, uid) for uid in uids] == [2, 2]


_KEYS = (
    "SELECT 't', xid::text, id FROM targets UNION ALL SELECT 'a', xid::text, id FROM audit_log"
    " ORDER BY 1, 3"
)


def test_migrations_are_packaged_with_the_server():
    assert [name for _, name, _ in migration_files()][0] == "0001_initial.sql"


def _oid_row_version(url: str) -> str:
    """The transaction that last wrote the recorded OID (xmin)."""
    with psycopg.connect(url) as conn:
        query = "SELECT xmin::text FROM server_meta WHERE key = 'database_oid'"
        return conn.execute(query).fetchone()[0]


def _epoch(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT value FROM server_meta WHERE key = 'epoch'").fetchone()[0]


def test_a_database_restored_into_a_new_one_gets_a_new_epoch(pg_cluster, database_url):
    """pg_restore or CREATE DATABASE ... TEMPLATE: the copy holds the original's epoch,
    so devices' cursors would be taken as current; the first start on it renews it."""
    apply_migrations(database_url)
    original, written = _epoch(database_url), _oid_row_version(database_url)
    apply_migrations(database_url)
    assert _epoch(database_url) == original  # the same database: nothing to do
    assert _oid_row_version(database_url) == written  # nor anything written

    source = psycopg.conninfo.conninfo_to_dict(database_url)["dbname"]
    restored = pg_cluster.copy_database(database_url, f"{source}_restored")
    try:
        assert _epoch(restored) == original  # as restored
        apply_migrations(restored)
        renewed = _epoch(restored)
        assert renewed != original
        apply_migrations(restored)
        assert _epoch(restored) == renewed  # once
        assert _epoch(database_url) == original
    finally:
        pg_cluster.drop_database(restored)
