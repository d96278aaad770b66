"""The pull: pages, a gap-free cursor (late commits), long-poll, cursor errors."""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg
import pytest

from server.pull import Cursor
from server.records import (
    AUDIT_COLUMNS,
    TARGET_COLUMNS,
    audit_entry_from_row,
    target_from_row,
)

from .client import Device, count, create, set_status


@pytest.fixture
def alice(device_a: Device) -> Device:
    return device_a


@pytest.fixture
def bob(device_b: Device) -> Device:
    return device_b


def end_cursor(device: Device) -> str:
    """A cursor after everything written so far (tests share one database)."""
    return pull_all(device)[2]


def pull_all(device: Device, cursor=None, limit=1000):
    """Follow ``more`` to the end; returns (targets, history, cursor, pages).

    Checks on every page that each history entry's target came in that page or an
    earlier one (a client cannot record history of a target it does not know);
    ``targets`` holds each target once, in its last delivered state.
    """
    known: dict[str, dict] = {}
    history, pages = [], 0
    while True:
        page = device.pull(cursor, limit=limit)
        pages += 1
        # a page adds the targets its history names to its own `limit` targets
        assert len(page["targets"]) <= 2 * limit and len(page["history"]) <= limit
        known.update((t["uid"], t) for t in page["targets"])
        assert {e["target"] for e in page["history"]} <= known.keys()
        targets = list(known.values())
        history += page["history"]
        cursor = page["cursor"]
        if not page["more"]:
            return targets, history, cursor, pages
        assert pages < 100, "more never ends"


def test_pages_deliver_every_change_once_in_current_state(alice):
    start = end_cursor(alice)
    creates = [create(name=f"T{i}") for i in range(25)]
    alice.push(*creates)
    alice.push(*(set_status(c["target"], "Hot", base=1) for c in creates[:5]))

    targets, history, cursor, pages = pull_all(alice, start, limit=10)

    assert pages >= 3
    assert sorted(t["uid"] for t in targets) == sorted(c["target"] for c in creates)
    assert sum(t["status"] == "Hot" and t["version"] == 2 for t in targets) == 5
    assert len(history) == 30 == len({e["id"] for e in history})
    again = alice.pull(cursor)
    assert (again["targets"], again["history"], again["more"]) == ([], [], False)


def test_history_never_arrives_before_its_target(alice):
    """A target changed after many others: its first history entries come pages before
    its row would in (xid, id) order, so the page must carry the target too."""
    start = end_cursor(alice)
    first = create(name="Changed late", status="Cold")
    alice.push(first)
    alice.push(*(create(name=f"Other {i}") for i in range(12)))
    alice.push(set_status(first["target"], "Active", base=1))

    targets, history, _, pages = pull_all(alice, start, limit=4)  # asserts per page

    assert pages >= 4
    late = [e for e in history if e["target"] == first["target"]]
    assert [(e["old_status"], e["new_status"]) for e in late] == [
        (None, "Cold"),
        ("Cold", "Active"),
    ]
    assert next(t for t in targets if t["uid"] == first["target"])["status"] == "Active"


def test_a_page_does_not_resend_targets_the_cursor_passed(alice):
    """History pages behind the targets pages name targets already delivered in their
    current state: those are not sent again (a catch-up would carry them twice)."""
    start = end_cursor(alice)
    creates = [create(name=f"Sent once {i}") for i in range(12)]
    alice.push(*creates)
    alice.push(*(set_status(c["target"], "Hot", base=1) for c in creates))

    pages, cursor = [], start
    while not pages or pages[-1]["more"]:
        pages.append(alice.pull(cursor, limit=4))
        cursor = pages[-1]["cursor"]

    # 3 pages of targets (with the creates), then 3 of status changes alone
    assert [len(p["history"]) for p in pages] == [4] * 6
    assert [p["targets"] for p in pages[3:]] == [[]] * 3
    assert {t["uid"] for p in pages[:3] for t in p["targets"]} == {c["target"] for c in creates}
    assert all(t["status"] == "Hot" for p in pages for t in p["targets"])


