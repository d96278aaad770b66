"""Settling conflicts (mine / theirs / another status) and dropping rejected changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from protocol import InvalidInput
from storage import NotFound
from tests.storage.storehelp import entry, new_id, result, state


@pytest.fixture
def conflicted(store, clock):
    """Acme synced at v1 (Cold); then locally Hot (conflicts: carol made it Passed at
    v5) and Closed (held behind it); and Beta, untouched by the conflict."""
    t = store.create_target("Acme", status="Cold")
    b = store.create_target("Beta")
    store.apply_push_results(
        [
            result(c, "applied", state(str(c.target), 1, clock.now, name=n, status=s))
            for c, n, s in zip(store.take_batch(), ["Acme", "Beta"], ["Cold", None], strict=True)
        ]
    )
    clock.advance(days=1)
    hot = store.set_status(t.uid, "Hot", note="mine")
    closed = store.set_status(t.uid, "Closed")
    first, _ = store.take_batch()
    theirs = state(t.uid, 5, clock.now, name="Acme", status="Passed", by="carol")
    store.apply_push_results(
        [result(first, "conflict", theirs), result(closed.change_id, "blocked")]
    )
    clock.advance(hours=1)
    return t.uid, hot.change_id, closed.change_id, b.uid


def test_keep_mine_reissues_on_the_servers_version(store, clock, conflicted, fetch):
    uid, hot, closed, _ = conflicted
    view = store.resolve_conflict(hot, "mine")
    assert (view.status, view.sync, view.version) == ("Closed", "pending", 5)
    assert store.conflicts() == []
    batch = store.take_batch()
    assert [(str(c.change_id), c.base_version, c.status) for c in batch] == [
        (hot, 5, "Hot"),
        (closed, 5, "Closed"),  # the held change goes on, rebased too
    ]
    assert batch[0].changed_at == clock.now  # re-issued now
    reissued = [h for h in store.history(uid) if h.change_id == hot][0]
    assert (reissued.old_status, reissued.new_status, reissued.sync) == ("Passed", "Hot", "pending")


@pytest.mark.parametrize("choice", ["mine", "theirs", "active"])
def test_settling_a_status_conflict_leaves_a_later_edit_on_the_version_it_was_made_on(
    store, clock, choice
):
    """The user took a side on the status, not on the details: an edit made on version 1
    and waiting behind the conflict stays on it, so the server still counts a teammate's
    edit made since."""
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, name="Acme"))])
    hot = store.set_status(t.uid, "Hot")
    store.edit_target(t.uid, description="mine too")
    store.set_status(t.uid, "Closed")
    first, *later = store.take_batch()
    theirs = state(t.uid, 5, clock.now, name="Acme", status="Passed", by="carol")
    store.apply_push_results(
        [result(first, "conflict", theirs)] + [result(c, "blocked") for c in later]
    )
    store.resolve_conflict(hot.change_id, choice)
    bases = [(c.op, c.base_version) for c in store.take_batch()]
    assert ("edit", 1) in bases and ("set_status", 5) in bases, bases


def test_take_theirs_drops_the_change_and_its_audit_row(store, clock, conflicted):
    uid, hot, closed, _ = conflicted
    view = store.resolve_conflict(hot[:8], "THEIRS")  # a unique prefix will do
    assert (view.status, view.version, view.sync) == ("Closed", 5, "pending")
    assert hot not in [h.change_id for h in store.history(uid)]
    [change] = store.take_batch()
    assert (str(change.change_id), change.base_version) == (closed, 5)
    store.apply_push_results([result(change, "applied", state(uid, 6, clock.now, status="Closed"))])
    assert store.get(uid).sync == "synced"


def test_take_theirs_with_nothing_held_shows_the_server(store, clock):
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Cold"))])
    mine = store.set_status(t.uid, "Hot")
    theirs = state(t.uid, 2, clock.now, status="Active", by="carol")
    store.apply_push_results([result(mine.change_id, "conflict", theirs)])
    assert store.get(t.uid).status == "Hot"  # until settled, the user sees their change
    view = store.resolve_conflict(mine.change_id, "theirs")
    assert (view.status, view.sync, view.version) == ("Active", "synced", 2)
    assert [h.new_status for h in store.history(t.uid)] == ["Cold"]


def test_choose_another_status(store, conflicted):
    uid, hot, closed, _ = conflicted
    store.resolve_conflict(hot, "active")
    first, second = store.take_batch()
    assert (str(first.change_id), first.status, first.base_version) == (hot, "Active", 5)
    assert str(second.change_id) == closed
    entry = [h for h in store.history(uid) if h.change_id == hot][0]
    assert (entry.old_status, entry.new_status) == ("Passed", "Active")


def test_another_status_goes_with_the_note_given_not_the_old_one(store, conflicted):
    """The old note ("mine") was written for Hot; on Active it would tell a false story
    in everyone's history. The note typed with the new status goes instead."""
    uid, hot, _, _ = conflicted
    store.resolve_conflict(hot, "Active", note="compromise after the call")
    first, _ = store.take_batch()
    assert (first.status, first.note) == ("Active", "compromise after the call")
    [mine] = [h for h in store.history(uid) if h.change_id == hot]
    assert (mine.new_status, mine.note) == ("Active", "compromise after the call")


