"""apply_pull on whole pages: new, moved, stale and pending targets side by side, a uid
or a change twice in one page, and the side tables (markets, name search) kept in step."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from protocol.wire import PullResponse, TargetState
from storage import PullSummary, TargetQuery
from tests.storage.storehelp import acknowledge, entry, new_id, result, state


def _synced(store, clock, name, version, **fields):
    t = store.create_target(name, **fields)
    [change] = store.take_batch()
    view = store.get(t.uid)
    store.apply_push_results(
        [
            result(
                change,
                "applied",
                state(
                    t.uid, version, clock.now, name=name, markets=view.markets, status=view.status
                ),
            )
        ]
    )
    return t.uid


def test_a_page_of_new_moved_stale_and_pending_targets(store, clock, fetch):
    moved = _synced(store, clock, "Moved", 1, markets=["EU"])
    stale = _synced(store, clock, "Stale", 5)
    busy = _synced(store, clock, "Busy", 1, status="Cold")
    store.set_status(busy, "Hot")
    fresh = str(uuid.uuid4())
    clock.advance(days=1)
    got = store.apply_pull(
        [
            state(fresh, 1, clock.now, name="Fresh", markets=("US", "us"), status="Active"),
            state(moved, 2, clock.now, name="Moved On", markets=("Asia",), status="Hot"),
            state(stale, 4, clock.now, name="Older"),
            state(busy, 3, clock.now, name="Busy Renamed", status="Passed"),
            state(moved, 3, clock.now, name="Moved Twice", markets=("EU", "Asia")),
            state(moved, 3, clock.now, name="Same Version"),  # not newer: ignored
        ],
        [],
        "c",
    )
    assert got == PullSummary(targets=6, history=0, overwritten=3, kept_pending=1)
    views = {v.uid: v for v in store.list_targets()}
    assert (views[fresh].name, views[fresh].markets, views[fresh].status) == (
        "Fresh",
        ("US", "us"),
        "Active",
    )
    assert (views[moved].name, views[moved].markets, views[moved].version) == (
        "Moved Twice",
        ("EU", "Asia"),
        3,
    )
    assert (views[moved].status, views[moved].sync) == (None, "synced")
    assert (views[stale].name, views[stale].version) == ("Stale", 5)
    assert (views[busy].name, views[busy].status, views[busy].sync) == (
        "Busy Renamed",
        "Hot",
        "pending",
    )
    assert fetch("SELECT market FROM target_markets WHERE uid = ? ORDER BY 1", fresh) == [("US",)]
    assert fetch("SELECT market FROM target_markets WHERE uid = ? ORDER BY 1", moved) == [
        ("Asia",),
        ("EU",),
    ]
    assert store.markets() == ["Asia", "EU", "US"]
    assert [v.uid for v in store.list_targets(TargetQuery(search="twic"))] == [moved]
    assert store.list_targets(TargetQuery(search="moved on")) == []
    assert [v.uid for v in store.list_targets(TargetQuery(search="renamed"))] == [busy]


def test_a_change_twice_in_one_page_is_recorded_then_confirmed(store, clock):
    uid = str(uuid.uuid4())
    change = new_id()
    got = store.apply_pull(
        [state(uid, 2, clock.now, status="Hot")],
        [
            entry(change, uid, clock.now, old=None, new="Hot", version=1, by="bob"),
            entry(change, uid, clock.now, old=None, new="Hot", version=2, by="carol"),
            entry(new_id(), str(uuid.uuid4()), clock.now, old=None, new="Cold", version=1),
            entry(new_id(), uid, clock.now, old=None, new=None, version=2, op="create"),
        ],
        "c",
    )
    assert got.history == 2
    [h] = store.history(uid)
    assert (h.origin, h.changed_by, h.new_status) == ("server", "carol", "Hot")


def test_a_large_page_in_one_call(store, clock):
    uids = [str(uuid.UUID(int=i + 1)) for i in range(3000)]
    pulled = [
        state(uid, 1, clock.now, name=f"T{i}", markets=("EU",), status="Cold")
        for i, uid in enumerate(uids)
    ]
    history = [entry(new_id(), uid, clock.now, old=None, new="Cold", version=1) for uid in uids]
    assert store.apply_pull(pulled, history, "c1") == PullSummary(
        targets=3000, history=3000, overwritten=3000
    )
    again = [state(uid, 2, clock.now, name=f"U{i}", status="Hot") for i, uid in enumerate(uids)]
    assert store.apply_pull(again, history, "c2") == PullSummary(
        targets=3000, history=3000, overwritten=3000
    )
    assert store.count_targets(TargetQuery(statuses=("Hot",), search="u29")) == 111
    assert store.markets() == []
    assert len(store.history(uids[0])) == 1


def test_a_staged_row_is_what_base_columns_and_derived_give():
    """The pull stages targets without view.base_columns / view.derived (per-row cost);
    the row must hold exactly what they give, times as time_text writes them."""
    from datetime import UTC, datetime, timedelta, timezone

    from storage.pull import _STAGED, _staged_target
    from storage.schema import JSONField, time_text
    from storage.view import base_columns, derived

    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    cases = [
        state(str(uuid.uuid4()), 3, at, name="Straße ÉTÉ", markets=("EU", "Ünï"), status="Hot"),
        state(str(uuid.uuid4()), 1, at.replace(microsecond=0), description="d", status=None),
        state(str(uuid.uuid4()), 2, at.astimezone(timezone(timedelta(hours=-5))), status=" cold"),
        state(str(uuid.uuid4()), 2, at, status="none", status_at=at),
    ]
    for pulled in cases:
        base = base_columns(pulled)
        for column in ("server_status_changed_at", "server_updated_at", "created_at"):
            base[column] = base[column] and time_text(base[column])
        base["server_markets"] = JSONField().db_value(base["server_markets"])
        expected = {"uid": str(pulled.uid), **base, **derived(pulled.name, pulled.markets)}
        assert dict(zip(_STAGED, _staged_target(pulled), strict=True)) == expected


def test_a_page_finds_its_targets_by_uid_not_by_scanning_the_store(store):
    """Every statement that joins a staged page with the store's targets must look them
    up by uid: a scan of all targets per page made a 100k catch-up's pages ever slower
    and every small pull pay for the whole store."""
    from storage import pull

    store.create_target("Acme")
    conn = store._ctx.db.connection()
    with conn:
        pull.register_functions(store._ctx)
        pull.stage_targets(store._ctx)
        pull.stage_history(store._ctx)
        for sql in (pull._CLASSIFY, pull._MOVE_PENDING, pull._MOVE_OVERWRITE, pull._INSERT_HISTORY):
            plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert not [step for step in plan if step.startswith("SCAN t")], (sql, plan)
            assert not [step for step in plan if step.startswith("SCAN main.targets")], plan
        conn.execute("DROP TABLE temp.pull_targets")
        conn.execute("DROP TABLE temp.pull_history")


# ---- a pull from the start after a refused cursor (the server's database restored) ----
def _page(*states: TargetState, cursor: str, more: bool = False) -> str:
    return PullResponse(
        targets=list(states), history=[], cursor=cursor, more=more
    ).model_dump_json()


def test_after_a_refused_cursor_a_version_that_went_back_is_taken(store, clock):
    """Restored to an earlier point, the server holds Acme at version 2 where we had 4:
    left at 4, our base would have every later change refused (ahead of the server's)."""
    at = clock.now
    calm, busy = new_id(), new_id()
    store.apply_pull_json(
        _page(
            state(calm, 4, at, name="Calm", status="Hot"),
            state(busy, 4, at, name="Busy", status="Hot"),
            cursor="before",
        )
    )
    store.set_status(busy, "Closed")  # pending on top of version 4
    restored = [
        state(calm, 2, at, name="Calm", status="Cold"),
        state(busy, 2, at, name="Busy", status="Cold"),
    ]

    store.apply_pull_json(_page(*restored, cursor="stale-cursor"))  # an ordinary pull
    assert (store.get(calm).version, store.get(calm).status) == (4, "Hot")

    store.restart_pull()
    assert store.pull_cursor() is None
    store.apply_pull_json(_page(*restored[:1], cursor="again-1", more=True))
    store.apply_pull_json(_page(*restored[1:], cursor="again-2"))
    assert (store.get(calm).version, store.get(calm).status) == (2, "Cold")
    kept = store.get(busy)  # its pending change stays on top of the server's state
    assert (kept.version, kept.status) == (2, "Closed")
    [change] = store.take_batch()
    assert change.target == uuid.UUID(busy) and change.status == "Closed"

    # the pull from the start reached the end: an older version is stale again
    store.apply_pull_json(_page(state(calm, 1, at, name="Calm", status="Passed"), cursor="x"))
    assert (store.get(calm).version, store.get(calm).status) == (2, "Cold")


def test_changes_the_restored_server_lost_are_queued_again(store, clock):
    """Four targets made here (Cold, version 1) then moved to Hot (version 2), all
    confirmed, and a teammate's, moved to Hot here. The server is restored: it still has
    Kept's move; Lost's is gone; Later was moved on by a teammate since; Queued has a
    change of ours waiting; the teammate's target is gone altogether."""
    names = {
        store.create_target(n, status="Cold").uid: n for n in ("Kept", "Lost", "Later", "Queued")
    }
    uid = {n: u for u, n in names.items()}
    acknowledge(store, names, "Cold", 1)
    clock.advance(minutes=1)
    for u in names:
        store.set_status(u, "Hot")
    acknowledge(store, names, "Hot", 2)
    made = {n: store.history(uid[n]) for n in names.values()}  # [create, move]
    theirs = pull_target_with_status(store, clock, "Theirs")
    store.set_status(theirs, "Hot")
    [change] = [c for c in store.take_batch() if str(c.target) == theirs]
    # the server's clock a little behind ours: it recorded the change as made earlier
    clamped = clock.now - timedelta(seconds=5)
    store.apply_push_results(
        [result(change, "applied", state(theirs, 2, clamped, name="Theirs", status="Hot"))]
    )

    store.restart_pull()
    clock.advance(minutes=1)
    store.set_status(uid["Queued"], "Closed")
    at = clock.now
    kept = made["Kept"][1]  # the server's entries carry the times it gave the changes
    back = [
        entry(made[n][0].change_id, uid[n], made[n][0].changed_at, old=None, new="Cold", version=1)
        for n in names.values()
    ] + [entry(kept.change_id, uid["Kept"], kept.changed_at, old="Cold", new="Hot", version=2)]
    later = entry(new_id(), uid["Later"], at, old="Cold", new="Passed", version=2)
    states = [
        state(uid[n], 1, at - timedelta(minutes=2), name=n, status="Cold") for n in names.values()
    ]
    states[0] = state(
        uid["Kept"], 2, at, name="Kept", status="Hot", status_at=made["Kept"][1].changed_at
    )
    states[2] = state(uid["Later"], 2, at, name="Later", status="Passed")
    body = PullResponse(targets=states, history=[*back, later], cursor="again", more=False)
    assert store.apply_pull_json(body.model_dump_json()).resent == 2
    assert store.sync_state().to_json()["resent"] == 2  # status --json says so too

    [mine, again, met] = store.take_batch()  # in the order queued
    assert (str(again.change_id), str(again.target)) == (made["Lost"][1].change_id, uid["Lost"])
    assert (again.status, again.base_version) == ("Hot", 1)
    # Later's status is the teammate's, made after ours: ours goes on 0, "before the
    # server had it", which the server answers as a conflict for the user to settle
    assert (str(met.change_id), str(met.target)) == (made["Later"][1].change_id, uid["Later"])
    assert (met.status, met.base_version) == ("Hot", 0)
    assert str(mine.target) == uid["Queued"] and mine.status == "Closed"
    assert [store.get(uid[n]).status for n in ("Kept", "Lost", "Later", "Queued")] == [
        "Hot", "Hot", "Hot", "Closed"
    ]  # fmt: skip
    assert [h.sync for h in store.history(uid["Lost"])] == ["synced", "pending"]
    assert [h.sync for h in store.history(uid["Later"])][:2] == ["synced", "synced"]
    assert store.get(theirs).status == "Hot"  # not sent again, not made again: not ours
    assert [h.sync for h in store.history(theirs)] == ["synced", "synced"]


def pull_target_with_status(store, clock, name: str) -> str:
    """A teammate's target, Cold at version 1, with its history entry."""
    uid = new_id()
    at = clock.now
    made = entry(new_id(), uid, at, old=None, new="Cold", version=1, op="create")
    store.apply_pull([state(uid, 1, at, name=name, status="Cold")], [made], f"after-{uid}")
    return uid


def test_after_a_pull_from_the_start_every_waiting_change_is_decided_again(store, clock):
    """Our changes waiting on targets the restored server has were made on versions it
    may have lost or given again: each goes again, on the server's version where its
    last status change is older than ours (Later, and Met's conflict and Refused's
    refusal "ahead", whose "theirs" and reason may be gone), on 0 where it is newer
    (Sooner: the server decides, a conflict with the teammate). A refusal for another
    reason stays (Invalid)."""
    before = clock.now - timedelta(hours=2)
    names = ("Later", "Sooner", "Met", "Refused", "Invalid")
    uid = {n: new_id() for n in names}
    pulled = [state(uid[n], 4, before, name=n, status="Hot", status_at=before) for n in names]
    store.apply_pull_json(_page(*pulled, cursor="before"))
    for n in names:
        store.set_status(uid[n], "Closed")
    queued = {str(c.target): c for c in store.take_batch()}
    store.apply_push_results(
        [
            result(queued[uid["Met"]], "conflict", state(uid["Met"], 5, clock.now, name="Met")),
            result(queued[uid["Refused"]], "rejected", error="base version 4 is ahead"),
            result(queued[uid["Invalid"]], "rejected", error="the note is too long"),
        ]
    )
    assert len(store.conflicts()) == 1 and len(store.rejected()) == 2

    store.restart_pull()
    assert store.pulling_again() and store.sync_state().pulling_again  # status says so
    teammate = clock.now + timedelta(minutes=1)
    restored = [
        state(uid[n], 2, before, name=n, status="Hot", status_at=before)
        for n in ("Later", "Met", "Refused")
    ]
    restored += [
        state(uid["Sooner"], 2, teammate, name="Sooner", status="Passed", status_at=teammate),
        state(uid["Invalid"], 4, before, name="Invalid", status="Hot", status_at=before),
    ]
    store.apply_pull_json(_page(*restored, cursor="again"))

    assert not store.pulling_again() and not store.sync_state().pulling_again
    again = {str(c.target): c.base_version for c in store.take_batch()}
    assert again == {uid["Later"]: 2, uid["Sooner"]: 0, uid["Met"]: 2, uid["Refused"]: 2}
    assert store.conflicts() == []
    assert [r.target for r in store.rejected()] == [uid["Invalid"]]
    assert {n: store.get(uid[n]).sync for n in names} == dict.fromkeys(names, "pending") | {
        "Invalid": "rejected"
    }


def test_our_change_comes_back_with_the_time_the_server_gave_it(store, clock):
    """A laptop whose clock lost its time says 1970; the server dates such a change when
    it receives it, and our own history then shows the server's time, as a teammate's
    device does (not 1970, as the change was made)."""
    target = store.create_target("Acme")
    acknowledge(store, {target.uid: "Acme"}, None, version=1)
    clock.now = datetime(1970, 1, 1, tzinfo=UTC)
    change = store.set_status(target.uid, "Hot")
    acknowledge(store, {target.uid: "Acme"}, "Hot", version=2)
    received = datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)
    mine = entry(change.change_id, target.uid, received, old=None, new="Hot", version=2, by="alice")
    store.apply_pull([state(target.uid, 2, received, status="Hot")], [mine], "after-2")

    assert store.history(target.uid)[-1].changed_at == received
