"""CSV rows into the store: all or nothing, keyed by uid else name, no duplicates."""

from __future__ import annotations

import uuid

import pytest

from protocol import InvalidInput
from storage import TargetQuery
from tests.storage.storehelp import pull_target

ROWS = [
    {"name": "Acme", "description": "widgets", "markets": "EU; US", "status": "hot"},
    {"name": "Beta", "status": ""},
    {"Name ": "Gamma", "Status": "none", "extra": "ignored"},
]


def test_import_creates_targets_with_their_changes(store, fetch):
    assert store.import_targets(ROWS) == (3, 0)
    acme = store.resolve("acme")
    assert (acme.description, acme.markets, acme.status, acme.sync) == (
        "widgets",
        ("EU", "US"),
        "Hot",
        "pending",
    )
    assert [t.name for t in store.list_targets()] == ["Acme", "Beta", "Gamma"]
    assert fetch("SELECT op, count(*) FROM outbox GROUP BY op") == [("create", 3)]
    assert [h.new_status for h in store.history(acme.uid)] == ["Hot"]
    assert store.list_targets(TargetQuery(search="cme"))[0].uid == acme.uid
    assert store.markets() == ["EU", "US"]


def test_reimport_updates_only_what_differs(store, fetch):
    store.import_targets(ROWS)
    assert store.import_targets(ROWS) == (0, 0)
    changed = [
        {"name": "ACME", "status": "Hot"},  # same target by name: names it, no rename
        {"name": "Beta", "status": "Cold", "description": ""},  # empty cells leave fields be
        {"name": "Delta"},
    ]
    assert store.import_targets(changed) == (1, 1)  # Beta's status; ACME changes nothing
    assert store.resolve("acme").name == "Acme"  # a uid column renames (an edited export)
    assert store.resolve("acme").description == "widgets"
    assert store.resolve("beta").status == "Cold"
    assert fetch("SELECT count(*) FROM targets") == [(4,)]


def test_rows_keyed_by_uid(store):
    uid = "1b7d2c8e-1f3a-4c5d-9e6f-7a8b9c0d1e2f"
    assert store.import_targets([{"uid": uid, "name": "Acme"}]) == (1, 0)
    assert store.import_targets([{"uid": uid.upper(), "name": "Acme Renamed"}]) == (0, 1)
    assert store.get(uid).name == "Acme Renamed"
    assert store.import_targets([{"uid": uid, "status": "Active"}]) == (0, 1)  # no name needed


def test_a_row_found_by_its_name_never_renames_its_target(store):
    """A spreadsheet's "SOCIETE GENERALE" names Société Générale; sent as a rename, the
    whole team's list would lose the accents."""
    store.create_target("Société Générale")
    assert store.import_targets([{"name": "SOCIETE  GENERALE", "status": "Hot"}]) == (0, 1)
    assert [t.name for t in store.list_targets()] == ["Société Générale"]
    assert [c.op for c in store.take_batch()] == ["create", "set_status"]


def test_a_key_twice_in_one_file_is_refused_and_nothing_written(store):
    with pytest.raises(InvalidInput, match="row 2: name 'acme' is already on row 1"):
        store.import_targets([{"name": "Acme"}, {"name": "acme", "status": "Hot"}])
    assert store.count_targets() == 0


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"name": "x" * 256}, "row 2: name"),
        ({"name": "Ok", "status": "warm"}, "row 2: unknown status 'warm'"),
        ({"name": "Ok", "markets": ";".join(f"m{i}" for i in range(33))}, "row 2: more than 32"),
        ({"name": "Ok", "description": "d" * 10_001}, "row 2: description"),
        ({"uid": "nope", "name": "Ok"}, "row 2: uid 'nope'"),
        ({"status": "Hot"}, "row 2: a new target needs a name"),
    ],
)
def test_a_bad_row_imports_nothing(store, fetch, bad, message):
    store.create_target("Existing", status="Cold")
    rows = [{"name": "Existing", "status": "Hot"}, bad, {"name": "Later"}]
    with pytest.raises(InvalidInput) as err:
        store.import_targets(rows)
    assert str(err.value).startswith(message)
    assert fetch("SELECT count(*) FROM targets") == [(1,)]
    assert fetch("SELECT count(*) FROM outbox") == [(1,)]
    assert store.resolve("existing").status == "Cold"


