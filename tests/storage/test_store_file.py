"""The file itself: migrations, and files that cannot be used (clear errors, no tracebacks)."""

from __future__ import annotations

import apsw
import pytest

from storage import Store, StoreError, TargetQuery
from storage.migrations import LATEST, migrate
from tests.storage.storehelp import result, state

V1_TARGET = """INSERT INTO targets (uid, name, name_lc, description, markets, markets_sort,
    status, status_since, created_at, updated_at, sync, server_version, server_name,
    server_description, server_markets, server_status, server_updated_at)
VALUES ('3f0c8a56-0f44-4c3e-9d7e-3a4b5c6d7e8f', 'Old Timer', 'old timer', '', '["EU"]', 'eu',
    'Hot', '2026-01-01T00:00:00.000000Z', '2025-12-01T00:00:00.000000Z',
    '2026-01-01T00:00:00.000000Z', 'synced', 4, 'Old Timer', '', '["EU"]', 'Hot',
    '2026-01-01T00:00:00.000000Z')"""


def raw(path, *sql):
    conn = apsw.Connection(str(path))
    try:
        for each in sql:
            conn.execute(each)
    finally:
        conn.close()


def test_a_file_made_by_the_first_migration_is_upgraded(db_path, clock):
    conn = apsw.Connection(str(db_path))
    with conn:
        migrate(conn.cursor(), upto=1)
        conn.execute(V1_TARGET)
        conn.execute(
            "INSERT INTO target_markets VALUES ('3f0c8a56-0f44-4c3e-9d7e-3a4b5c6d7e8f', 'eu', 'EU')"
        )
    assert conn.execute("PRAGMA user_version").fetchall() == [(1,)]
    device = conn.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchall()[0][0]
    conn.close()

    with Store.open(db_path, clock=clock) as store:
        assert store.device_id == device
        [old] = store.list_targets(TargetQuery(search="timer"))  # names indexed by the upgrade
        assert (old.name, old.status, old.version, old.days_in_status) == (
            "Old Timer",
            "Hot",
            4,
            151,
        )
        assert old.stagnation == "stale"
        assert store.snooze(old.uid, clock.now.date().replace(month=12)).stagnation == "snoozed"
        assert store.list_targets(TargetQuery(markets=("eu",), sort="days"))[0].uid == old.uid
        assert store.set_status(old.uid, "Cold").target.status == "Cold"
        assert [c.base_version for c in store.take_batch()] == [4]
    raw_version = apsw.Connection(str(db_path)).execute("PRAGMA user_version").fetchall()
    assert raw_version == [(LATEST,)] and LATEST >= 2


@pytest.mark.parametrize("version", [4, 5], ids=["accented index", "accented keys"])
def test_an_upgraded_file_finds_its_names_typed_without_accents(db_path, clock, version):
    conn = apsw.Connection(str(db_path))
    with conn:
        migrate(conn.cursor(), upto=version)  # 4: the trigram index kept accents; 5: the keys
        conn.execute(V1_TARGET.replace("'Old Timer', 'old timer'", "'Café Ümlaut', 'café ümlaut'"))
    conn.close()
    with Store.open(db_path, clock=clock) as store:
        assert [t.name for t in store.list_targets(TargetQuery(search="cafe umlaut"))] == [
            "Café Ümlaut"
        ]
        assert store.resolve("CAFE UMLAUT").name == "Café Ümlaut"  # its stored key folded
        renamed = store.edit_target(store.resolve("Café Ümlaut").uid, name="Crème Brûlée")
        assert store.list_targets(TargetQuery(search="creme")) == [renamed]
        assert store.list_targets(TargetQuery(search="cafe")) == []


#: What schema 12 added, taken away again to make a file of an older schema.
UNDO_V12 = (
    "DROP TRIGGER outbox_edit_base",
    "DROP TRIGGER outbox_edit_rebase",
    "ALTER TABLE outbox DROP COLUMN base_fields",
    "DROP TABLE team_edits",
)


def test_an_upgraded_file_filters_and_sorts_its_markets_without_accents(db_path, clock):
    with Store.open(db_path, clock=clock) as store:
        bern = store.create_target("Bern AG", markets=["Zürich"]).uid
        store.create_target("Alpine AG", markets=["Österreich"])
        store.create_target("Delta Co", markets=["Poland"])
    raw(  # as schema 6 left them: keys casefolded only, and a second spelling on Bern
        db_path,
        "UPDATE target_markets SET market_lc = lower(market)",
        "UPDATE target_markets SET market_lc = 'zürich' WHERE market = 'Zürich'",
        "UPDATE target_markets SET market_lc = 'österreich' WHERE market = 'Österreich'",
        f"INSERT INTO target_markets VALUES ('{bern}', 'zurich', 'Zurich')",
        "UPDATE targets SET markets_sort = 'zürich' WHERE name = 'Bern AG'",
        "UPDATE targets SET markets_sort = 'österreich' WHERE name = 'Alpine AG'",
        "ALTER TABLE audit DROP COLUMN converged",  # schema 8's
        "ALTER TABLE audit DROP COLUMN old_since",  # schema 9's
        "ALTER TABLE outbox DROP COLUMN status_since",
        *UNDO_V12,
        "PRAGMA user_version = 6",
    )
    with Store.open(db_path, clock=clock) as store:
        assert [t.name for t in store.list_targets(TargetQuery(markets=("zurich",)))] == ["Bern AG"]
        by_markets = store.list_targets(TargetQuery(sort="markets"))
        assert [t.name for t in by_markets] == ["Alpine AG", "Delta Co", "Bern AG"]
        assert store.markets() == ["Österreich", "Poland", "Zurich"]
    rows = apsw.Connection(str(db_path)).execute(
        f"SELECT market_lc, market FROM target_markets WHERE uid = '{bern}'"
    )
    assert rows.fetchall() == [("zurich", "Zurich")]  # of the two spellings' rows, one