def test_keep_mine_keeps_its_note(store, conflicted):
    uid, hot, _, _ = conflicted
    store.resolve_conflict(hot, "mine", note="ignored")
    first, _ = store.take_batch()
    assert (first.status, first.note) == ("Hot", "mine")


def test_an_undo_waiting_behind_a_conflict_goes_with_the_change_it_undoes(store, clock):
    """Set Passed, undo it, both not yet sent; the server refuses Passed (alice made it
    Hot): the undo waits behind it. Taking theirs drops Passed, and the undo with it:
    sent alone it would turn alice's Hot back to my old status."""
    t = store.create_target("Fjord", status="Active")
    [create] = store.take_batch()
    store.apply_push_results(
        [result(create, "applied", state(t.uid, 1, clock.now, status="Active"))]
    )
    passed = store.set_status(t.uid, "Passed", note="b")
    store.undo_last()
    first, undo = store.take_batch()
    theirs = state(t.uid, 2, clock.now, status="Hot", by="alice")
    store.apply_push_results([result(first, "conflict", theirs), result(undo, "blocked")])

    view = store.resolve_conflict(passed.change_id, "theirs")

    assert (view.status, view.sync) == ("Hot", "synced")
    assert store.take_batch() == []
    assert [h.note for h in store.history(t.uid)] == [None]  # the create only


def test_a_settled_conflict_is_the_change_an_undo_takes_back_first(store, clock):
    """Settling is the user's latest action: after it (and a change of another target
    made before it), undo takes back the settled change, not the other one."""
    t = store.create_target("Acme", status="Cold")
    other = store.create_target("Other", status="Cold")
    store.apply_push_results(
        [
            result(c, "applied", state(str(c.target), 1, clock.now, status="Cold"))
            for c in store.take_batch()
        ]
    )
    mine = store.set_status(t.uid, "Hot")
    [change] = store.take_batch()
    theirs = state(t.uid, 2, clock.now, status="Passed", by="carol")
    store.apply_push_results([result(change, "conflict", theirs)])
    store.set_status(other.uid, "Active")  # meanwhile, before settling

    store.resolve_conflict(mine.change_id, "Closed")
    undone = store.undo_last()

    assert undone.target.uid == t.uid and undone.target.status == "Passed"
    assert store.get(other.uid).status == "Active"


