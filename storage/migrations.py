"""Versioned schema migrations: ``PRAGMA user_version`` counts the ones applied.

Each migration is frozen once released: never edit one, append a new one. Opening a
file runs the missing ones in order, all in one immediate transaction, so two
processes opening an old file at once upgrade it exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from . import fold

#: Marks the file as pipetrack's ("PIPT"), so a foreign SQLite file is refused.
APPLICATION_ID = 0x50495054

_STATUS_CHECK = "status IN ('Passed', 'Cold', 'Active', 'Hot', 'Closed')"

_V1 = f"""
CREATE TABLE targets (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_lc TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    markets TEXT NOT NULL DEFAULT '[]',
    markets_sort TEXT NOT NULL DEFAULT '',
    status TEXT CHECK ({_STATUS_CHECK}),
    status_since TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sync TEXT NOT NULL DEFAULT 'synced'
        CHECK (sync IN ('synced', 'pending', 'conflict', 'rejected')),
    server_version INTEGER,
    server_name TEXT,
    server_description TEXT,
    server_markets TEXT,
    server_status TEXT,
    server_status_changed_at TEXT,
    server_status_changed_by TEXT,
    server_updated_at TEXT,
    -- sort keys: pipeline order, and the most urgent sync state first
    status_rank INTEGER GENERATED ALWAYS AS (CASE status
        WHEN 'Passed' THEN 1 WHEN 'Cold' THEN 2 WHEN 'Active' THEN 3
        WHEN 'Hot' THEN 4 WHEN 'Closed' THEN 5 ELSE 0 END) VIRTUAL,
    sync_rank INTEGER GENERATED ALWAYS AS (CASE sync
        WHEN 'conflict' THEN 0 WHEN 'rejected' THEN 1 WHEN 'pending' THEN 2
        ELSE 3 END) VIRTUAL
);
CREATE INDEX targets_status_since ON targets (status, status_since);
CREATE INDEX targets_name ON targets (name_lc);

CREATE TABLE target_markets (
    uid TEXT NOT NULL REFERENCES targets (uid) ON DELETE CASCADE,
    market_lc TEXT NOT NULL,
    market TEXT NOT NULL,
    PRIMARY KEY (market_lc, uid)
) WITHOUT ROWID;
CREATE INDEX target_markets_uid ON target_markets (uid);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    change_id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL REFERENCES targets (uid) ON DELETE CASCADE,
    old_status TEXT,
    new_status TEXT,
    changed_at TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    note TEXT,
    origin TEXT NOT NULL CHECK (origin IN ('local', 'server')),
    server_version INTEGER
);
CREATE INDEX audit_target ON audit (target, changed_at);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL REFERENCES targets (uid) ON DELETE CASCADE,
    op TEXT NOT NULL CHECK (op IN ('create', 'set_status', 'edit')),
    base_version INTEGER,
    status TEXT,
    fields TEXT,
    changed_at TEXT NOT NULL,
    note TEXT,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'conflict', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    server_state TEXT
);
CREATE INDEX outbox_target ON outbox (target, id);
CREATE INDEX outbox_state ON outbox (state, id);

CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
"""

# Snooze, substring search on names (FTS5 trigram, kept in step by triggers) and
# the indexes behind every sort order of the list (each ends with name_lc, then the
# implicit rowid: the tie-breakers of every sort).
_V2 = """
ALTER TABLE targets ADD COLUMN snoozed_until TEXT;

