"""The daemon-facing methods, directly: batches, push results, pulls."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError

from storage import PullSummary, PushResult, PushSummary
from tests.storage.storehelp import entry, new_id, result, state


def _push_all(store, outcome="applied", start_version=1):
    """Push every pending change and have the server apply them in order."""
    batch = store.take_batch()
    results, version = [], start_version
    for change in batch:
        target = store.get(str(change.target))
        results.append(
            result(
                change,
                outcome,
                state(
                    target.uid, version, change.changed_at, name=target.name, status=target.status
                ),
            )
        )
        version += 1
    return batch, store.apply_push_results(results)


def test_take_batch_returns_pending_changes_in_order_as_wire_changes(store, clock):
    a = store.create_target("A", "about a", ["EU"], status="Cold")
    b = store.create_target("B")
    store.set_status(a.uid, "Hot", note="n")
    store.edit_target(b.uid, name="Bee")
    batch = store.take_batch()
    assert [(str(c.target), c.op) for c in batch] == [
        (a.uid, "create"),
        (b.uid, "create"),
        (a.uid, "set_status"),
        (b.uid, "edit"),
    ]
    create = batch[0]
    assert create.base_version is None and create.status == "Cold"
    assert create.fields.model_dump() == {"name": "A", "description": "about a", "markets": ["EU"]}
    assert (batch[2].base_version, batch[2].status, batch[2].note, batch[2].fields) == (
        0,
        "Hot",
        "n",
        None,
    )
    assert batch[3].fields.name == "Bee" and batch[3].fields.description is None
    assert batch[2].changed_at == clock.now
    assert store.take_batch(2) == batch[:2]
    assert store.take_batch() == batch  # taking does not remove


def test_applied_results_finish_changes_and_leave_later_ones_on_their_base(store, clock, fetch):
    """A change's base is the version it was made on: an applied answer (the server may
    be past it by a teammate's change the user never saw) does not move it."""
    t = store.create_target("Acme", status="Cold")
    first_batch = store.take_batch()
    later = store.set_status(t.uid, "Hot")  # made while the create is in flight: base 0
    assert fetch("SELECT base_version FROM outbox WHERE change_id = ?", later.change_id) == [(0,)]
    summary = store.apply_push_results(
        [result(first_batch[0], "applied", state(t.uid, 1, clock.now, status="Cold"))]
    )
    assert summary == PushSummary(applied=1)
    assert fetch("SELECT base_version FROM outbox WHERE change_id = ?", later.change_id) == [(0,)]
    view = store.get(t.uid)
    assert (view.version, view.status, view.sync) == (1, "Hot", "pending")
    [change] = store.take_batch()
    assert change.base_version == 0
    store.apply_push_results([result(change, "applied", state(t.uid, 2, clock.now, status="Hot"))])
    view = store.get(t.uid)
    assert (view.version, view.status, view.sync) == (2, "Hot", "synced")
    assert [h.sync for h in store.history(t.uid)] == ["synced", "synced"]
    assert store.take_batch() == []


def test_booking_results_leaves_every_later_write_fully_durable(store, clock, fetch):
    """Results are booked with synchronous=NORMAL (a booking a power cut undoes leaves
    its changes pending: pushed again, answered ``duplicate``); the user's writes after
    it, and after a malformed answer booked nothing, stay FULL (2)."""
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    conn = store._ctx.db.connection()  # noqa: SLF001
    levels: list[int] = []  # synchronous at each commit

    def on_commit() -> bool:
        levels.extend(level for (level,) in conn.execute("PRAGMA synchronous"))
        return False  # go on with the commit

    conn.set_commit_hook(on_commit)
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now))])
    store.set_status(t.uid, "Hot")
    conn.set_commit_hook(None)
    assert levels == [1, 2]  # the booking NORMAL, the user's change FULL
    [change] = store.take_batch()
    malformed = PushResult(str(change.change_id), "applied", {"version": 2})
    with pytest.raises(ValidationError):
        store.apply_push_results([malformed])
    assert fetch("PRAGMA synchronous") == [(2,)]
    assert store.sync_state().pending == 1 and store.set_status(t.uid, "Closed").changed