def conflict_with_an_undo_behind(store, clock):
    """Fjord synced Cold; here Hot, then undone (both unsent); the server refuses Hot
    (bob made it Active): the undo waits behind it. Returns the uid and Hot's id."""
    t = store.create_target("Fjord", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Cold"))])
    hot = store.set_status(t.uid, "Hot")
    store.undo_last()
    first, undo = store.take_batch()
    theirs = state(t.uid, 2, clock.now, status="Active", by="bob")
    store.apply_push_results([result(first, "conflict", theirs), result(undo, "blocked")])
    return t.uid, hot.change_id


def test_keeping_mine_drops_an_undo_waiting_behind_it(store, clock):
    """The user undid Hot, then, shown the conflict, kept Hot: that is their latest word.
    Sent after it, the undo would set Cold, neither theirs nor bob's."""
    uid, hot = conflict_with_an_undo_behind(store, clock)
    (shown,) = store.conflicts()  # said, so the user knows what settling drops
    assert shown.undone and shown.to_json()["mine"]["undone"] is True
    view = store.resolve_conflict(hot, "mine")
    assert view.status == "Hot"
    assert [c.status for c in store.take_batch()] == ["Hot"]


def test_a_change_waiting_behind_a_settled_conflict_follows_what_was_settled(store, clock):
    """Hot (conflict: bob made it Passed), then Closed waiting behind it; taking theirs
    drops Hot, and Closed now follows Passed: its history says so, and undoing it
    brings back Passed, not the Hot nobody has."""
    t = store.create_target("Romeo", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Cold"))])
    hot = store.set_status(t.uid, "Hot")
    store.set_status(t.uid, "Closed")
    first, closed = store.take_batch()
    theirs = state(t.uid, 2, clock.now, status="Passed", by="bob")
    store.apply_push_results([result(first, "conflict", theirs), result(closed, "blocked")])

    store.resolve_conflict(hot.change_id, "theirs")

    [entry] = [h for h in store.history(t.uid) if h.change_id == str(closed.change_id)]
    assert (entry.old_status, entry.new_status) == ("Passed", "Closed")
    assert store.undo_last().target.status == "Passed"


def test_an_undo_of_a_change_waiting_behind_a_settled_conflict_brings_back_the_settled(
    store, clock
):
    """Closed (conflict: sam made it Passed), then Hot and its undo waiting behind it
    (back to Closed). Settled on Active: Hot follows Active, and its undo brings back
    Active, not the Closed the user gave up (the demo's story, found by driving it)."""
    t = store.create_target("Driftwood", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Cold"))])
    closed = store.set_status(t.uid, "Closed")
    store.set_status(t.uid, "Hot", note="x")
    store.undo_last()
    first, *held = store.take_batch()
    theirs = state(t.uid, 2, clock.now, status="Passed", by="sam")
    store.apply_push_results(
        [result(first, "conflict", theirs), *(result(c, "blocked") for c in held)]
    )

    view = store.resolve_conflict(closed.change_id, "Active", note="met halfway")

    assert [c.status for c in store.take_batch()] == ["Active", "Hot", "Active"]
    assert view.status == "Active"
    assert [(h.old_status, h.new_status) for h in store.history(t.uid)][-2:] == [
        ("Active", "Hot"),
        ("Hot", "Active"),
    ]


def test_undo_leaves_a_change_waiting_behind_a_rejected_new_target(store, clock):
    t = store.create_target("Tango", status="Cold")
    store.set_status(t.uid, "Hot")
    create, _ = store.take_batch()
    store.apply_push_results([result(create, "rejected", None, "a different target ...")])
    left = store.undo_last()
    assert left.held == "rejected" and "waits on a change the server rejected" in left.words()
    assert store.get(t.uid).status == "Hot"


def test_bad_resolutions(store, conflicted, clock):
    _, hot, _, beta = conflicted
    with pytest.raises(InvalidInput, match="unknown status"):
        store.resolve_conflict(hot, "maybe")
    with pytest.raises(NotFound):
        store.resolve_conflict("00000000-0000-4000-8000-000000000000", "mine")
    store.edit_target(beta, description="x")
    [edit] = [c for c in store.take_batch() if str(c.target) == beta]
    store.apply_push_results([result(edit, "conflict", state(beta, 3, clock.now, name="Beta"))])
    with pytest.raises(InvalidInput, match="mine"):
        store.resolve_conflict(str(edit.change_id), "Hot")
    assert len(store.conflicts()) == 2


def test_drop_rejected_change(store, rejected):
    uid, bad, later = rejected
    assert store.take_batch() == []
    view = store.drop_rejected(bad)
    assert (view.status, view.sync) == ("Closed", "pending")
    assert [str(c.change_id) for c in store.take_batch()] == [later]
    assert bad not in [h.change_id for h in store.history(uid)]
    with pytest.raises(NotFound):
        store.drop_rejected(bad)


def test_drop_rejected_create_removes_the_target(store, fetch):
    t = store.create_target("Acme", status="Hot", markets=["EU"])
    store.set_status(t.uid, "Cold")
    [create, _] = store.take_batch()
    store.apply_push_results([result(create, "rejected", error="bad name")])
    last = store.drop_rejected(str(create.change_id))
    assert last.uid == t.uid
    with pytest.raises(NotFound):
        store.get(t.uid)
    for table in ("targets", "outbox", "audit", "target_markets", "targets_fts"):
        assert fetch(f"SELECT count(*) FROM {table}") == [(0,)], table
    assert store.list_targets() == []


def test_a_rejected_new_target_is_made_again_under_a_new_uid(store, fetch):
    """What the user typed (and changed since, held behind the rejection) is kept."""
    t = store.create_target("Acme", "Robots", ["EU"], status="Hot", note="met at a fair")
    store.set_status(t.uid, "Cold")
    [create, _] = store.take_batch()
    store.apply_push_results([result(create, "rejected", error="a different target ...")])

    again = store.recreate_rejected(str(create.change_id)[:8])

    assert again.uid != t.uid
    assert (again.name, again.description, again.markets, again.status, again.sync) == (
        "Acme",
        "Robots",
        ("EU",),
        "Cold",
        "pending",
    )
    assert [t.uid for t in store.list_targets()] == [again.uid]
    assert store.rejected() == []
    [new] = store.take_batch()
    assert (new.op, str(new.target), new.status, new.note) == (
        "create",
        again.uid,
        "Cold",
        "met at a fair",
    )


def _refused_apart(store, name: str, theirs_name: str, status: str = "Cold"):
    """A new target of ours refused: its uid is a teammate's target (``theirs_name``).
    (our create, the server's state, our target as set apart)."""
    t = store.create_target(name, status=status)
    [create] = store.take_batch()
    theirs = state(t.uid, 1, datetime.now(UTC), name=theirs_name, status="Cold")
    store.apply_push_results([result(create, "rejected", theirs, "a different target ...")])
    [refused] = store.rejected()
    return create, theirs, store.get(refused.target)


def test_a_new_target_whose_uid_the_server_has_is_set_apart(store):
    """The demo's story: an import under a uid the server gives another target. The uid
    shows the server's target, as the server says (before and after the pull); ours is
    apart under a uid of its own, refused, named as the user named it."""
    create, theirs, ours = _refused_apart(store, "Salt Marsh Aqua AS", "Saltmarsh Aquaculture")
    uid = str(create.target)
    assert ours.uid != uid
    assert (ours.name, ours.status, ours.sync, ours.version) == (
        "Salt Marsh Aqua AS",
        "Cold",
        "rejected",
        None,
    )
    for _ in range(2):
        team = store.get(uid)
        assert (team.name, team.status, team.sync) == ("Saltmarsh Aquaculture", "Cold", "synced")
        store.apply_pull([theirs], [], "after-theirs")
    [refused] = store.rejected()
    assert (refused.name, refused.target) == ("Salt Marsh Aqua AS", ours.uid)
    assert "'Saltmarsh Aquaculture' (shown apart)" in refused.reason
    assert store.take_batch() == []


def test_a_rejected_new_target_whose_uid_the_server_has_leaves_the_servers(store):
    """Ours made again beside the server's, with what was made on it meanwhile."""
    create, theirs, ours = _refused_apart(store, "Salt Marsh Aqua AS", "Saltmarsh Aquaculture")
    store.apply_pull([theirs], [], "after-theirs")
    store.set_status(ours.uid, "Hot", note="v1")  # held behind the rejection: the user's

    again = store.recreate_rejected(str(create.change_id))
    assert [h.note for h in store.history(again.uid)] == ["v1"]  # made Hot, with its note

    server_side = store.get(str(create.target))
    assert (server_side.name, server_side.status, server_side.sync) == (
        "Saltmarsh Aquaculture",
        "Cold",
        "synced",
    )
    assert (again.name, again.status) == ("Salt Marsh Aqua AS", "Hot")
    assert [str(c.target) for c in store.take_batch()] == [again.uid]


def test_dropping_a_rejected_new_target_drops_its_later_changes_too(store):
    """The server gives the uid to a teammate's target: the changes made on the
    rejected one (an edit, a status) were the user's target's, never the teammate's:
    dropping it drops them, and the teammate's target keeps taking changes."""
    create, theirs, ours = _refused_apart(store, "Quartz Fair Lead", "Quartz Security")
    store.apply_pull([theirs], [], "after-theirs")
    store.edit_target(ours.uid, description="bob: met at fair")
    store.set_status(ours.uid, "Hot")

    gone = store.drop_rejected(str(create.change_id))

    assert gone.uid == ours.uid
    with pytest.raises(NotFound):
        store.get(ours.uid)
    left = store.get(str(create.target))
    assert (left.name, left.description, left.status, left.sync) == (
        "Quartz Security",
        "",
        "Cold",
        "synced",
    )
    assert store.take_batch() == [] and store.rejected() == []
    store.set_status(left.uid, "Active")
    [change] = store.take_batch()
    assert (str(change.target), change.base_version) == (left.uid, 1)


def test_while_a_new_target_is_refused_its_uid_holders_history_is_its_own(store):
    """The server refused Tango Labs: its uid is Uniform Co's (a copied export). The
    history pulled for that uid is Uniform Co's and shows under it; Tango Labs, apart,
    keeps its own (shown under it, the activity would say bob made Tango Labs)."""
    create, theirs, ours = _refused_apart(store, "Tango Labs", "Uniform Co")
    uid = str(create.target)
    made = entry(new_id(), uid, datetime.now(UTC), old=None, new="Cold", version=1, op="create")
    store.apply_pull([theirs], [made], "after-theirs")

    assert [h.change_id for h in store.history(uid)] == [str(made.change_id)]
    assert [h.changed_by for h in store.history(ours.uid)] == ["alice"]
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert sorted((e.name, e.change.changed_by) for e in store.activity(since)) == [
        ("Tango Labs", "alice"),
        ("Uniform Co", "bob"),
    ]
    store.drop_rejected(str(create.change_id))
    assert [h.change_id for h in store.history(uid)] == [str(made.change_id)]


def test_only_a_rejected_new_target_is_made_again(store, rejected):
    _uid, bad, _later = rejected
    with pytest.raises(InvalidInput, match="status change: only a new target is made again"):
        store.recreate_rejected(bad)
    assert [r.change_id for r in store.rejected()] == [bad]


def test_a_conflict_shows_the_teammates_note_once_pulled(store, clock, conflicted):
    uid, _, _, _ = conflicted
    assert store.conflicts()[0].theirs_note is None  # the answer came; the pull not yet
    at = clock.now
    notes = {1: "before our base", 3: None, 5: "LOI signed", 6: "after the answer"}
    old = {1: None, 3: "Cold", 5: "Active", 6: "Passed"}
    new = {1: "Cold", 3: "Active", 5: "Passed", 6: "Hot"}
    history = [
        entry(new_id(), uid, at, old=old[v], new=new[v], version=v, by="carol", entry_id=v, note=n)
        for v, n in notes.items()
    ]
    store.apply_pull(
        [state(uid, 5, at, name="Acme", status="Passed", by="carol")], history[:3], "c1"
    )
    (conflict,) = store.conflicts()
    assert (conflict.theirs_status, conflict.theirs_version) == ("Passed", 5)
    assert conflict.theirs_note == "LOI signed"
    assert conflict.to_json()["theirs"]["note"] == "LOI signed"


def test_a_conflict_shows_and_is_settled_on_the_newest_version_pulled(store, clock, conflicted):
    """carol changed Acme again after the push's answer (v5 Passed): the pull brings v6
    Hot. The conflict is with v6 now: shown so, and kept mine on v6 (on v5 it met v6 as
    a conflict again, with a base of v5 said to be Hot)."""
    uid, hot, closed, _ = conflicted
    at = clock.now
    again = entry(new_id(), uid, at, old="Passed", new="Active", version=6, by="dan", note="met")
    store.apply_pull([state(uid, 6, at, name="Acme", status="Active", by="dan")], [again], "c1")
    (conflict,) = store.conflicts()
    assert (conflict.theirs_status, conflict.theirs_version) == ("Active", 6)
    assert (conflict.theirs_changed_by, conflict.theirs_note) == ("dan", "met")
    view = store.resolve_conflict(hot, "mine")
    assert (view.status, view.version) == ("Closed", 6)
    batch = store.take_batch()
    assert [(str(c.change_id), c.base_version) for c in batch] == [(hot, 6), (closed, 6)]
    reissued = [h for h in store.history(uid) if h.change_id == hot][0]
    assert reissued.old_status == "Active"


def test_an_edit_conflict_shows_the_servers_values_of_the_details_it_changes(
    store, conflicted, clock
):
    _, _, _, beta = conflicted
    store.edit_target(beta, description="mine", markets=["EU"])
    [edit] = [c for c in store.take_batch() if str(c.target) == beta]
    theirs = state(beta, 3, clock.now, name="Beta", description="carol's", markets=("US", "CA"))
    store.apply_push_results([result(edit, "conflict", theirs)])
    [conflict] = [c for c in store.conflicts() if c.op == "edit"]
    assert conflict.mine_fields == {"description": "mine", "markets": ["EU"]}
    assert conflict.theirs_fields == {"description": "carol's", "markets": ["US", "CA"]}
    shown = conflict.to_json()
    assert shown["mine"]["fields"] == conflict.mine_fields
    assert shown["theirs"]["fields"] == conflict.theirs_fields
    [status] = [c for c in store.conflicts() if c.op == "set_status"]
    assert status.theirs_fields is None and status.to_json()["mine"]["fields"] is None


def test_an_edit_conflict_says_the_status_its_base_version_had(store, clock):
    """An edit has no audit row of its own: its base status is read from the status
    history up to its base version (it read null, "no status", for a Cold target)."""
    uid = store.create_target("Gamma", status="Cold").uid
    [create] = store.take_batch()
    store.apply_push_results(
        [result(create, "applied", state(uid, 1, clock.now, name="Gamma", status="Cold"))]
    )
    store.edit_target(uid, description="mine")
    [edit] = store.take_batch()
    theirs = state(uid, 2, clock.now, name="Gamma", description="carol's", status="Cold")
    store.apply_push_results([result(edit, "conflict", theirs)])
    [conflict] = store.conflicts()
    assert (conflict.base_status, conflict.base_version) == ("Cold", 1)
    base = {"status": "Cold", "version": 1}
    assert conflict.to_json()["base"] == {**base, "fields": {**GAMMA, "markets": []}}


GAMMA = {"name": "Gamma", "description": ""}


def _edit_meets(store, clock, theirs: dict, pulled_edit: tuple | None = None):
    """Gamma (v1, synced, EU) edited here to description "mine"; the server answers that
    bob changed its details to ``theirs`` (v3) meanwhile; ``pulled_edit``: (version, by,
    at) of a teammate's edit as a pull brought it."""
    uid = store.create_target("Gamma", status="Cold", markets=["EU"]).uid
    [create] = store.take_batch()
    made = state(uid, 1, clock.now, **GAMMA, markets=("EU",), status="Cold")
    store.apply_push_results([result(create, "applied", made)])
    store.edit_target(uid, description="mine")
    [edit] = store.take_batch()
    if pulled_edit is not None:
        version, by, at = pulled_edit
        pulled = entry(new_id(), uid, at, old=None, new=None, version=version, by=by, op="edit")
        store.apply_pull([], [pulled], "c1")
    answer = {**GAMMA, "markets": ("EU",), **theirs}
    store.apply_push_results([result(edit, "conflict", state(uid, 3, clock.now, **answer))])
    [conflict] = store.conflicts()
    return conflict


def test_an_edit_conflict_shows_the_details_the_teammate_changed(store, clock):
    """My description met carol's markets: the conflict showed only the description,
    theirs the same as before, and not why it conflicted."""
    conflict = _edit_meets(store, clock, {"markets": ("EU", "US")})
    assert conflict.mine_fields == {"description": "mine"}
    assert conflict.theirs_fields == {"description": "", "markets": ["EU", "US"]}
    assert conflict.base_fields == {**GAMMA, "markets": ["EU"]}


def test_an_edit_conflict_says_who_changed_the_details_and_when(store, clock):
    """Who and when were the target's last change of any kind: the status change carol
    made after her edit (its time), or ours ("?", "never")."""
    at = clock.now - timedelta(minutes=5)
    conflict = _edit_meets(store, clock, {"name": "Gamma AG"}, (2, "carol", at))
    assert (conflict.theirs_changed_by, conflict.theirs_changed_at) == ("carol", at)
    assert conflict.theirs_fields == {"description": "", "name": "Gamma AG"}


def test_a_conflict_whose_teammate_comes_round_to_mine_settles_itself(store, clock, conflicted):
    """carol made Acme Passed (the conflict), then Hot, as I had: there is nothing left
    to choose. The pull that brings her Hot settles it as "keep mine": my change goes out
    again on her version (to be answered converged), Closed held behind it."""
    uid, hot, closed, _ = conflicted
    again = entry(new_id(), uid, clock.now, old="Passed", new="Hot", version=6, by="carol")
    pulled = store.apply_pull(
        [state(uid, 6, clock.now, name="Acme", status="Hot", by="carol")], [again], "c1"
    )
    assert pulled.settled == 1
    assert store.conflicts() == []
    batch = store.take_batch()
    assert [(str(c.change_id), c.base_version, c.status) for c in batch] == [
        (hot, 6, "Hot"),
        (closed, 6, "Closed"),
    ]
    [mine] = [h for h in store.history(uid) if h.change_id == hot]
    assert (mine.old_status, mine.new_status, mine.note) == ("Cold", "Hot", "mine")
    store.apply_push_results(
        [
            result(batch[0], "converged", state(uid, 6, clock.now, name="Acme", status="Hot")),
            result(batch[1], "applied", state(uid, 7, clock.now, name="Acme", status="Closed")),
        ]
    )
    [mine] = [h for h in store.history(uid) if h.change_id == hot]
    assert (mine.old_status, mine.new_status, mine.sync) == ("Cold", "Hot", "converged")


def test_a_conflict_whose_teammate_moved_elsewhere_still_waits(store, clock, conflicted):
    uid, hot, _, _ = conflicted
    again = entry(new_id(), uid, clock.now, old="Passed", new="Active", version=6, by="carol")
    pulled = store.apply_pull(
        [state(uid, 6, clock.now, name="Acme", status="Active", by="carol")], [again], "c1"
    )
    assert pulled.settled == 0
    assert [c.change_id for c in store.conflicts()] == [hot]


def test_an_undone_conflict_waits_even_when_the_teammate_comes_round(store, clock):
    """I set Passed and undid it before the push's answer said alice had made it Hot;
    then alice made it Passed too. The undo is my latest word: the conflict waits."""
    t = store.create_target("Fjord", status="Active")
    [create] = store.take_batch()
    store.apply_push_results(
        [result(create, "applied", state(t.uid, 1, clock.now, status="Active"))]
    )
    passed = store.set_status(t.uid, "Passed")
    store.undo_last()
    first, undo = store.take_batch()
    theirs = state(t.uid, 2, clock.now, status="Hot", by="alice")
    store.apply_push_results([result(first, "conflict", theirs), result(undo, "blocked")])
    pulled = store.apply_pull([state(t.uid, 3, clock.now, status="Passed", by="alice")], [], "c1")
    assert pulled.settled == 0
    [conflict] = store.conflicts()
    assert (conflict.change_id, conflict.undone) == (passed.change_id, True)


def test_an_edit_conflict_settles_itself_when_the_details_agree(store, clock):
    t = store.create_target("Delta", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, name="Delta"))])
    store.edit_target(t.uid, markets=["Nordics", "EU"])
    [edit] = store.take_batch()
    theirs = state(t.uid, 2, clock.now, name="Delta", markets=["Nordics"], by="carol")
    store.apply_push_results([result(edit, "conflict", theirs)])
    store.apply_pull([theirs], [], "c1")
    assert [c.change_id for c in store.conflicts()] == [str(edit.change_id)]
    newer = state(t.uid, 3, clock.now, name="Delta", markets=["EU", "Nordics"], by="carol")
    assert store.apply_pull([newer], [], "c2").settled == 1
    assert store.conflicts() == []
    [again] = store.take_batch()
    assert (str(again.change_id), again.base_version) == (str(edit.change_id), 3)


