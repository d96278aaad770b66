"""User actions through the store: create, set status, edit, snooze, undo, get, history."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, date, datetime, timedelta

import pytest

from protocol import InvalidInput
from storage import NotFound, NotUndone, Store, Undone
from storage.types import iso
from tests.storage.storehelp import acknowledge, entry, new_id, pull_target, result, state


def test_open_creates_a_private_wal_file_with_a_device_id(store, db_path, fetch):
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600
    store.create_target("Acme")  # a write makes the -wal file
    for suffix in ("-wal", "-shm"):
        assert stat.S_IMODE(os.stat(f"{db_path}{suffix}").st_mode) == 0o600
    assert fetch("PRAGMA journal_mode") == [("wal",)]
    assert fetch("PRAGMA synchronous") == [(2,)]  # FULL
    assert fetch("PRAGMA foreign_keys") == [(1,)]
    assert len(store.device_id) == 36


def test_device_id_is_stable_across_opens(store, db_path, clock):
    with Store.open(db_path, clock=clock) as again:
        assert again.device_id == store.device_id


def test_create_with_everything(store, clock):
    t = store.create_target(" Acme ", "makes things", ["EU", " us ", "eu"], " hot", note="hi")
    assert (t.name, t.description, t.markets, t.status) == (
        "Acme",
        "makes things",
        ("EU", "us"),
        "Hot",
    )
    assert (t.status_since, t.created_at, t.days_in_status) == (clock.now, clock.now, 0)
    assert (t.sync, t.version, t.stagnation) == ("pending", None, "fresh")
    assert store.get(t.uid) == t
    [created] = store.history(t.uid)
    assert (created.old_status, created.new_status, created.note) == (None, "Hot", "hi")
    assert (created.changed_by, created.origin, created.sync) == ("alice", "local", "pending")


def test_create_without_status_has_no_audit_row(store, fetch):
    t = store.create_target("Acme")
    assert t.status is None
    assert store.history(t.uid) == []
    assert fetch("SELECT op, base_version, status FROM outbox") == [("create", None, None)]


def test_create_with_a_given_uid(store):
    uid = "0b7d2c8e-1f3a-4c5d-9e6f-7a8b9c0d1e2f"
    assert store.create_target("Acme", uid=uid.upper()).uid == uid
    with pytest.raises(InvalidInput, match="already exists"):
        store.create_target("Other", uid=uid)
    with pytest.raises(InvalidInput, match="not a valid uid"):
        store.create_target("Other", uid="nope")


def test_set_status_writes_view_audit_and_outbox(store, clock, fetch):
    t = store.create_target("Acme", status="Cold")
    clock.advance(days=3)
    done = store.set_status(t.uid, "active", note="call went well")
    assert done.changed and done.change_id
    assert (done.target.status, done.target.status_since) == ("Active", clock.now)
    rows = fetch("SELECT op, base_version, status, note FROM outbox ORDER BY id")
    assert rows[1] == ("set_status", 0, "Active", "call went well")
    latest = store.history(t.uid)[-1]
    assert (latest.change_id, latest.old_status, latest.new_status) == (
        done.change_id,
        "Cold",
        "Active",
    )
    assert latest.days_in_previous == 3


def test_setting_the_same_status_writes_nothing(store, fetch):
    t = store.create_target("Acme", status="Hot")
    before = fetch("SELECT count(*) FROM outbox")[0][0], fetch("SELECT count(*) FROM audit")[0][0]
    same = store.set_status(t.uid, " HOT ")
    assert not same.changed and same.change_id is None and same.target.status == "Hot"
    assert (
        fetch("SELECT count(*) FROM outbox")[0][0],
        fetch("SELECT count(*) FROM audit")[0][0],
    ) == before


def test_clearing_the_status(store):
    t = store.create_target("Acme", status="Hot")
    assert store.set_status(t.uid, "none").target.status is None
    assert store.set_status(t.uid, "").changed is False


@pytest.mark.parametrize("bad", ["warm", "Hot!", "0"])
def test_unknown_status_is_refused_and_nothing_written(store, fetch, bad):
    t = store.create_target("Acme", status="Cold")
    with pytest.raises(InvalidInput, match="unknown status") as err:
        store.set_status(t.uid, bad)
    assert repr(bad) in str(err.value)
    with pytest.raises(InvalidInput):
        store.create_target("Other", status=bad)
    assert fetch("SELECT count(*) FROM outbox")[0][0] == 1
    assert store.get(t.uid).status == "Cold"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"description": "x" * 10_001}, "description"),
        ({"markets": [f"m{i}" for i in range(33)]}, "markets"),
        ({"markets": ["x" * 65]}, "markets"),
        ({"markets": [" "]}, "markets"),
    ],
)
def test_field_limits_on_create_and_edit(store, fetch, kwargs, field):
    base = {"name": "Acme", **kwargs}
    with pytest.raises(InvalidInput) as err:
        store.create_target(**base)
    assert err.value.field == field
    t = store.create_target("Fine")
    with pytest.raises(InvalidInput):
        store.edit_target(t.uid, **kwargs)
    assert fetch("SELECT count(*) FROM targets")[0][0] == 1
    assert fetch("SELECT count(*) FROM outbox")[0][0] == 1


def test_limits_at_their_maximum_are_accepted(store):
    t = store.create_target(
        "x" * 255, "d" * 10_000, [f"{i:064d}" for i in range(32)], note="n" * 1000, status="Hot"
    )
    assert len(t.name) == 255 and len(t.markets) == 32
    with pytest.raises(InvalidInput, match="note"):
        store.set_status(t.uid, "Cold", note="n" * 1001)


def test_edit_records_only_changed_fields(store, fetch):
    t = store.create_target("Acme", "old", ["EU"])
    same = store.edit_target(t.uid, name="Acme", description="old", markets=["EU"])
    assert same == t
    edited = store.edit_target(t.uid, description="new", markets=["US", "eu"])
    assert (edited.name, edited.description, edited.markets) == ("Acme", "new", ("US", "eu"))
    assert fetch("SELECT op, fields FROM outbox ORDER BY id")[-1] == (
        "edit",
        '{"description":"new","markets":["US","eu"]}',
    )
    assert store.history(t.uid) == []  # details are not status changes
    assert store.markets() == ["eu", "US"]


def test_unknown_uid(store):
    for call in (
        lambda: store.get("nope"),
        lambda: store.set_status("nope", "Hot"),
        lambda: store.edit_target("nope", name="x"),
        lambda: store.snooze("nope", None),
        lambda: store.history("nope"),
    ):
        with pytest.raises(NotFound, match="nope"):
            call()


def test_snooze_is_local_only(store, fetch):
    t = store.create_target("Acme")
    snoozed = store.snooze(t.uid, date(2026, 7, 1))
    assert snoozed.snoozed_until == date(2026, 7, 1)
    assert snoozed.to_json()["snoozed_until"] == "2026-07-01"
    assert store.snooze(t.uid, None).snoozed_until is None
    assert fetch("SELECT count(*) FROM outbox")[0][0] == 1


def test_undo_walks_back_through_this_devices_changes(store, clock):
    assert store.undo_last() is None
    t = store.create_target("Acme", status="Cold")
    first = store.set_status(t.uid, "Active")
    second = store.set_status(t.uid, "Hot")
    undo = store.undo_last()
    assert (undo.count, undo.status, undo.target.status) == (1, "Hot", "Active")
    assert store.history(t.uid)[-1].note == f"undo of {second.change_id}"
    assert store.undo_last().target.status == "Cold"
    assert store.history(t.uid)[-1].note == f"undo of {first.change_id}"
    assert store.undo_last().target.status is None  # the create's status
    assert store.undo_last() is None


def test_undo_brings_back_the_status_and_since_when_it_was_held(store, clock):
    """A stale target set Hot by mistake and undone is stale again: its old status comes
    back with its days (they read 0, and the target fresh, for the whole team)."""
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    applied = state(t.uid, 1, clock.now, name="Acme", status="Cold")
    store.apply_push_results([result(create, "applied", applied)])
    held_since = store.get(t.uid).status_since
    assert held_since == clock.now
    clock.advance(days=90)
    assert store.get(t.uid).stagnation == "stale"
    store.set_status(t.uid, "Hot")  # pending, then undone before it went out
    clock.advance(minutes=2)
    undone = store.undo_last().target
    assert (undone.status, undone.status_since, undone.days_in_status) == ("Cold", held_since, 90)
    assert undone.stagnation == "stale"
    hot, undo = store.take_batch()
    assert (hot.status_since, undo.status_since) == (None, held_since)  # sent with the undo
    wire = json.loads(store.take_wire_batch(10)[1].json)
    assert wire["status_since"] == iso(held_since) and "status_since" not in json.loads(
        store.take_wire_batch(10)[0].json
    )

    for change, version in zip(store.take_batch(), (2, 3), strict=True):  # both went out
        done = state(t.uid, version, clock.now, name="Acme", status=change.status)
        done.status_changed_at = change.status_since or change.changed_at  # as the server keeps
        store.apply_push_results([result(change, "applied", done)])
    store.set_status(t.uid, "Active")  # synced before its undo: the same
    [active] = store.take_batch()
    done = state(t.uid, 4, clock.now, name="Acme", status="Active")
    store.apply_push_results([result(active, "applied", done)])
    clock.advance(days=1)
    assert store.undo_last().target.status_since == held_since


def test_days_before_a_change_count_the_days_an_undo_brought_back(store, clock):
    """Cold for 75 days, Hot by mistake, undone, then Active: history and activity say
    Active came after 75 days of Cold (they said 0, while list said 75)."""
    t = store.create_target("Acme", status="Cold")
    clock.advance(days=75)
    store.set_status(t.uid, "Hot")
    clock.advance(minutes=1)
    store.undo_last()
    clock.advance(minutes=1)
    assert store.get(t.uid).days_in_status == 75
    store.set_status(t.uid, "Active")
    *_, hot, undo, active = store.history(t.uid)
    assert (hot.days_in_previous, undo.days_in_previous, active.days_in_previous) == (75, 0, 75)
    newest = store.activity(clock.now - timedelta(days=1))
    assert [e.change.days_in_previous for e in newest] == [75, 0, 75]


def bobs_change(store: Store, uid: str, old: str | None, new: str, version: int) -> None:
    """Bob's status change of ``uid`` to ``new`` at ``version``, pulled with its entry."""
    at = datetime.now(UTC)
    entry_ = entry(new_id(), uid, at, old=old, new=new, version=version)
    store.apply_pull([state(uid, version, at, status=new)], [entry_], f"after-{version}")