def _wait_for_lock_waiter(database_url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = count(
            database_url,
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        if waiting:
            return
        time.sleep(0.02)
    raise TimeoutError("the push never waited for the row lock")


def test_a_transaction_that_commits_last_is_not_skipped(shared_server, alice, bob):
    server = shared_server
    w, x = sorted((uuid.uuid4(), uuid.uuid4()))
    v = uuid.uuid4()
    alice.push(create(w, name="W"), create(x, name="X"), create(v, name="V"))
    cursor = end_cursor(alice)

    with psycopg.connect(server.database_url) as blocker:
        blocker.execute("SELECT 1 FROM targets WHERE uid = %s FOR UPDATE", (x,))
        # this push locks W (taking its transaction id), then waits for X
        slow: list = []
        thread = threading.Thread(
            target=lambda: slow.extend(
                alice.push(set_status(w, "Hot", base=1), set_status(x, "Hot", base=1))
            )
        )
        thread.start()
        _wait_for_lock_waiter(server.database_url)
        fast = bob.push_one(set_status(v, "Cold", base=1))  # later xid, commits first
        assert fast["outcome"] == "applied"

        early = alice.pull(cursor)
        assert [t["uid"] for t in early["targets"]] == [str(v)]
        cursor = early["cursor"]
        blocker.rollback()
    thread.join(10)
    assert [r["outcome"] for r in slow] == ["applied", "applied"]

    late_targets, late_history, _, _ = pull_all(alice, cursor)

    assert {t["uid"] for t in late_targets} == {str(w), str(x)}
    assert {e["target"] for e in late_history} == {str(w), str(x)}
    # the slow push really did hold the older transaction id
    assert (
        count(
            server.database_url,
            "SELECT count(*) FROM audit_log a JOIN targets t ON t.id = a.target_id"
            " WHERE t.uid = %s AND a.op = 'set_status' AND a.xid::text::numeric <"
            " (SELECT max(xid::text::numeric) FROM audit_log)",
            w,
        )
        == 1
    )


def test_a_waiting_pull_returns_within_a_second_of_a_push(alice, bob):
    uid = alice.push_one(create())["target"]["uid"]
    cursor = end_cursor(alice)
    got: dict = {}

    def wait_for_change():
        got["page"] = alice.pull(cursor, wait=20)
        got["at"] = time.monotonic()

    thread = threading.Thread(target=wait_for_change)
    thread.start()
    time.sleep(0.5)
    bob.push_one(set_status(uid, "Hot", base=1))
    pushed_at = time.monotonic()
    thread.join(20)

    assert got["at"] - pushed_at < 1.0
    assert [t["status"] for t in got["page"]["targets"]] == ["Hot"]


def test_a_waiting_pull_with_nothing_new_returns_empty_after_wait(alice):
    cursor = end_cursor(alice)
    started = time.monotonic()

    page = alice.pull(cursor, wait=1)

    assert 0.9 <= time.monotonic() - started < 5
    assert (page["targets"], page["history"], page["more"]) == ([], [], False)


def test_bad_cursors_and_parameters_are_refused(alice):
    page = alice.pull()
    epoch = Cursor.decode(page["cursor"]).epoch

    for cursor in (
        "not-a-cursor",
        Cursor("0" * 32).encode(),  # another database
        Cursor(epoch, (10**15, 1), (10**15, 1)).encode(),  # ahead of this database
    ):
        response = alice.http.get("/v1/pull", params={"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["message"] and response.json()["field"] == "cursor"
    for params in ({"limit": 0}, {"limit": 10_001}, {"wait": 61}):
        response = alice.http.get("/v1/pull", params=params)
        assert response.status_code == 422
        assert response.json()["field"] == next(iter(params))


_ODD = 'quote " back \\ tab \t nl \n bell \x07 é 𝄞 \u2028'
_INSERT_TARGET = (
    "INSERT INTO targets (uid, name, description, markets, pipeline_status, version,"
    " status_changed_at, status_changed_by, created_at, last_updated, updated_by)"
    " VALUES (%s, %s, %s, %s, %s, 3, %s, %s, %s, now(), NULL) RETURNING id"
)


def assert_wire_is_the_models(conn: psycopg.Connection, uid: uuid.UUID) -> int:
    """The stored ``wire`` of the target and of its audit rows is the JSON the pydantic
    models make of the same rows (fields, order, values, time formats); returns how many
    audit rows were checked."""
    where = f" WHERE t.uid = '{uid}'"
    checked = []
    for alias, columns, source, model in (
        ("t", TARGET_COLUMNS, "targets t", lambda r: target_from_row(r).state()),
        ("a", AUDIT_COLUMNS, _AUDIT_SOURCE, audit_entry_from_row),
    ):
        rows = conn.execute(f"SELECT {alias}.wire, {columns} FROM {source}{where}").fetchall()
        for made, *row in rows:
            expected = model(tuple(row)).model_dump_json()
            assert list(json.loads(made).items()) == list(json.loads(expected).items())
        checked.append(len(rows))
    assert checked[0] == 1
    return checked[1]


def test_the_json_postgresql_writes_is_what_the_wire_models_write(shared_server):
    """Pages are the rows' stored wire JSON (migration 0002): the same fields, values
    and time formats as the pydantic models of the same rows."""
    times = ("2026-01-02 03:04:05+00", "2026-01-02 03:04:05.000001+00", "0001-01-01 00:00:00+00")
    with psycopg.connect(shared_server.database_url) as conn:  # rolled back at the end
        for n, at in enumerate(times):
            uid = uuid.uuid4()
            markets = [] if n else [_ODD, "b"]
            status, since = (None, None) if n else ("Hot", at)
            (tid,) = conn.execute(
                _INSERT_TARGET, (uid, _ODD, _ODD, markets, status, since, _ODD, at)
            ).fetchone()
            conn.execute(
                "INSERT INTO audit_log (target_id, change_id, op, old_status, new_status,"
                " touches_status, touches_details, version, change_timestamp, recorded_at,"
                " changed_by, device_id, note) VALUES (%s, %s, 'set_status', NULL, 'Cold',"
                " true, false, 1, %s, now(), %s, %s, %s)",
                (tid, uuid.uuid4(), at, _ODD, _ODD, None if n else _ODD),
            )
            assert assert_wire_is_the_models(conn, uid) == 1
        conn.rollback()


def test_a_targets_stored_wire_follows_every_update(shared_server):
    """Any UPDATE of a target rewrites its wire (a stale one would be served silently)."""
    uid = uuid.uuid4()
    with psycopg.connect(shared_server.database_url) as conn:  # rolled back at the end
        conn.execute(_INSERT_TARGET, (uid, "A", "", [], None, None, None, "2026-01-02 03:04:05+00"))
        updates = (
            "pipeline_status = 'Hot', status_changed_at = '2026-03-04 05:06:07.5+00'",
            "name = 'B', markets = '{x,y}', version = version + 1",
            "description = 'd', updated_by = 'bob', last_updated = now()",
            "wire = '{}'",  # even a direct write of the column itself
        )
        seen = {conn.execute("SELECT wire FROM targets WHERE uid = %s", (uid,)).fetchone()[0]}
        for update in updates:
            conn.execute(f"UPDATE targets SET {update} WHERE uid = %s", (uid,))
            (wire,) = conn.execute("SELECT wire FROM targets WHERE uid = %s", (uid,)).fetchone()
            assert wire != "{}"
            seen.add(wire)
            assert_wire_is_the_models(conn, uid)
        assert len(seen) == len(updates)  # the last update changes nothing else
        conn.rollback()


def test_pushes_store_the_wire_of_what_they_write(alice: Device, shared_server):
    """One push creating a target and changing it (its audit rows name a target created
    by the same statement) stores the models' JSON; the pull serves exactly those texts."""
    start = end_cursor(alice)
    odd = 'quote " back \\ é 𝄞'  # what a name may hold (no control characters)
    made = create(name=odd, status="Cold", description=odd, markets=[odd])
    uid = uuid.UUID(made["target"])
    results = alice.push(made, set_status(uid, "Hot", base=1, note=odd))
    assert [r["outcome"] for r in results] == ["applied", "applied"], results
    with psycopg.connect(shared_server.database_url) as conn:
        assert assert_wire_is_the_models(conn, uid) == 2
        stored = conn.execute(
            f"SELECT t.wire, array_agg(a.wire ORDER BY a.id) FROM {_AUDIT_SOURCE}"
            " WHERE t.uid = %s GROUP BY t.wire",
            (uid,),
        ).fetchone()
    targets, history, *_ = pull_all(alice, start)
    assert [t for t in targets if t["uid"] == str(uid)] == [json.loads(stored[0])]
    assert [e for e in history if e["target"] == str(uid)] == [json.loads(w) for w in stored[1]]


_AUDIT_SOURCE = "audit_log a JOIN targets t ON t.id = a.target_id"