def test_an_ambiguous_name_is_a_bad_row(store):
    store.create_target("Twin")
    pull_target(store, "twin")  # a teammate's, of the same name
    with pytest.raises(InvalidInput, match="row 1: name 'Twin' matches 2 targets"):
        store.import_targets([{"name": "Twin", "status": "Hot"}])


def test_a_name_another_target_has_is_refused_and_nothing_written(store, fetch):
    acme = store.create_target("Acme")
    store.create_target("Beta")
    other, another = (f"abcd0000-0000-4000-8000-00000000000{n}" for n in (1, 2))
    before = fetch("SELECT count(*) FROM outbox")
    cases = {
        # a new target (its own uid) under a name the store has, in another case
        "row 2: target " + acme.uid[:8] + " is already named 'Acme'": [
            {"name": "Gamma"},
            {"uid": other, "name": "ACME"},
        ],
        # two new targets of one name, typed without uids
        "row 2: name 'gamma' is already on row 1": [{"name": "Gamma"}, {"name": "gamma"}],
        # an existing target renamed to another's name
        "row 1: target " + acme.uid[:8] + " is already named 'Acme'": [
            {"uid": store.resolve("Beta").uid, "name": "acme"},
        ],
    }
    for message, rows in cases.items():
        with pytest.raises(InvalidInput, match=message):
            store.import_targets(rows)
    assert fetch("SELECT count(*) FROM outbox") == before
    assert [t.name for t in store.list_targets()] == ["Acme", "Beta"]


def test_reimporting_an_export_reads_the_targets_in_one_pass(store, fetch):
    """A re-imported export (the spreadsheet round trip) changes nothing, and its rows
    are passed over without statements of their own: 100,000 such rows took 3 minutes
    when each was looked at alone (now ~4 s, `pipetrack import` twice of one file)."""
    rows = [{"name": f"Company {i}", "markets": "EU;US", "status": "Hot"} for i in range(500)]
    store.import_targets(rows)
    outbox = fetch("SELECT count(*) FROM outbox")
    statements: list[str] = []
    conn = store._ctx.db.connection()

    def traced(_cursor, sql, _bindings):
        statements.append(sql)
        return True

    conn.exec_trace = traced
    try:
        changed = [*rows[:7], {**rows[7], "status": "Cold"}, *rows[8:]]
        assert store.import_targets(changed) == (0, 1)
    finally:
        conn.exec_trace = None
    assert len(statements) < 60, statements  # ~20 for the one change; was ~10 per row
    assert fetch("SELECT count(*) FROM outbox") == [(outbox[0][0] + 1,)]
    assert store.resolve("Company 7").status == "Cold"


def test_one_target_on_two_rows_by_uid_and_by_name_is_refused(store, fetch):
    acme = store.create_target("Acme", status="Cold")
    before = fetch("SELECT count(*) FROM outbox")
    rows = [{"uid": acme.uid, "status": "Hot"}, {"name": "acme", "status": "Closed"}]
    with pytest.raises(InvalidInput, match="row 2: target .Acme. is already on row 1; give each"):
        store.import_targets(rows)
    assert fetch("SELECT count(*) FROM outbox") == before
    assert store.get(acme.uid).status == "Cold"


def test_a_teams_two_targets_of_one_name_import_by_their_uids(store):
    """Two teammates made "Twin Co" offline (the README allows it); the team's export
    lists both, by uid: a new profile refused it ("name 'Twin Co' is already on row 1")."""
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    store.import_targets([{"uid": one, "name": "Twin Co"}, {"uid": two, "name": "twin co"}])
    assert {store.get(one).name, store.get(two).name} == {"Twin Co", "twin co"}
