"""Migrations: concurrent starts apply each file once; the schema's constraints hold."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from server.migrate import apply_migrations, migration_files


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


def test_migrations_are_packaged_with_the_server():
    assert [name for _, name, _ in migration_files()][0] == "0001_initial.sql"