CREATE VIRTUAL TABLE targets_fts USING fts5 (
    name_lc, content='targets', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER targets_fts_insert AFTER INSERT ON targets BEGIN
    INSERT INTO targets_fts (rowid, name_lc) VALUES (new.id, new.name_lc);
END;
CREATE TRIGGER targets_fts_delete AFTER DELETE ON targets BEGIN
    INSERT INTO targets_fts (targets_fts, rowid, name_lc) VALUES ('delete', old.id, old.name_lc);
END;
CREATE TRIGGER targets_fts_rename AFTER UPDATE OF name_lc ON targets
WHEN old.name_lc IS NOT new.name_lc BEGIN
    INSERT INTO targets_fts (targets_fts, rowid, name_lc) VALUES ('delete', old.id, old.name_lc);
    INSERT INTO targets_fts (rowid, name_lc) VALUES (new.id, new.name_lc);
END;
INSERT INTO targets_fts (targets_fts) VALUES ('rebuild');

CREATE INDEX targets_status_name ON targets (status, name_lc);
CREATE INDEX targets_status_rank ON targets (status_rank, name_lc);
CREATE INDEX targets_sync_rank ON targets (sync_rank, name_lc);
CREATE INDEX targets_since ON targets (status_since DESC, name_lc);
CREATE INDEX targets_updated ON targets (updated_at, name_lc);
CREATE INDEX targets_markets_sort ON targets (markets_sort, name_lc);
"""


def _v1(cursor: Any) -> None:
    cursor.execute(_V1)
    cursor.execute("INSERT INTO meta (key, value) VALUES ('device_id', ?)", (str(uuid.uuid4()),))
    cursor.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _v2(cursor: Any) -> None:
    cursor.execute(_V2)


def _v3(cursor: Any) -> None:
    """The bulk change an audit row is part of, so an undo takes it back whole (a new
    column of NULLs: SQLite rewrites no row)."""
    cursor.execute("ALTER TABLE audit ADD COLUMN batch TEXT")
    # partial: a single status change (no batch) writes nothing to it
    cursor.execute("CREATE INDEX audit_batch ON audit (batch) WHERE batch IS NOT NULL")


def _v4(cursor: Any) -> None:
    """While a device pulls everything again after a restore, the targets the server has
    not sent (yet): at the end, those it lost (storage/resend.py)."""
    cursor.execute("CREATE TABLE pull_unseen (uid TEXT PRIMARY KEY) WITHOUT ROWID")


def _v5(cursor: Any) -> None:
    """Name search without accents: the trigram index of names made again with
    ``remove_diacritics`` (the triggers that keep it in step name it, so they stay)."""
    cursor.execute("DROP TABLE targets_fts")
    cursor.execute(
        "CREATE VIRTUAL TABLE targets_fts USING fts5 (name_lc, content='targets',"
        " content_rowid='id', tokenize='trigram remove_diacritics 1')"
    )
    cursor.execute("INSERT INTO targets_fts (targets_fts) VALUES ('rebuild')")


def _v6(cursor: Any) -> None:
    """Names compared without their Latin accents everywhere (storage/fold.py: sort,
    exact name, search): the stored keys of the names that are not ASCII folded again."""
    fold.register(cursor.connection)
    cursor.execute("UPDATE targets SET name_lc = name_key(name) WHERE name GLOB '*[^ -~]*'")


def _v7(cursor: Any) -> None:
    """Markets compared without their Latin accents too (the filter, the markets sort):
    the market rows' keys and the targets' sort keys folded again. Two spellings of one
    market on one target (Zürich, Zurich) now share a key: one row of the two stays (the
    filter's rows; the target's own list of markets is as it was)."""
    fold.register(cursor.connection)
    cursor.execute(
        "UPDATE OR IGNORE target_markets SET market_lc = name_key(market)"
        " WHERE market GLOB '*[^ -~]*'"
    )
    cursor.execute(
        "DELETE FROM target_markets WHERE market GLOB '*[^ -~]*' AND market_lc != name_key(market)"
    )
    cursor.execute(
        "UPDATE targets SET markets_sort = (SELECT group_concat(name_key(m.value), ', '"
        " ORDER BY m.key) FROM json_each(targets.markets) AS m)"
        " WHERE markets_sort GLOB '*[^ -~]*'"
    )


def _v8(cursor: Any) -> None:
    """A change of ours that the server found made already (a teammate's same change:
    ``converged``) is marked: it was never recorded there, its note is only here."""
    cursor.execute("ALTER TABLE audit ADD COLUMN converged INTEGER")


def _v9(cursor: Any) -> None:
    """An undo brings back the status *and* since when it was held: a status change's
    audit row keeps the time its old status had been held since (``old_since``), and the
    undo's outbox row carries it (``status_since``, sent to the server)."""
    cursor.execute("ALTER TABLE audit ADD COLUMN old_since TEXT")
    cursor.execute("ALTER TABLE outbox ADD COLUMN status_since TEXT")


def _v10(cursor: Any) -> None:
    """Latin letters without a decomposition (ø, ł, æ...) compared as their base letters,
    and invisible format characters left out (protocol/fold.py): the keys of names and
    markets that are not ASCII folded again, as :func:`_v6` and :func:`_v7` did."""
    _v6(cursor)
    _v7(cursor)


def _v11(cursor: Any) -> None:
    """Our edits the server applied are kept (their fields, time and version): a server
    restored from a backup may lose one, which is then sent again (storage/resend.py)
    as our lost status changes are. Edits are not in the audit, which holds status
    changes, so a lost edit was lost for good."""
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS sent_edits (change_id TEXT PRIMARY KEY,"
        " target TEXT NOT NULL REFERENCES targets (uid) ON DELETE CASCADE,"
        " fields TEXT NOT NULL, changed_at TEXT NOT NULL, server_version INTEGER NOT NULL)"
        " WITHOUT ROWID"
    )
    cursor.execute("CREATE INDEX IF NOT EXISTS sent_edits_target ON sent_edits (target)")


#: The server's details (as pulled) at the version an edit (``{row}``) is made on, or
#: moved to; none once the device has pulled a later version.
_BASE_OF = (
    "(SELECT json_object('name', t.server_name, 'description', t.server_description,"
    " 'markets', json(t.server_markets)) FROM targets AS t"
    " WHERE t.uid = {row}.target AND t.server_version = {row}.base_version)"
)
_BASE_DETAILS = f"UPDATE outbox SET base_fields = {_BASE_OF.format(row='NEW')} WHERE id = NEW.id;"


def _v12(cursor: Any) -> None:
    """An edit that meets a teammate's tells what the teammate changed, and who and when.
    The server answers with its whole state: which of its details differ from those the
    edit was made on is known only if the device kept those (``outbox.base_fields``, set
    by triggers whoever writes the row: an edit, an import, a change sent again); a
    teammate's last change of a target's details (pulled, as the audit keeps their
    status changes) says who and when (``team_edits``)."""
    cursor.execute("ALTER TABLE outbox ADD COLUMN base_fields TEXT")
    cursor.execute(
        "CREATE TRIGGER outbox_edit_base AFTER INSERT ON outbox WHEN NEW.op = 'edit'"
        f" BEGIN {_BASE_DETAILS} END"
    )
    cursor.execute(
        "CREATE TRIGGER outbox_edit_rebase AFTER UPDATE OF base_version ON outbox"
        f" WHEN NEW.op = 'edit' BEGIN {_BASE_DETAILS} END"
    )
    # the edits waiting already: those the device has pulled nothing newer for
    cursor.execute(
        f"UPDATE outbox SET base_fields = {_BASE_OF.format(row='outbox')} WHERE op = 'edit'"
    )
    cursor.execute(
        "CREATE TABLE team_edits (target TEXT PRIMARY KEY"
        " REFERENCES targets (uid) ON DELETE CASCADE, change_id TEXT NOT NULL,"
        " version INTEGER NOT NULL, changed_by TEXT, changed_at TEXT) WITHOUT ROWID"
    )


#: In order; ``MIGRATIONS[n]`` brings a file from version n to n + 1. A profile can be
#: opened in the middle of its first catch-up, its secondary indexes set aside (dropped,
#: their SQL in meta: storage/catchup.py): a migration that changes those indexes must
#: first build them again from meta.
MIGRATIONS: tuple[Callable[[Any], None], ...] = (
    _v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11, _v12
)  # fmt: skip
LATEST = len(MIGRATIONS)


def schema_version(cursor: Any) -> int:
    return cursor.execute("PRAGMA user_version").fetchall()[0][0]


def migrate(cursor: Any, upto: int = LATEST) -> int:
    """Apply the missing migrations up to ``upto`` on ``cursor``'s connection, inside the
    caller's transaction. Returns the version found before."""
    found = schema_version(cursor)
    for version in range(found, upto):
        MIGRATIONS[version](cursor)
        cursor.execute(f"PRAGMA user_version = {version + 1}")
    return found