def test_duplicate_converged_and_unknown_results(store, clock):
    a = store.create_target("A")
    b = store.create_target("B")
    ca, cb = store.take_batch()
    summary = store.apply_push_results(
        [
            result(ca, "duplicate", state(a.uid, 3, clock.now, name="A")),
            result(cb, "converged", state(b.uid, 1, clock.now, name="B")),
            result(new_id(), "applied", state(a.uid, 9, clock.now)),  # long done: ignored
        ]
    )
    assert summary == PushSummary(duplicate=1, converged=1)
    assert store.get(a.uid).version == 3 and store.get(a.uid).sync == "synced"
    assert store.take_batch() == []
    # a lost response: the same results again change nothing
    assert (
        store.apply_push_results([result(ca, "applied", state(a.uid, 3, clock.now))])
        == PushSummary()
    )


def test_a_converged_answer_rebases_the_later_changes_of_its_field_group_only(store, clock):
    """Converged: the device takes the server's side of that group (the server accepts it
    the same way within one push), so the group's later changes build on the server's
    version; the other group's keep the version they were made on."""
    t = store.create_target("Acme", status="Cold")
    _push_all(store)
    store.set_status(t.uid, "Hot")
    [first] = store.take_batch()
    store.edit_target(t.uid, description="later")  # made while the push is in flight
    store.set_status(t.uid, "Closed")
    theirs = state(t.uid, 4, clock.now, name="Acme", status="Hot", by="carol")
    assert store.apply_push_results([result(first, "converged", theirs)]) == PushSummary(
        converged=1
    )
    assert [(c.op, c.base_version) for c in store.take_batch()] == [
        ("edit", 1),
        ("set_status", 4),
    ]


def test_a_converged_create_rebases_every_later_change(store, clock):
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    store.set_status(t.uid, "Hot")
    store.edit_target(t.uid, description="later")
    theirs = state(t.uid, 3, clock.now, name="Acme", status="Active", by="carol")
    store.apply_push_results([result(create, "converged", theirs)])
    assert [(c.op, c.base_version) for c in store.take_batch()] == [
        ("set_status", 3),
        ("edit", 3),
    ]


def test_an_older_server_state_does_not_move_the_base(store, clock):
    t = store.create_target("Acme")
    _push_all(store)
    store.apply_pull([state(t.uid, 5, clock.now, name="Acme five")], [], "c1")
    store.set_status(t.uid, "Hot")
    [change] = store.take_batch()
    store.apply_push_results([result(change, "duplicate", state(t.uid, 4, clock.now, name="old"))])
    view = store.get(t.uid)
    assert (view.version, view.name) == (5, "Acme five")


def test_conflict_holds_back_that_targets_later_changes_only(store, clock, fetch):
    a = store.create_target("A", status="Cold")
    b = store.create_target("B", status="Cold")
    _push_all(store)
    store.set_status(a.uid, "Hot")
    store.set_status(a.uid, "Closed")
    store.set_status(b.uid, "Active")
    first, second, other = store.take_batch()
    theirs = state(a.uid, 7, clock.now, name="A", status="Passed", by="carol")
    summary = store.apply_push_results(
        [
            result(first, "conflict", theirs),
            result(second, "blocked"),
            result(other, "applied", state(b.uid, 8, clock.now, name="B", status="Active")),
        ]
    )
    assert summary == PushSummary(conflict=1, blocked=1, applied=1)
    assert store.take_batch() == []  # A waits behind its conflict; B is done
    store.set_status(b.uid, "Hot")
    assert [str(c.target) for c in store.take_batch()] == [b.uid]
    view = store.get(a.uid)
    assert (view.status, view.sync, view.version) == ("Closed", "conflict", 7)
    assert fetch(
        "SELECT attempts, state FROM outbox WHERE change_id = ?", str(second.change_id)
    ) == [(1, "pending")]
    [conflict] = store.conflicts()
    assert conflict.to_json() == {
        "change_id": str(first.change_id),
        "target": a.uid,
        "name": "A",
        "base": {"status": "Cold", "version": 1, "fields": None},
        "mine": {
            "status": "Hot",
            "changed_at": "2026-06-01T12:00:00Z",
            "note": None,
            "fields": None,
            "undone": False,
            "then": ["Closed"],  # waiting behind it, follows what it is settled on
            "later_fields": [],
        },
        "theirs": {
            "status": "Passed",
            "changed_by": "carol",
            "changed_at": "2026-06-01T12:00:00Z",
            "version": 7,
            "note": None,  # carol's change not pulled yet
            "fields": None,  # a status change's
        },
    }
    assert store.sync_state().conflicts == 1