def test_undo_leaves_a_change_someone_made_since(store):
    """My change, pushed, then a teammate's pulled over it: undoing mine would overwrite
    theirs, so nothing is undone and the undo says why; the next one goes past it."""
    uid = pull_target(store, "Acme")
    store.set_status(uid, "Hot")
    acknowledge(store, {uid: "Acme"}, "Hot", version=2)
    bobs_change(store, uid, "Hot", "Cold", 3)

    left = store.undo_last()
    assert isinstance(left, NotUndone)
    assert (left.target.uid, left.status, left.by, left.held) == (uid, "Hot", "bob", None)
    assert store.undo_last() is None  # past it: nothing earlier of mine
    assert store.get(uid).status == "Cold"


def test_undo_says_you_changed_it_on_another_device(store):
    """The change since was this user's own, from another device (the store's user is
    alice): said so, not "changed by alice" as if someone else."""
    uid = pull_target(store, "Acme")
    store.set_status(uid, "Hot")
    acknowledge(store, {uid: "Acme"}, "Hot", version=2)
    at = datetime.now(UTC)
    mine_elsewhere = entry(new_id(), uid, at, old="Hot", new="Cold", version=3, by="alice")
    store.apply_pull([state(uid, 3, at, status="Cold", by="alice")], [mine_elsewhere], "c3")
    left = store.undo_last()
    assert isinstance(left, NotUndone) and left.by_me
    assert "Acme was changed by you on another device since your change to Hot" in left.words()


