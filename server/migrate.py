"""Plain SQL migrations (``server/migrations/NNNN_name.sql``), applied in order.

Every process applies them at start; ``pg_advisory_lock`` makes concurrent starts wait
for each other, so each file runs exactly once, in its own transaction.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from importlib import resources
from typing import Literal

import psycopg
import psycopg.sql

from protocol import InvalidInput

from .cursors import notice_a_copy
from .db import MissingRights

log = logging.getLogger("pipetrack.server")

#: Migrations that rewrite every row of big tables: said before they run on an existing
#: schema (on millions of audit rows they take minutes, while no server answers); the
#: table whose size is told, and what the migration does.
LONG_MIGRATIONS = {"0002_wire_json.sql": ("audit_log", "rewrites every target and audit row")}

#: Arbitrary constant naming pipetrack's migration lock among advisory locks.
MIGRATION_LOCK_KEY = 0x70697065_74726163  # "pipetrac"

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) of every packaged migration, in version order."""
    found = []
    for entry in resources.files("server").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {[n for _, n, _ in found]}")
    return found


def apply_migrations(database_url: str, through: int | None = None) -> list[str]:
    """Apply every migration the database lacks (``through``: only those up to that
    version, e.g. to test an upgrade); returns the names applied now. Then, a database
    restored from another gets a new epoch (:func:`cursors.notice_a_copy`).

    InvalidInput, nothing changed, for a database that is not pipetrack's (it holds
    tables, and no pipetrack schema) or whose schema is newer than this pipetrack's
    (``serve`` of an older version): only an empty database or an older pipetrack
    schema is migrated."""
    with psycopg.connect(database_url, autocommit=True) as conn, _migration_lock(conn):
        where = _where(conn)
        versions = _pipetrack_versions(conn)
        if versions is None and _holds_tables(conn):
            raise InvalidInput("database_url", f"{where} is {NOT_PIPETRACKS}")
        _refuse_newer(where, versions, "upgrade this pipetrack (a newer one migrated it)")
        before = _announce_long(conn, where) if versions else None
        applied = _apply(conn, through, before)
        if applied and not versions:
            log.info("created the pipetrack schema in %s (%s)", where, ", ".join(applied))
        elif applied:
            log.info(
                "upgraded the pipetrack schema of %s from migration %d to %d: applied %s",
                where,
                max(versions or [0]),
                int(applied[-1][:4]),
                ", ".join(applied),
            )
        if through is None:
            check_rights(conn)
        return applied


def _announce_long(conn: psycopg.Connection, where: str) -> Callable[[str], None]:
    """What says, before a migration of :data:`LONG_MIGRATIONS` runs, that it is running
    and may be long (with the size of its table as PostgreSQL estimates it)."""

    def before(name: str) -> None:
        if name not in LONG_MIGRATIONS:
            return
        table, does = LONG_MIGRATIONS[name]
        (rows,) = conn.execute(
            "SELECT coalesce((SELECT reltuples::bigint FROM pg_class"
            " WHERE oid = to_regclass(%s)), -1)",
            (table,),
        ).fetchone()
        size = f" ({table}: about {rows:,} rows)" if rows >= 0 else ""
        log.info(
            "applying migration %s to %s: it %s%s, which takes minutes on a big database;"
            " the server answers once it is done",
            name,
            where,
            does,
            size,
        )

    return before


#: The rights the server uses on each table of a current schema, and the tables whose
#: ``id`` sequence it draws from (rows it creates).
_TABLE_RIGHTS = {
    "schema_migrations": ("SELECT",),
    "server_meta": ("SELECT", "INSERT", "UPDATE"),
    "users": ("SELECT", "INSERT", "UPDATE"),
    "targets": ("SELECT", "INSERT", "UPDATE"),
    "audit_log": ("SELECT", "INSERT"),
    "replaced_tokens": ("SELECT", "INSERT"),
}
_SEQUENCE_OF = ("users", "targets", "audit_log")


def check_rights(conn: psycopg.Connection) -> None:
    """MissingRights unless the connected role holds every right the server uses on a
    current schema. A role granted the tables' rows but not their sequences (or some
    rows only) started, then answered every push that creates a target with a 500."""
    missing = conn.execute(
        """
        SELECT t.name, string_agg(p.right_, ', ' ORDER BY p.n)
        FROM unnest(%s::text[], %s::text[]) AS t(name, rights),
             unnest(string_to_array(t.rights, ' ')) WITH ORDINALITY AS p(right_, n)
        WHERE NOT has_table_privilege(t.name, p.right_)
        GROUP BY t.name ORDER BY t.name
        """,
        (list(_TABLE_RIGHTS), [" ".join(rights) for rights in _TABLE_RIGHTS.values()]),
    ).fetchall()
    sequences = conn.execute(
        """
        SELECT s FROM unnest(%s::text[]) AS t(name), pg_get_serial_sequence(t.name, 'id') AS s
        WHERE NOT has_sequence_privilege(s, 'USAGE') ORDER BY s
        """,
        (list(_SEQUENCE_OF),),
    ).fetchall()
    if not missing and not sequences:
        return
    role = psycopg.sql.Identifier(conn.info.user).as_string(conn)
    grants = [f"GRANT {rights} ON {table} TO {role}" for table, rights in missing]
    if sequences:
        names = ", ".join(s for (s,) in sequences)
        grants.append(f"GRANT USAGE ON SEQUENCE {names} TO {role}")
    raise MissingRights(
        f"user {conn.info.user!r} lacks rights the server uses in database"
        f" {conn.info.dbname!r}: as the tables' owner, run {'; '.join(grants)}"
    )