def test_rejected_is_kept_with_its_reason_and_holds_its_target(store, clock):
    t = store.create_target("Acme")
    [change] = store.take_batch()
    summary = store.apply_push_results([result(change, "rejected", error="name is too long")])
    assert summary == PushSummary(rejected=1)
    [rej] = store.rejected()
    assert (rej.change_id, rej.target, rej.op, rej.reason) == (
        str(change.change_id),
        t.uid,
        "create",
        "name is too long",
    )
    assert rej.to_json()["fields"] == {"name": "Acme", "description": "", "markets": []}
    store.set_status(t.uid, "Hot")
    assert store.take_batch() == []
    assert store.get(t.uid).sync == "rejected"
    assert store.sync_state().rejected == 1


def test_a_change_refused_as_ahead_of_a_restored_server_is_sent_again_on_its_version(store, clock):
    """The server's database was restored to a point before Acme's version 2: our change
    made on version 2 is refused ("base version 2 is ahead of the server's 1"). It is not
    the user's to correct: it stays pending, on the server's version when the server's
    last status change is older than ours, else on 0 (a teammate's later change then
    makes it a conflict). Any other refusal is kept as before."""
    uids = [store.create_target(name, status="Cold").uid for name in ("Acme", "Kilo", "Zeta")]
    for version, status in ((1, "Cold"), (2, "Hot")):
        if version == 2:
            for uid in uids:
                store.set_status(uid, status)
        store.apply_push_results(
            [
                result(c, "applied", state(str(c.target), version, clock.now, status=status))
                for c in store.take_batch()
            ]
        )
    clock.advance(minutes=5)
    for uid in uids:
        store.set_status(uid, "Closed")
    store.set_status(uids[0], "Passed")  # queued behind it, on the same base
    acme, kilo, zeta, acme_later = store.take_batch()
    assert {c.base_version for c in (acme, kilo, zeta, acme_later)} == {2}
    backed_up = clock.now - timedelta(hours=1)  # the restored point: Cold, version 1
    teammate = clock.now + timedelta(minutes=1)  # after the restore, later than ours

    def server(uid: str, version: int, at) -> object:
        return state(uid, version, at, status="Cold", status_at=at)

    ahead = "base version 2 is ahead of the server's 1 (was the server restored from a backup?)"
    summary = store.apply_push_results(
        [
            result(acme, "rejected", server(uids[0], 1, backed_up), ahead),
            result(kilo, "rejected", server(uids[1], 1, teammate), ahead),
            result(zeta, "rejected", server(uids[2], 2, backed_up), "note too long"),
            result(acme_later, "blocked", error="an earlier change to this target was not applied"),
        ]
    )
    assert summary == PushSummary(rebased=2, rejected=1, blocked=1)
    assert [r.target for r in store.rejected()] == [uids[2]]  # the other refusal stands
    again = {str(c.change_id): c.base_version for c in store.take_batch()}
    assert again == {
        str(acme.change_id): 1,  # ours is later than the server's Cold: on its version
        str(kilo.change_id): 0,  # the server's status is later: the server decides
        str(acme_later.change_id): 2,  # rebased when the change before it is applied
    }
    assert [store.get(uid).status for uid in uids] == ["Passed", "Closed", "Closed"]