def test_history_keeps_the_servers_order_for_a_change_stamped_with_a_teammates_time(store, clock):
    """Offline: Hot, then Cold; carol made it Active. Theirs taken, Cold goes out after
    it: the server stamps it with carol's time (never before hers). Every device must
    list carol's Active, then my Cold; mine listed my Cold first (its row is older here),
    so the newest change read "Passed → Active" while the target was Cold."""
    t = store.create_target("Tarn", status="Passed")
    [create] = store.take_batch()
    store.apply_push_results(
        [result(create, "applied", state(t.uid, 1, clock.now, status="Passed"))]
    )
    clock.advance(minutes=5)
    hot = store.set_status(t.uid, "Hot")
    cold = store.set_status(t.uid, "Cold")
    first, later = store.take_batch()
    clock.advance(minutes=5)
    theirs = state(t.uid, 2, clock.now, status="Active", by="carol")
    store.apply_push_results([result(first, "conflict", theirs), result(later, "blocked")])
    store.resolve_conflict(hot.change_id, "theirs")
    [again] = store.take_batch()
    store.apply_push_results(
        [result(again, "applied", state(t.uid, 3, clock.now, status="Cold", by="alice"))]
    )
    pulled = [
        entry(
            new_id(),
            t.uid,
            clock.now,
            old="Passed",
            new="Active",
            version=2,
            by="carol",
            entry_id=2,
        ),
        entry(
            cold.change_id,
            t.uid,
            clock.now,
            old="Active",
            new="Cold",
            version=3,
            by="alice",
            entry_id=3,
        ),
    ]
    store.apply_pull([state(t.uid, 3, clock.now, status="Cold", by="alice")], pulled, "c1")
    steps = [(h.old_status, h.new_status) for h in store.history(t.uid)]
    assert steps == [(None, "Passed"), ("Passed", "Active"), ("Active", "Cold")]
    since = clock.now - timedelta(days=1)
    newest = [(e.change.old_status, e.change.new_status) for e in store.activity(since)]
    assert newest[:2] == [("Active", "Cold"), ("Passed", "Active")]