#: Why a database with other applications' tables is refused (serve and admin alike).
NOT_PIPETRACKS = (
    "not a pipetrack database: it holds other tables; give an empty database or pipetrack's"
)


def _where(conn: psycopg.Connection) -> str:
    return f"database {conn.info.dbname!r}"


def _holds_tables(conn: psycopg.Connection) -> bool:
    return bool(conn.execute(_OTHER_TABLES).fetchone()[0])


def _refuse_newer(where: str, versions: list[int] | None, instead: str) -> None:
    """InvalidInput when ``versions`` holds a migration this pipetrack does not know."""
    latest = migration_files()[-1][0]
    newest = max(versions or [0])
    if newest > latest:
        raise InvalidInput(
            "database_url",
            f"{where} has a newer pipetrack schema (migration {newest}) than this pipetrack"
            f" knows (up to {latest}): {instead}",
        )


@contextlib.contextmanager
def _migration_lock(conn: psycopg.Connection) -> Iterator[None]:
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def _apply(
    conn: psycopg.Connection,
    through: int | None,
    before: Callable[[str], None] | None = None,
) -> list[str]:
    """Apply what the database lacks (``before``: called with each file's name before it
    runs). A current schema needs no CREATE right: a role the owner granted only the
    tables' rows (least privilege) runs ``serve`` on it."""
    applied_now: list[str] = []
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        conn.execute(
            "CREATE TABLE schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    for version, name, sql in migration_files():
        if version in done or (through is not None and version > through):
            continue
        if before is not None:
            before(name)
        with conn.transaction():
            conn.execute(sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (version, name),
            )
        applied_now.append(name)
    notice_a_copy(conn)
    return applied_now


#: What an admin command may do to the schema of the database it is given.
Schema = Literal["read", "migrate", "create"]

_OTHER_TABLES = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
"""


def check_schema(database_url: str, may: Schema) -> None:
    """For an admin command: InvalidInput unless the database holds pipetrack's schema,
    and one this pipetrack knows (not newer). ``read`` changes nothing: a schema older
    than this pipetrack's is refused too. ``migrate`` applies the migrations it lacks.
    ``create`` also makes the schema in an empty database (``add-user`` before the
    first ``serve``), never in one that holds other tables."""
    latest = migration_files()[-1][0]
    with psycopg.connect(database_url, autocommit=True) as conn:
        where = _where(conn)
        lock = _migration_lock(conn) if may != "read" else contextlib.nullcontext()
        with lock:
            versions = _pipetrack_versions(conn)
            if versions is None:
                if _holds_tables(conn):  # serve would refuse it too: say so, as it does
                    raise InvalidInput("database_url", f"{where} is {NOT_PIPETRACKS}")
                if may != "create":
                    raise InvalidInput(
                        "database_url",
                        f"{where} is not a pipetrack database (it has no pipetrack schema;"
                        " `pipetrack serve` makes one)",
                    )
            _refuse_newer(where, versions, "use the pipetrack the server runs")
            newest = max(versions or [0])
            if newest < latest:
                if may == "read":
                    raise InvalidInput(
                        "database_url",
                        f"{where} has an older pipetrack schema (migration {newest}, this"
                        f" pipetrack's is {latest}): `pipetrack serve` of this version"
                        " upgrades it",
                    )
                _apply(conn, None)


def _pipetrack_versions(conn: psycopg.Connection) -> list[int] | None:
    """The migrations applied, when ``schema_migrations`` is pipetrack's (its columns,
    and every name one of a migration file's form: another tool may have a table of
    that name); None otherwise."""
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        return None
    columns = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'schema_migrations'::regclass AND attnum > 0 AND NOT attisdropped"
    ).fetchall()
    if dict(columns) != {
        "version": "integer",
        "name": "text",
        "applied_at": "timestamp with time zone",
    }:
        return None
    rows = conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    if not all(_NAME.match(name) and int(name[:4]) == version for version, name in rows):
        return None
    ours = {version: name for version, name, _ in migration_files()}
    if any(ours.get(version, name) != name for version, name in rows):
        return None  # another tool's numbered files, not the ones this pipetrack ships
    return [version for version, _ in rows]