def test_pull_of_a_new_target(store, clock):
    uid = str(uuid.uuid4())
    got = store.apply_pull(
        [state(uid, 3, clock.now, name="Remote", markets=("EU",), status="Hot", description="d")],
        [entry(new_id(), uid, clock.now, old=None, new="Hot", version=3)],
        "cursor-1",
    )
    assert got == PullSummary(targets=1, history=1, overwritten=1, kept_pending=0)
    view = store.get(uid)
    assert (view.name, view.markets, view.status, view.version, view.sync) == (
        "Remote",
        ("EU",),
        "Hot",
        3,
        "synced",
    )
    assert store.pull_cursor() == "cursor-1"
    [h] = store.history(uid)
    assert (h.origin, h.changed_by, h.sync) == ("server", "bob", "synced")
    assert store.markets() == ["EU"]


def test_pull_keeps_a_pending_status_but_moves_untouched_fields(store, clock):
    t = store.create_target("Acme", "old text", status="Cold")
    _push_all(store)
    clock.advance(days=2)
    mine = store.set_status(t.uid, "Hot")
    got = store.apply_pull(
        [state(t.uid, 4, clock.now, name="Acme", description="edited elsewhere", status="Active")],
        [],
        "c2",
    )
    assert got == PullSummary(targets=1, history=0, overwritten=0, kept_pending=1)
    view = store.get(t.uid)
    assert (view.status, view.description, view.version, view.sync) == (
        "Hot",
        "edited elsewhere",
        4,
        "pending",
    )
    assert view.status_since == mine.target.status_since
    # the pending change still goes out on the version it was made on
    [change] = store.take_batch()
    assert change.base_version == 1


def test_pull_overwrites_a_target_with_nothing_pending(store, clock):
    t = store.create_target("Acme", status="Cold")
    _push_all(store)
    clock.advance(days=1)
    store.apply_pull([state(t.uid, 2, clock.now, name="Acme Inc", status="Hot", by="bob")], [], "c")
    view = store.get(t.uid)
    assert (view.name, view.status, view.status_since, view.sync) == (
        "Acme Inc",
        "Hot",
        clock.now,
        "synced",
    )
    assert store.resolve("acme inc").uid == t.uid


def test_pulled_history_confirms_our_own_rows(store, clock):
    t = store.create_target("Acme", status="Cold")
    change = store.set_status(t.uid, "Hot")
    got = store.apply_pull(
        [],
        [
            entry(
                change.change_id,
                t.uid,
                clock.now,
                old="Cold",
                new="Hot",
                version=2,
                by="alice@server",
            ),
            entry(new_id(), t.uid, clock.now, old=None, new=None, version=3, op="edit"),
            entry(new_id(), str(uuid.uuid4()), clock.now, old=None, new="Hot", version=1),
        ],
        "c",
    )
    assert got.history == 1  # edits and unknown targets are not status history
    [mine] = [h for h in store.history(t.uid) if h.change_id == str(change.change_id)]
    assert (mine.origin, mine.changed_by, mine.sync) == ("local", "alice@server", "synced")
    assert len(store.history(t.uid)) == 2


def test_sync_state_and_record_sync(store, clock, daemon_lock):
    assert store.sync_state("https://x").to_json() == {
        "online": False,
        "online_since": None,
        "last_sync_at": None,
        "pending": 0,
        "oldest_pending_age_s": None,
        "conflicts": 0,
        "rejected": 0,
        "last_error": None,
        "server": "https://x",
        "connection": "connecting",  # this process runs the daemon; it reported nothing
        "pulling": False,
        "hint": None,
        "resent": 0,
        "pulling_again": False,
        "held": 0,
    }
    store.create_target("A")
    clock.advance(seconds=90)
    store.create_target("B")
    store.record_sync(online=True, synced=True)
    since = clock.now
    clock.advance(seconds=30)
    store.record_sync(online=True, error="slow")
    got = store.sync_state()
    assert (got.online, got.online_since, got.last_sync_at) == (True, since, since)
    assert (got.pending, got.oldest_pending_age_s, got.last_error) == (2, 120.0, "slow")
    store.record_sync(online=False, error=None)
    got = store.sync_state()
    assert (got.online, got.online_since, got.last_error) == (False, clock.now, None)
    store.record_sync(online=False, error="HTTP 302 from /v1/pull", hint="Wi-Fi sign-in?")
    assert store.sync_state().to_json()["hint"] == "Wi-Fi sign-in?"
    store.record_sync(online=True, synced=True)  # through again: the hint goes with the error
    assert store.sync_state().hint is None