def test_an_edit_conflict_after_my_own_status_change_does_not_name_me(store, clock):
    """Offline: Hot, then a new description; carol edited the description meanwhile. One
    push: Hot applied (v3, by me), the edit a conflict on v3. The target's last change
    (v3) is mine, not carol's edit: who and when are not known, never "me"."""
    t = store.create_target("Delta", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, name="Delta"))])
    store.set_status(t.uid, "Hot")
    store.edit_target(t.uid, description="mine")
    hot, edit = store.take_batch()
    mine = state(t.uid, 3, clock.now, name="Delta", description="carol's", status="Hot", by="me")
    store.apply_push_results([result(hot, "applied", mine), result(edit, "conflict", mine)])
    [conflict] = store.conflicts()
    assert (conflict.theirs_fields, conflict.theirs_version) == ({"description": "carol's"}, 3)
    assert (conflict.theirs_changed_by, conflict.theirs_changed_at) == (None, None)


def test_a_settled_conflicts_later_change_stays_after_it(store, clock, conflicted):
    """Hot met carol's Passed; Closed waits behind it. carol comes round to Hot: the
    conflict settles itself, Hot is sent again now. Closed follows it, so it is dated
    with it: activity's newest change is Closed (the target's status), not Hot."""
    uid, hot, closed, _ = conflicted
    clock.advance(hours=2)
    again = entry(new_id(), uid, clock.now, old="Passed", new="Hot", version=6, by="carol")
    store.apply_pull(
        [state(uid, 6, clock.now, name="Acme", status="Hot", by="carol")], [again], "c1"
    )
    assert [h.change_id for h in store.history(uid)][-2:] == [hot, closed]
    since = clock.now - timedelta(days=30)
    newest = [e.change.change_id for e in store.activity(since)][:2]
    assert newest == [closed, hot]
    assert store.get(uid).status == "Closed"


