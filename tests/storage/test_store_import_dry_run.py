"""Store.import_targets(dry_run=True): the import's own checks and writes, rolled back;
its result says what the import would change, field by field, as a real import's does."""

from __future__ import annotations

import pytest

from protocol import InvalidInput


def written(fetch) -> list[list[tuple]]:
    """Every row of the tables an import writes."""
    return [
        fetch(f"SELECT * FROM {table} ORDER BY 1")
        for table in ("targets", "target_markets", "audit", "outbox", "meta")
    ]


def test_a_dry_run_says_what_would_change_and_writes_nothing(store, fetch):
    orsted = store.create_target("Ørsted", description="wind", markets=["EU"], status="Hot")
    beta = store.create_target("Beta Labs", status="Cold")
    store.set_status(orsted.uid, "Active")  # a teammate's newer change the file undoes
    before = written(fetch)
    rows = [
        {"uid": orsted.uid, "name": "Ørsted", "status": "Hot", "markets": "EU;DK"},
        {"uid": beta.uid, "name": "Beta", "description": "labs"},
        {"name": "Gamma"},
        {"name": "Delta", "uid": "abcd0000-0000-4000-8000-000000000001"},
    ]
    plan = store.import_targets(rows, dry_run=True)
    assert written(fetch) == before
    assert plan == (2, 2) and plan.dry_run
    first, second = plan.updated_targets
    assert (first.row, first.uid, first.name) == (1, orsted.uid, "Ørsted")
    assert first.changes == {"status": ("Active", "Hot"), "markets": (("EU",), ("EU", "DK"))}
    assert (second.row, second.name) == (2, "Beta Labs")
    assert second.changes == {"name": ("Beta Labs", "Beta"), "description": ("", "labs")}
    assert [(t.row, t.name, t.uid) for t in plan.created_targets] == [
        (3, "Gamma", None),
        (4, "Delta", "abcd0000-0000-4000-8000-000000000001"),
    ]
    done = store.import_targets(rows)  # the same plan, written
    assert done == plan and not done.dry_run
    assert done.updated_targets == plan.updated_targets
    assert done.created_targets == plan.created_targets
    assert store.get(orsted.uid).status == "Hot" and store.get(beta.uid).name == "Beta"
    assert written(fetch) != before


def test_a_dry_run_refuses_what_the_import_refuses_and_writes_nothing(store, fetch):
    """A rename is checked against the names once every rename is written, a new
    target's name after the updates: the dry run writes them to check them."""
    a = store.create_target("A")
    store.create_target("B")
    before = written(fetch)
    taken = [{"uid": a.uid, "name": "b"}]
    for dry_run in (True, False):
        with pytest.raises(InvalidInput, match=r"^row 1: .*already named 'B'"):
            store.import_targets(taken, dry_run=dry_run)
    new_on_renamed = [{"uid": a.uid, "name": "A2"}, {"name": "Gamma", "status": "warm"}]
    for dry_run in (True, False):
        with pytest.raises(InvalidInput, match="row 2: unknown status 'warm'"):
            store.import_targets(new_on_renamed, dry_run=dry_run)
    assert written(fetch) == before


def test_a_dry_run_passes_what_the_import_passes(store, fetch):
    """Two targets trading names, a new one taking a name a rename frees: fine once
    written, so fine in a dry run too."""
    a = store.create_target("A")
    b = store.create_target("B")
    before = written(fetch)
    new = "abcd0000-0000-4000-8000-000000000002"
    rows = [{"uid": a.uid, "name": "B"}, {"uid": b.uid, "name": "C"}, {"uid": new, "name": "A"}]
    plan = store.import_targets(rows, dry_run=True)
    assert plan == (1, 2) and written(fetch) == before
    assert [t.changes["name"] for t in plan.updated_targets] == [("A", "B"), ("B", "C")]


def test_a_dry_run_tells_its_progress_as_the_import(store, fetch, monkeypatch):
    import storage.importer

    monkeypatch.setattr(storage.importer, "WRITE_CHUNK", 2)
    store.import_targets([{"name": f"T{i}"} for i in range(3)])
    before = written(fetch)
    told: list[tuple] = []
    rows = [{"name": f"T{i}", "status": "Hot"} for i in range(4)]
    assert store.import_targets(rows, lambda *a: told.append(a), dry_run=True) == (1, 3)
    assert told == [(2, 3, "updates"), (3, 3, "updates")]
    assert written(fetch) == before