def test_a_new_daemon_counts_its_own_time_online(store, clock, fetch):
    """A daemon killed -9 left "online" behind; the one started after it reports online
    too: its online_since is its own, not the dead one's (status said "online since"
    a time before the crash)."""
    store.record_sync(online=True, synced=True)
    fetch("UPDATE meta SET value = '999999999' WHERE key = 'sync_state_pid'")  # the dead one
    clock.advance(minutes=5)
    store.record_sync(online=True, synced=True)  # this process: the new daemon
    assert store.sync_state().online_since == clock.now
    clock.advance(minutes=1)
    store.record_sync(online=True, synced=True)  # the same daemon again: unchanged
    assert store.sync_state().online_since == clock.now - timedelta(minutes=1)


def test_history_marks_follow_the_outbox(store, clock):
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now, status="Cold"))])
    hot = store.set_status(t.uid, "Hot")
    closed = store.set_status(t.uid, "Closed")
    store.apply_push_results(
        [result(hot.change_id, "conflict", state(t.uid, 2, clock.now, status="Passed"))]
    )
    assert [h.sync for h in store.history(t.uid)] == ["synced", "conflict", "pending"]
    store.resolve_conflict(hot.change_id, "mine")
    store.apply_push_results([result(closed.change_id, "rejected", error="no")])
    assert [h.sync for h in store.history(t.uid)] == ["synced", "pending", "rejected"]


def test_data_version_moves_when_another_connection_commits(store, db_path, clock):
    from storage import Store

    before = store.data_version()
    assert store.data_version() == before  # our own reads change nothing
    with Store.open(db_path, clock=clock) as other:
        other.create_target("Elsewhere")
    assert store.data_version() != before


def test_rebase_searches_the_target_index_not_the_state_index(store):
    from storage.sync import rebase_plan

    plan = rebase_plan(store._ctx)
    assert any("USING INDEX outbox_target (target=? AND id>?)" in line for line in plan), plan
    assert not any("outbox_state" in line for line in plan), plan


# ---- booking push results set-based == one by one -----------------------------------------


def _book_one_by_one(ctx, results) -> None:
    """The reference: every result booked alone, in order, through the store's one-target
    helpers (what apply_push_results did before it went set-based)."""
    from storage import clash
    from storage.schema import time_text
    from storage.sync import DONE, rebase_after, restored_base
    from storage.view import move_base, refresh

    o, a, t = ctx.m.outbox, ctx.m.audit, ctx.m.target
    again: set[str] = set()  # to be sent again: a second answer for it is a retry's
    moved: dict[str, str] = {}  # refused creates set apart: change id -> their old uid
    with ctx.write():
        for r in results:
            row = o.get_or_none(o.change_id == str(r.change_id))
            if row is None or row.change_id in again:
                continue
            # a create set apart answered again: booked as before, on the uid it had
            target, state = t.get(t.uid == moved.get(row.change_id, row.target)), r.target
            if r.outcome in DONE:
                row.delete_instance()
                if state is not None:
                    converged = 1 if r.outcome == "converged" else None
                    booked = a.get_or_none(a.change_id == row.change_id)
                    known = None if booked is None else booked.server_version
                    keep = r.outcome == "duplicate" and known is not None
                    version = known if keep else state.version
                    a.update(server_version=version, converged=converged).where(
                        a.change_id == row.change_id
                    ).execute()
                    if r.outcome == "converged":
                        rebase_after(ctx, row, state.version)
            elif r.outcome == "conflict":
                server = None if state is None else state.model_dump(mode="json")
                o.update(state="conflict", server_state=server, attempts=o.attempts + 1).where(
                    o.id == row.id
                ).execute()
            elif (
                r.outcome == "rejected"
                and (
                    base := restored_base(
                        state, row.op, row.base_version, time_text(row.changed_at)
                    )
                )
                is not None
            ):  # ahead of a restored server's version: sent again on another
                o.update(base_version=base, attempts=o.attempts + 1).where(o.id == row.id).execute()
                again.add(row.change_id)
            elif r.outcome == "rejected":
                apart = row.op == "create" and state is not None  # the uid is another's
                o.update(
                    state="rejected",
                    last_error=clash.reason(state.name)
                    if apart
                    else r.error or "the server rejected this change",
                    attempts=o.attempts + 1,
                ).where(o.id == row.id).execute()
                if apart and row.change_id not in moved:  # the uid is another's
                    moved[row.change_id] = row.target
                    [new] = clash.set_apart(ctx, [(row.target, row.change_id)]).values()
                    refresh(ctx, t.get(t.uid == new))
            else:
                o.update(attempts=o.attempts + 1).where(o.id == row.id).execute()
            move_base(ctx, target, state)
            refresh(ctx, target)