def test_a_change_of_mine_the_server_put_after_a_teammates_is_listed_after_it(store, clock):
    """Pushed and applied (v3) before the pull brings carol's earlier-numbered change
    (v2), dated later than mine by her clock: history lists the server's order."""
    t = store.create_target("Kappa", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Cold"))])
    mine = store.set_status(t.uid, "Hot")
    [change] = store.take_batch()
    store.apply_push_results([result(change, "applied", state(t.uid, 3, clock.now, status="Hot"))])
    later = clock.now + timedelta(minutes=5)
    theirs = entry(
        new_id(), t.uid, later, old="Cold", new="Active", version=2, by="carol", entry_id=2
    )
    store.apply_pull([], [theirs], "c1")
    assert [h.change_id for h in store.history(t.uid)][-2:] == [
        str(theirs.change_id),
        mine.change_id,
    ]


def test_taking_theirs_with_the_later_changes_ends_at_theirs(store, clock, conflicted):
    """Hot met carol's Passed; Closed waits behind it. Taking theirs keeps Closed (it
    follows any choice); taking theirs with drop_later drops it too, with its history
    row: the target ends at carol's Passed, nothing left to send."""
    uid, hot, closed, _ = conflicted
    view = store.resolve_conflict(hot, "theirs", drop_later=True)
    assert (view.status, view.sync) == ("Passed", "synced")
    assert store.take_batch() == []
    ids = [h.change_id for h in store.history(uid)]
    assert hot not in ids and closed not in ids
    with pytest.raises(InvalidInput, match="keep mine keeps the later changes"):
        store.resolve_conflict("ffff", "mine", drop_later=True)


def test_another_status_with_the_later_changes_dropped_ends_at_it(store, clock, conflicted):
    uid, hot, closed, _ = conflicted
    view = store.resolve_conflict(hot, "Active", note="met halfway", drop_later=True)
    assert view.status == "Active"
    [again] = store.take_batch()
    assert (str(again.change_id), again.status, again.base_version) == (hot, "Active", 5)


def test_a_conflict_with_a_teammates_undo_says_when_they_undid(store, clock):
    """Bob set Closed and undid it: the server's Cold is held since Alice made it (an
    undo brings back since when), long before bob's undo. The conflict said bob changed
    it then; it says when bob made his change, once pulled."""
    t = store.create_target("Kappa", status="Cold")
    made_at = clock.now
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, made_at, name="Kappa"))])
    clock.advance(hours=2)
    mine = store.set_status(t.uid, "Hot")
    undone_at = clock.now - timedelta(minutes=5)
    theirs = state(t.uid, 3, undone_at, name="Kappa", status="Cold", status_at=made_at)
    store.apply_push_results([result(mine.change_id, "conflict", theirs)])
    assert store.conflicts()[0].theirs_changed_at == made_at  # until the pull brings it
    history = [
        entry(new_id(), t.uid, undone_at - timedelta(minutes=1), old="Cold", new="Closed",
              version=2, entry_id=1),
        entry(new_id(), t.uid, undone_at, old="Closed", new="Cold", version=3, entry_id=2,
              note="undo"),
    ]  # fmt: skip
    store.apply_pull([theirs], history, "c1")
    [conflict] = store.conflicts()
    assert (conflict.theirs_changed_at, conflict.theirs_note) == (undone_at, "undo")