def test_undo_leaves_a_teammates_change_back_to_my_status(store):
    """Bob moved the target on and then back to the status I had set: it has my status,
    but his change is the one that stands, and an undo of mine would overwrite it."""
    uid = pull_target(store, "Echo")
    store.set_status(uid, "Hot")
    acknowledge(store, {uid: "Echo"}, "Hot", version=2)
    bobs_change(store, uid, "Hot", "Closed", 3)
    bobs_change(store, uid, "Closed", "Hot", 4)

    left = store.undo_last()
    assert isinstance(left, NotUndone) and (left.target.uid, left.by) == (uid, "bob")
    assert store.get(uid).status == "Hot" and store.take_batch() == []


def test_undo_says_why_it_stops_and_then_goes_back_further(store):
    """My latest change was overtaken: the undo names it and undoes nothing (not,
    silently, an older change of another target); the next undo takes back the older."""
    lumen = store.create_target("Lumen", status="Active")
    store.set_status(lumen.uid, "Closed")
    acknowledge(store, {lumen.uid: "Lumen"}, "Closed", version=2)
    nimbus = pull_target(store, "Nimbus")
    store.set_status(nimbus, "Hot")
    acknowledge(store, {nimbus: "Nimbus"}, "Hot", version=2)
    bobs_change(store, nimbus, "Hot", "Cold", 3)

    left = store.undo_last()
    assert isinstance(left, NotUndone) and left.target.uid == nimbus
    assert store.get(lumen.uid).status == "Closed"
    undone = store.undo_last()
    assert isinstance(undone, Undone) and undone.target.uid == lumen.uid
    assert undone.target.status == "Active"