_TABLES = ("targets", "target_markets", "audit", "outbox")


def _tables(store) -> dict[str, list[tuple]]:
    db = store._ctx.db
    return {
        name: db.execute_sql(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall() for name in _TABLES
    }


def _random_outbox(store, clock, rng) -> None:
    """A few targets, some known to the server, with a random mix of pending changes (and
    sometimes one already held behind a conflict)."""
    statuses = ["Passed", "Cold", "Active", "Hot", "Closed", None]
    uids = [store.create_target(f"T{i}", markets=["EU"], status="Cold").uid for i in range(3)]
    creates = store.take_batch()
    store.apply_push_results(  # at versions up to 4: a later result may come back older
        [
            result(
                c,
                "applied",
                state(str(c.target), rng.randint(1, 4), clock.now, name=f"T{i}", status="Cold"),
            )
            for i, c in enumerate(creates)
            if rng.random() < 0.7
        ]
    )
    for _ in range(rng.randint(1, 9)):
        clock.advance(minutes=rng.randint(1, 90))
        uid = rng.choice(uids)
        if rng.random() < 0.75:
            store.set_status(uid, rng.choice([s for s in statuses if s != store.get(uid).status]))
        else:
            name = f"N{uids.index(uid)}-{rng.randint(0, 99)}"  # names are unique
            store.edit_target(uid, name=name, markets=[rng.choice("ABC")])
    if rng.random() < 0.3:
        first = store.take_batch(1)
        store.apply_push_results(
            [result(c, "conflict", state(str(c.target), 9, clock.now)) for c in first]
        )


def _random_results(store, clock, rng) -> list:
    """Results for the pending changes in order, each outcome at random with a random
    server state, plus retries of some and unknown change ids."""
    results = []
    apart: set[str] = set()  # targets whose create was refused, its uid another's
    for change in store.take_batch():
        outcome = rng.choice(
            ["applied", "duplicate", "converged", "conflict", "rejected", "blocked"]
        )
        if change.target in apart:
            outcome = "blocked"  # as the server answers the changes after a refusal
        target = None
        if outcome != "blocked" and rng.random() < 0.9:
            target = state(
                str(change.target),
                rng.randint(1, 12),
                clock.now,
                name=rng.choice(["T0", "Other"]),
                markets=tuple(rng.sample("ABC", rng.randint(0, 2))),
                status=rng.choice(["Cold", "Hot", None]),
                # before or after the change: a refusal "ahead" is sent again on either base
                status_at=change.changed_at + timedelta(minutes=rng.choice([-1, 1])),
            )
        results.append(result(change, outcome, target, error="bad" if rng.random() < 0.5 else None))
        if change.op == "create" and outcome == "rejected" and target is not None:
            apart.add(change.target)
        if rng.random() < 0.1:
            results.append(rng.choice(results))
    if rng.random() < 0.2:
        results.insert(rng.randint(0, len(results)), result(new_id(), "applied"))
    return results


def test_booking_results_set_based_matches_booking_them_one_by_one(tmp_path, clock):
    import random
    import shutil

    from storage import Store

    for seed in range(100):
        rng = random.Random(seed)
        first, second = tmp_path / f"a{seed}.db", tmp_path / f"b{seed}.db"
        with Store.open(first, clock=clock, user="alice") as store:
            _random_outbox(store, clock, rng)
        shutil.copy(first, second)
        with Store.open(first, clock=clock) as a, Store.open(second, clock=clock) as b:
            results = _random_results(a, clock, rng)
            a.apply_push_results(results)
            _book_one_by_one(b._ctx, results)
            assert _tables(a) == _tables(b), f"seed {seed}"


def test_wire_batch_is_what_the_models_write_byte_for_byte(store, clock):
    """The daemon sends SQLite's JSON of the outbox rows (``take_wire_batch``): the same
    changes as ``take_batch``, and the request body the server's ``PushRequest`` model
    writes, byte for byte: unicode, quotes, escapes, nulls, creates, edits, whole and
    fractional seconds."""
    from protocol.wire import PushRequest
    from syncd.client import push_body

    odd = 'Ünïcødé "quoted" back\\slash </tag> 😀 \u2028 €'
    text = odd + "\nsecond line\ttabbed"  # descriptions and notes may hold line breaks
    a = store.create_target(odd, text, ["EU", "Ü-Markt"], status="Cold", note=text)
    clock.now += timedelta(microseconds=123456)
    b = store.create_target("B")  # no status, description, markets or note
    clock.now += timedelta(seconds=1, microseconds=-123456)  # whole seconds again
    store.set_status(a.uid, "Hot", note="")
    store.set_status(a.uid, None)
    clock.now += timedelta(microseconds=1)
    store.edit_target(b.uid, markets=["DE"])
    store.edit_target(b.uid, name=odd + " II", description="")
    store.undo_last()  # a status_since (whole seconds): there only when set
    clock.now += timedelta(microseconds=5)
    store.set_status(a.uid, "Active")
    store.undo_last()  # one with microseconds
    changes = store.take_batch()
    wire = store.take_wire_batch()
    assert len(wire) == len(changes) == 9
    assert sum(c.status_since is not None for c in changes) == 2
    assert [(w.change_id, w.target) for w in wire] == [
        (str(c.change_id), str(c.target)) for c in changes
    ]
    device = store.device_id
    expected = PushRequest(device_id=device, changes=changes).model_dump_json()
    assert push_body(device, wire).decode() == expected
    assert push_body(device, changes).decode() == expected
    assert PushRequest.model_validate_json(push_body(device, wire)).changes == changes
    assert store.take_wire_batch(2) == wire[:2]


def test_sync_state_recorded_by_an_earlier_version_counts_while_its_daemon_runs(store, daemon_lock):
    """A daemon still running the code from before an upgrade records its state without
    its pid: what it says counts (as it did then) until a new process records."""
    store._ctx.set_meta("online", "1")  # as the earlier code wrote it
    store._ctx.set_meta("last_error", None)
    state = store.sync_state()
    assert (state.online, state.reported, state.connection) == (True, True, "online")
    store.record_sync(online=False, error="cannot reach it")  # a new process: its pid
    assert store.sync_state().connection == "offline"


def test_a_profile_nobody_recorded_for_is_connecting_while_a_daemon_runs(store, daemon_lock):
    state = store.sync_state()
    assert (state.online, state.reported, state.connection) == (False, False, "connecting")


def test_activity_lists_every_targets_changes_newest_first(store, clock):
    """Mine and a teammate's (pulled), with the filters of ``pipetrack activity``; each
    entry as the target's history shows it."""
    start = clock.now
    acme = store.create_target("Acme", status="Cold").uid
    clock.advance(days=3)
    globex = store.create_target("Globex").uid
    created = clock.now
    [create] = [c for c in store.take_batch() if str(c.target) == globex]
    store.apply_push_results([result(create, "applied", state(globex, 1, created, name="Globex"))])
    store.set_status(acme, "Hot", note="demo went well")
    clock.advance(days=2)
    teammates = str(uuid.uuid4())
    bobs = state(globex, 2, created, name="Globex", status="Active", status_at=clock.now)
    store.apply_pull(
        [bobs], [entry(teammates, globex, clock.now, old=None, new="Active", version=2)], "c1"
    )
    clock.advance(days=1)
    store.set_status(globex, "Closed")

    everything = store.activity(start)
    assert [(a.name, a.change.new_status, a.change.changed_by) for a in everything] == [
        ("Globex", "Closed", "alice"),
        ("Globex", "Active", "bob"),
        ("Acme", "Hot", "alice"),
        ("Acme", "Cold", "alice"),
    ]
    for a in everything:
        assert a.change in store.history(a.target)  # days in the previous status included
    assert [a.change.days_in_previous for a in everything] == [1, 2, 3, 0]
    assert [a.change.sync for a in everything] == ["pending", "synced", "pending", "pending"]
    assert [a.name for a in store.activity(start + timedelta(days=4))] == ["Globex", "Globex"]
    assert [a.change.change_id for a in store.activity(start, by="bob")] == [teammates]
    assert [a.change.new_status for a in store.activity(start, limit=2)] == ["Closed", "Active"]
    assert everything[1].to_json()["target"] == globex and everything[1].to_json()["name"]


def test_a_duplicate_answer_keeps_the_version_the_pull_recorded(store, clock):
    """Hot was applied at version 2, its answer lost; the pull recorded it at 2, then a
    teammate's Passed at 3 and Active at 4. The retry is answered ``duplicate`` with the
    state now (version 4): booking it gave Hot version 4, and history listed Passed
    before Hot (a fault run's kill found it)."""
    t = store.create_target("Acme", status="Cold")
    [create] = store.take_batch()
    store.apply_push_results([result(create, "applied", state(t.uid, 1, clock.now))])
    clock.advance(minutes=1)
    hot = store.set_status(t.uid, "Hot")
    clock.advance(minutes=1)
    theirs = state(t.uid, 4, clock.now, status="Active", by="bob")
    pulled = [
        entry(hot.change_id, t.uid, clock.now - timedelta(minutes=1), old="Cold", new="Hot",
              version=2, by="tester", entry_id=1),
        entry(new_id(), t.uid, clock.now, old="Hot", new="Passed", version=3, entry_id=2),
        entry(new_id(), t.uid, clock.now, old="Passed", new="Active", version=4, entry_id=3),
    ]  # fmt: skip
    store.apply_pull([theirs], pulled, "c1")
    [retry] = store.take_batch()
    store.apply_push_results([result(retry, "duplicate", theirs)])
    assert [h.new_status for h in store.history(t.uid)] == ["Cold", "Hot", "Passed", "Active"]


def test_the_name_login_learns_is_given_to_changes_not_on_the_server_yet(tmp_path, clock):
    """Changes made before ``login`` said the laptop's login name ("root"), a refused
    one for good; those the server confirmed keep the name it recorded."""
    from storage import Store

    with Store.open(tmp_path / "p.db", clock=clock, user="root") as store:
        done = store.create_target("Done", status="Cold")
        [create] = store.take_batch()
        store.apply_push_results([result(create, "applied", state(done.uid, 1, clock.now))])
        store.apply_pull(
            [state(done.uid, 1, clock.now, name="Done", status="Cold")],
            [entry(str(create.change_id), done.uid, clock.now, old=None, new="Cold",
                   version=1, by="server-said")],
            "c1",
        )  # fmt: skip
        waiting = store.create_target("Waiting", status="Hot")
        store.set_user_name("ana")
        assert [h.changed_by for h in store.history(waiting.uid)] == ["ana"]
        assert [h.changed_by for h in store.history(done.uid)] == ["server-said"]
        store.set_status(waiting.uid, "Active")
        assert [h.changed_by for h in store.history(waiting.uid)] == ["ana", "ana"]