def test_settled_text_names_a_later_status_only_where_the_target_ends():
    """Active (undone since), then Hot and its undo: settled on Passed, the undo of Hot
    now goes back to Passed. It said "your later change to Active follows it" while the
    target ended at Passed."""
    from storage.types import ConflictView

    at = datetime(2026, 1, 1, tzinfo=UTC)
    conflict = ConflictView(
        change_id=new_id(), target=new_id(), name="Fjord", op="set_status",
        base_status=None, base_version=1, mine_status="Active", mine_fields=None,
        mine_changed_at=at, mine_note=None, theirs_status="Cold", theirs_changed_by="bob",
        theirs_changed_at=at, theirs_version=2, undone=True, then=("Hot", "Active"),
    )  # fmt: skip
    assert conflict.settled_text("Fjord", "Passed", "passed", str) == (
        "Fjord: resolved, now Passed (your undo of it dropped; your later changes follow it)"
    )
    assert conflict.settled_text("Fjord", "Active", "mine", str) == (
        "Fjord: resolved, now Active (your undo of it dropped; your later change to Active"
        " follows it)"
    )


def test_a_conflict_settled_on_the_side_shown_refuses_a_side_changed_since(
    store, clock, conflicted
):
    """The take-theirs dialog said "keeps carol's Passed"; carol made it Active while it
    was open, and the user confirmed a choice they never saw."""
    uid, hot, closed, _ = conflicted
    shown = store.conflicts()[0].theirs_version
    store.apply_pull([state(uid, 6, clock.now, name="Acme", status="Active", by="carol")], [], "c9")
    with pytest.raises(InvalidInput, match="changed while you looked \\(now Active\\)"):
        store.resolve_conflict(hot, "theirs", seen_version=shown)
    assert [c.change_id for c in store.conflicts()] == [hot]  # nothing settled
    view = store.resolve_conflict(hot, "theirs", seen_version=6)
    assert view.version == 6