def test_an_edit_waiting_in_an_upgraded_file_tells_what_the_teammate_changed(db_path, clock):
    """Schema 12 keeps the details an edit was made on; the edits waiting in a file of
    schema 11 had none, so their conflicts could not say a teammate changed the markets."""
    with Store.open(db_path, clock=clock) as store:
        uid = store.create_target("Gamma", markets=["EU"]).uid
        [create] = store.take_batch()
        made = state(uid, 1, clock.now, name="Gamma", markets=("EU",))
        store.apply_push_results([result(create, "applied", made)])
        store.edit_target(uid, description="mine")
    raw(db_path, *UNDO_V12, "PRAGMA user_version = 11")  # as schema 11 left it
    with Store.open(db_path, clock=clock) as store:
        [edit] = store.take_batch()
        theirs = state(uid, 2, clock.now, name="Gamma", markets=("EU", "US"))
        store.apply_push_results([result(edit, "conflict", theirs)])
        [conflict] = store.conflicts()
    assert conflict.theirs_fields == {"description": "", "markets": ["EU", "US"]}
    assert conflict.theirs_unchanged() == {"description"}


def test_an_upgraded_file_finds_letters_with_a_stroke_and_hidden_characters(db_path, clock):
    """Schema 9 kept ø, ł in the keys and a zero width space in a name's: "orsted",
    "lodz tech" and "ZeroWidth Co" found nothing, and an import of them made duplicates.
    The upgrade folds the keys again."""
    with Store.open(db_path, clock=clock) as store:
        store.create_target("Ørsted", markets=["Łódź"])
        store.create_target("Łódź Tech")
        store.create_target("Zero\u200bWidth Co")
    raw(  # as schema 9 left them
        db_path,
        "UPDATE targets SET name_lc = 'ørsted', markets_sort = 'łodz' WHERE name = 'Ørsted'",
        "UPDATE targets SET name_lc = 'łodz tech' WHERE name = 'Łódź Tech'",
        "UPDATE targets SET name_lc = 'zero\u200bwidth co' WHERE name LIKE 'Zero%'",
        "UPDATE target_markets SET market_lc = 'łodz'",
        *UNDO_V12,
        "PRAGMA user_version = 9",
    )
    with Store.open(db_path, clock=clock) as store:
        assert store.resolve("orsted").name == "Ørsted"
        assert store.resolve("LODZ TECH").name == "Łódź Tech"
        assert store.resolve("ZeroWidth Co").name == "Zero\u200bWidth Co"
        assert [t.name for t in store.list_targets(TargetQuery(search="lodz"))] == ["Łódź Tech"]
        assert [t.name for t in store.list_targets(TargetQuery(markets=("lodz",)))] == ["Ørsted"]


def test_a_corrupt_file(db_path):
    db_path.write_bytes(b"this is not a database at all\n" * 200)
    with pytest.raises(StoreError, match="not a pipetrack database or is damaged") as err:
        Store.open(db_path)
    assert "move it aside" in str(err.value)


def test_some_other_programs_sqlite_file(db_path):
    raw(db_path, "CREATE TABLE songs (title TEXT)")
    with pytest.raises(StoreError, match="some other program"):
        Store.open(db_path)


def test_a_file_from_a_newer_pipetrack(db_path, store):
    store.close()
    raw(db_path, f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(StoreError, match="newer pipetrack") as err:
        Store.open(db_path)
    assert "upgrade pipetrack" in str(err.value)


def test_a_truncated_file(db_path, store):
    store.create_target("Acme")
    store.close()
    db_path.write_bytes(b"")
    with pytest.raises(StoreError, match="is empty: it was truncated"):
        Store.open(db_path)


def test_a_directory_in_the_way(home):
    (home / "pipetrack.db").mkdir()
    with pytest.raises(StoreError, match="pipetrack.db"):
        Store.open(home / "pipetrack.db")


def test_a_full_disk(store, fetch):
    store.create_target("Acme")
    pages = fetch("PRAGMA page_count")[0][0]
    fetch(f"PRAGMA max_page_count = {pages + 2}")  # what a full disk looks like to SQLite
    with pytest.raises(StoreError, match="full, so nothing was saved"):
        store.import_targets([{"name": f"T{i}", "description": "x" * 5000} for i in range(50)])
    assert [t.name for t in store.list_targets()] == ["Acme"]


def test_the_profile_directory_is_created(tmp_path):
    path = tmp_path / "new" / "profile" / "pipetrack.db"
    with Store.open(path) as store:
        assert store.list_targets() == []
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)
