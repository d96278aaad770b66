"""An import's updates of existing targets, written set-based: the same outcome as an
edit and a status change per target (views, outbox, audit, undo, market rows), in a few
statements per chunk instead of ~10 per row (100,000 updates took 3 min 20 s)."""

from __future__ import annotations

import pytest

from protocol import InvalidInput
from storage import TargetQuery
from tests.storage.storehelp import pull_target
from tests.storage.test_store_status import assert_views_recomputed


def traced(store) -> list[str]:
    statements: list[str] = []
    store._ctx.db.connection().exec_trace = lambda _c, sql, _b: statements.append(sql) or True
    return statements


def untraced(store) -> None:
    store._ctx.db.connection().exec_trace = None


def test_many_updates_take_a_few_statements_and_keep_every_view_true(store, fetch):
    rows = [{"name": f"Company {i}", "markets": "EU;US", "status": "Cold"} for i in range(600)]
    store.import_targets(rows)
    uids = {t.name: t.uid for t in store.list_targets()}
    changed = []
    for i in range(600):
        row = {"name": f"company {i}"}  # found by its name: the name stays as it is
        if i % 2:
            row["status"] = ["Hot", "Active", "none"][i % 3]
        if i % 3 == 0:
            row["description"] = f"note {i}"
        if i % 5 == 0:
            row["markets"] = "APAC"
        if i % 7 == 0:
            row = {**row, "uid": uids[f"Company {i}"], "name": f"Renamed {i}"}
        changed.append(row)
    statements = traced(store)
    try:
        created, updated = store.import_targets(changed)
    finally:
        untraced(store)
    assert (created, updated) == (0, sum(1 for r in changed if len(r) > 1))
    reads = [s for s in statements if s.startswith(("SELECT", "DELETE", "SAVEPOINT"))]
    assert len(reads) < 20, reads[:20]  # row by row: 3 reads, 2 savepoints, a delete a row
    assert_views_recomputed(store)
    t3, t5, t7 = (store.get(uids[f"Company {i}"]) for i in (3, 5, 7))
    assert (t3.status, t3.description, t3.markets) == ("Hot", "note 3", ("EU", "US"))
    assert (t5.status, t5.markets) == (None, ("APAC",))  # "none" clears it
    assert (t7.name, t7.status) == ("Renamed 7", "Active")
    in_apac = {t.uid for t in store.list_targets(TargetQuery(markets=("apac",)))}
    assert in_apac == {uids[f"Company {i}"] for i in range(0, 600, 5)}
    in_eu = {t.uid for t in store.list_targets(TargetQuery(markets=("eu",)))}
    assert uids["Company 5"] not in in_eu and uids["Company 3"] in in_eu
    assert store.list_targets(TargetQuery(search="renamed 14"))[0].uid == uids["Company 14"]
    found = {t.uid for t in store.list_targets(TargetQuery(search="company 14"))}
    assert uids["Company 14"] not in found and uids["Company 141"] in found
    assert fetch("SELECT op, count(*) FROM outbox GROUP BY op ORDER BY op") == [
        ("create", 600),
        ("edit", sum(1 for r in changed if set(r) - {"name", "status"} or "uid" in r)),
        ("set_status", 300),  # every odd row's
    ]


def test_an_imports_status_changes_are_undone_whole(store):
    store.import_targets([{"name": n, "status": "Cold"} for n in ("A", "B", "C")])
    store.import_targets([{"name": "a", "status": "Hot"}, {"name": "b", "status": "Active"}])
    undone = store.undo_last()
    assert undone is not None
    assert [t.status for t in store.list_targets()] == ["Cold", "Cold", "Cold"]
    assert_views_recomputed(store)


def test_updates_of_a_synced_target_are_made_on_its_version(store, fetch):
    uid = pull_target(store, "Teammate's")
    assert store.import_targets([{"name": "teammate's", "description": "x", "status": "Hot"}]) == (
        0,
        1,
    )
    assert fetch("SELECT op, base_version FROM outbox ORDER BY id") == [
        ("edit", 1),
        ("set_status", 1),
    ]
    assert store.get(uid).sync == "pending"
    assert_views_recomputed(store)


def test_targets_may_trade_names_in_one_import(store):
    """Renames are checked once all are written: row by row, the first rename met the
    name the second row was taking away."""
    a, b = store.create_target("Alpha"), store.create_target("Beta")
    rows = [{"uid": a.uid, "name": "Beta"}, {"uid": b.uid, "name": "Gamma"}]
    assert store.import_targets(rows) == (0, 2)
    assert (store.get(a.uid).name, store.get(b.uid).name) == ("Beta", "Gamma")


def test_two_rows_renaming_to_one_name_are_refused_naming_the_second(store, fetch):
    a, b = store.create_target("Alpha"), store.create_target("Beta")
    before = fetch("SELECT count(*) FROM outbox")
    rows = [{"uid": a.uid, "name": "Gamma", "status": "Hot"}, {"uid": b.uid, "name": "GAMMA"}]
    with pytest.raises(InvalidInput, match="row 2: name 'GAMMA' is already on row 1"):
        store.import_targets(rows)
    assert fetch("SELECT count(*) FROM outbox") == before
    assert (store.get(a.uid).name, store.get(a.uid).status) == ("Alpha", None)


def test_updates_say_how_far_they_got_in_chunks(store, monkeypatch: pytest.MonkeyPatch):
    import storage.importer

    store.import_targets([{"name": f"T{i}"} for i in range(5)])
    monkeypatch.setattr(storage.importer, "WRITE_CHUNK", 2)
    told: list[tuple[object, ...]] = []
    rows = [{"name": f"t{i}", "status": "Hot"} for i in range(5)] + [{"name": "New"}]
    store.import_targets(rows, lambda *args: told.append(args))
    assert told == [(2, 5, "updates"), (4, 5, "updates"), (5, 5, "updates")]  # 1 new: no chunks