def test_undo_leaves_a_change_in_conflict(store):
    """A change the server refused as a conflict never stood there: undoing it would
    queue a change that overwrites the teammate's once the conflict is settled."""
    uid = pull_target(store, "Fjord")
    store.set_status(uid, "Passed")
    (change,) = store.take_batch()
    theirs = state(uid, 2, datetime.now(UTC), name="Fjord", status="Hot")
    store.apply_push_results([result(change, "conflict", theirs)])

    left = store.undo_last()
    assert isinstance(left, NotUndone) and left.held == "conflict"
    assert store.take_batch() == [] and len(store.conflicts()) == 1


def test_undo_leaves_a_change_that_converged_with_a_teammates(store):
    """Bob made the same change first; the server kept his (converged): the status is
    his now, and my undo would take back his change."""
    uid = pull_target(store, "Helios", uid=None)
    store.set_status(uid, "Hot")
    bobs_change(store, uid, None, "Hot", 2)
    (change,) = store.take_batch()
    store.apply_push_results(
        [result(change, "converged", state(uid, 2, datetime.now(UTC), status="Hot"))]
    )

    left = store.undo_last()
    assert isinstance(left, NotUndone) and left.by == "bob"
    assert "bob had made the same change of Acme to Hot first" in left.words()
    assert store.get(uid).status == "Hot"


def test_json_shapes(store, clock):
    t = store.create_target("Acme", status="Hot", markets=["EU"])
    assert t.to_json() == {
        "uid": t.uid,
        "name": "Acme",
        "description": "",
        "markets": ["EU"],
        "status": "Hot",
        "status_since": "2026-06-01T12:00:00Z",
        "days_in_status": 0,
        "stagnation": "fresh",
        "sync": "pending",
        "version": None,
        "snoozed_until": None,
    }
    [h] = store.history(t.uid)
    assert h.to_json()["changed_at"] == "2026-06-01T12:00:00Z"
    assert h.to_json()["sync"] == "pending"
