"""Every push outcome, against a real server process over loopback."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from .client import Device, count, create, edit, set_status
from .test_pull import end_cursor, pull_all


def _audit_count(device: Device, uid) -> int:
    return len(device.history(uid)["history"])


def test_create_records_the_user_and_clamps_the_client_clock(device_a: Device):
    change = create(name="  Acme  ", status="hot", markets=["EU", "eu", "US"])
    change["changed_at"] = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    result = device_a.push_one(change)

    assert result["outcome"] == "applied"
    target = result["target"]
    assert (target["name"], target["status"], target["version"]) == ("Acme", "Hot", 1)
    assert target["markets"] == ["EU", "US"]
    assert target["updated_by"] == target["status_changed_by"] == "alice"
    [entry] = device_a.history(change["target"])["history"]
    assert (entry["op"], entry["old_status"], entry["new_status"]) == ("create", None, "Hot")
    assert (entry["changed_by"], entry["device_id"], entry["version"]) == ("alice", "device-a", 1)
    assert entry["changed_at"] <= entry["recorded_at"]  # a clock 3 days fast is clamped


def test_a_clock_years_behind_never_dates_a_status_before_the_one_it_follows(device_a):
    """A device whose clock reset (2001) would show the target in its status for decades,
    stale for everyone: the status change is dated no earlier than the one before it."""
    created = device_a.push_one(create(status="Cold"))["target"]
    change = set_status(created["uid"], "Hot", base=1)
    change["changed_at"] = "2001-01-01T00:00:00Z"
    target = device_a.push_one(change)["target"]
    assert target["status"] == "Hot"
    assert target["status_changed_at"] == created["status_changed_at"]
    entries = device_a.history(created["uid"])["history"]
    assert entries[-1]["changed_at"] == created["status_changed_at"]


def test_an_undo_keeps_since_when_the_status_it_brings_back_was_held(device_a):
    """A status change that brings back an earlier status says since when it was held
    (status_since): the target's days in it count on, within the target's life and never
    after the change; the audit row keeps the change's own time. Only a status change
    may say it."""
    created = device_a.push_one(create(status="Cold"))["target"]
    uid = created["uid"]
    assert device_a.push_one(set_status(uid, "Hot", base=1))["outcome"] == "applied"
    back = {**set_status(uid, "Cold", base=2), "status_since": created["status_changed_at"]}
    target = device_a.push_one(back)["target"]
    assert (target["status"], target["status_changed_at"]) == ("Cold", created["status_changed_at"])
    [*_, entry] = device_a.history(uid)["history"]
    assert _at(entry["changed_at"]) == _at(back["changed_at"])  # the undo's own time

    too_early = {**set_status(uid, "Hot", base=3), "status_since": "2010-01-01T00:00:00Z"}
    assert device_a.push_one(too_early)["target"]["status_changed_at"] == created["created_at"]
    ahead = {**set_status(uid, "Cold", base=4), "status_since": "2999-01-01T00:00:00Z"}
    dated = device_a.push_one(ahead)["target"]
    assert _at(dated["status_changed_at"]) <= datetime.now(UTC)  # at most the change's time
    wrong = {**edit(uid, base=5, description="d"), "status_since": created["created_at"]}
    refused = device_a.push_one(wrong)
    assert refused["outcome"] == "rejected" and "only a status change" in refused["error"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_dead_clock_dates_changes_when_the_server_receives_them(shared_server, device_a):
    """A laptop with a dead clock battery says 1970: its status change on a target made
    today (without a status, so no earlier status time to keep to) and its edit are
    applied, dated when the server received them — in the target, in its history and
    in what teammates pull — not 20,000 days ago."""
    cursor = end_cursor(device_a)
    created = device_a.push_one(create())["target"]
    dead = "1970-01-01T00:00:00Z"
    status = {**set_status(created["uid"], "Hot", base=1), "changed_at": dead}
    details = {**edit(created["uid"], base=2, description="d"), "changed_at": dead}

    results = device_a.push(status, details)

    assert [r["outcome"] for r in results] == ["applied", "applied"]
    entries = device_a.history(created["uid"])["history"]
    for entry in entries[1:]:  # received when recorded (one server clock)
        assert entry["changed_at"] == entry["recorded_at"], entry
    hot = results[1]["target"]
    assert _at(hot["status_changed_at"]) == _at(entries[1]["changed_at"])
    assert _at(hot["status_changed_at"]) >= _at(created["created_at"])
    targets, history, _, _ = pull_all(device_a, cursor)
    [pulled] = [t for t in targets if t["uid"] == created["uid"]]
    assert _at(pulled["status_changed_at"]) == _at(hot["status_changed_at"])
    pulled_entries = [e for e in history if e["target"] == created["uid"]]
    assert [_at(e["changed_at"]) for e in pulled_entries] == [_at(e["changed_at"]) for e in entries]


def test_a_create_dated_in_year_1_far_east_is_dated_when_received(shared_server, device_a):
    """0001-01-01T00:00:00+14:00 is year 0 (1 BC) in UTC: PostgreSQL would store it BC
    and the wire say 0001-12-31. The create is applied, dated when received."""
    change = create(status="Cold")
    change["changed_at"] = "0001-01-01T00:00:00+14:00"

    result = device_a.push_one(change)

    assert result["outcome"] == "applied"
    target = result["target"]
    [entry] = device_a.history(change["target"])["history"]
    assert _at(target["created_at"]) == _at(target["status_changed_at"]) == _at(entry["changed_at"])
    assert _at(entry["changed_at"]) == _at(entry["recorded_at"])
    url = shared_server.database_url
    assert not count(
        url,
        "SELECT count(*) FROM targets t JOIN audit_log a ON a.target_id = t.id WHERE t.uid = %s"
        " AND (t.created_at < '2000-01-01Z' OR a.change_timestamp < '2000-01-01Z')",
        change["target"],
    )


def test_a_clock_behind_never_dates_a_change_before_the_target_existed(device_a, device_b):
    """2005 is a plausible time, but not for a change to a target made today: the status
    change and the edit are dated when the target was made, not before."""
    created = device_a.push_one(create())["target"]
    behind = "2005-06-01T00:00:00Z"
    status = {**set_status(created["uid"], "Hot", base=1), "changed_at": behind}
    details = {**edit(created["uid"], base=1, name="Renamed"), "changed_at": behind}

    results = [device_b.push_one(status), device_b.push_one(details)]

    assert [r["outcome"] for r in results] == ["applied", "applied"]
    made = _at(created["created_at"])
    assert _at(results[-1]["target"]["status_changed_at"]) == made
    entries = device_b.history(created["uid"])["history"]
    assert [_at(e["changed_at"]) for e in entries] == [made, made, made]


def test_each_push_is_logged_with_its_user_device_and_outcomes(shared_server, bob_token):
    """What an admin reads when asked why someone's change did not arrive."""
    device, other = Device(shared_server, bob_token), Device(shared_server, bob_token)
    uid = device.push_one(create())["target"]["uid"]
    assert other.push_one(set_status(uid, "Hot", base=1))["outcome"] == "applied"
    results = device.push(set_status(uid, "Cold", base=1), set_status(uid, "Passed", base=1))
    assert [r["outcome"] for r in results] == ["conflict", "blocked"]

    log = shared_server.log_text()
    assert f"push by bob from device {device.device_id}: 1 change, 1 applied\n" in log
    assert f"push by bob from device {device.device_id}: 2 changes, 1 blocked, 1 conflict" in log


def test_two_devices_from_the_same_base_the_second_conflicts(device_a, device_b):
    uid = device_a.push_one(create())["target"]["uid"]

    first = device_a.push_one(set_status(uid, "Hot", base=1))
    second = device_b.push_one(set_status(uid, "Cold", base=1))

    assert first["outcome"] == "applied" and first["target"]["version"] == 2
    assert second["outcome"] == "conflict"
    assert (second["target"]["status"], second["target"]["version"]) == ("Hot", 2)
    assert _audit_count(device_a, uid) == 2


def test_the_same_change_twice_is_a_duplicate_with_one_audit_row(device_a):
    uid = device_a.push_one(create())["target"]["uid"]
    change = set_status(uid, "Active", base=1, note="call went well")

    first = device_a.push_one(change)
    again = device_a.push(change, change)  # a retry, and a repeat inside one push

    assert first["outcome"] == "applied"
    assert [r["outcome"] for r in again] == ["duplicate", "duplicate"]
    assert again[0]["target"]["version"] == 2 and again[0]["target"]["status"] == "Active"
    history = device_a.history(uid)["history"]
    assert [e["change_id"] for e in history].count(change["change_id"]) == 1
    assert history[-1]["note"] == "call went well"


def test_both_devices_set_the_same_status_converged(device_a, device_b):
    uid = device_a.push_one(create())["target"]["uid"]

    device_a.push_one(set_status(uid, "Hot", base=1))
    result = device_b.push_one(set_status(uid, "hot", base=1))

    assert result["outcome"] == "converged"
    assert result["target"]["version"] == 2
    assert _audit_count(device_a, uid) == 2  # create + the first change only


def test_changes_made_on_a_create_that_converged_apply(device_a, device_b):
    """Two devices imported one row (its uid, its details) offline; b also set a status
    and edited it before syncing. a pushed first: b's create converges, and its changes
    made on it (base 0) apply in the same push. They conflicted with a's create, base
    and theirs alike ("Cold v1" against "Cold v1"): nothing to choose."""
    made = create(name="Twin Lead", status="Cold", description="from the fair")
    assert device_a.push_one(made)["outcome"] == "applied"
    uid = made["target"]
    results = device_b.push(
        made | {"change_id": str(uuid.uuid4())},
        set_status(uid, "Hot", base=0, note="b's call"),
        edit(uid, base=0, description="b's words"),
    )
    assert [r["outcome"] for r in results] == ["converged", "applied", "applied"]
    assert (results[-1]["target"]["status"], results[-1]["target"]["version"]) == ("Hot", 3)


def test_a_chain_of_three_changes_in_one_push_all_apply(device_a):
    create_change = create(status="Cold")
    uid = create_change["target"]
    # created offline: the later changes carry base_version 0 ("before creation")
    chain = [set_status(uid, s, base=0) for s in ("Active", "Hot", "Closed")]

    results = device_a.push(create_change, *chain)

    assert [r["outcome"] for r in results] == ["applied"] * 4
    assert [r["target"]["version"] for r in results] == [1, 2, 3, 4]
    history = device_a.history(uid)["history"]
    assert [(e["old_status"], e["new_status"]) for e in history] == [
        (None, "Cold"),
        ("Cold", "Active"),
        ("Active", "Hot"),
        ("Hot", "Closed"),
    ]


def test_a_chain_across_pushes_with_lost_responses_all_apply(device_a, device_b):
    uid = device_a.push_one(create())["target"]["uid"]
    device_b.push_one(edit(uid, base=1, description="someone else's edit"))  # details only

    # device A never heard back, so each change still says base 1
    results = [device_a.push_one(set_status(uid, s, base=1)) for s in ("Cold", "Active", "Hot")]

    assert [r["outcome"] for r in results] == ["applied"] * 3
    assert [r["target"]["version"] for r in results] == [3, 4, 5]
    assert [e["op"] for e in device_a.history(uid)["history"]] == [
        "create",
        "edit",
        "set_status",
        "set_status",
        "set_status",
    ]
    # ...but another device's status change after that base is a conflict
    device_b.push_one(set_status(uid, "Passed", base=5))
    assert device_a.push_one(set_status(uid, "Cold", base=1))["outcome"] == "conflict"


def test_a_rejected_change_blocks_only_its_own_target(device_a):
    one, two, three = (device_a.push_one(create(name=n))["target"]["uid"] for n in "XYZ")

    results = device_a.push(
        set_status(one, "Hot", base=1),
        set_status(two, "Lukewarm", base=1),
        set_status(two, "Hot", base=1),
        set_status(three, "Cold", base=1),
        edit(two, base=1, name="Y2"),
    )

    assert [r["outcome"] for r in results] == [
        "applied",
        "rejected",
        "blocked",
        "applied",
        "blocked",
    ]
    assert "Lukewarm" in results[1]["error"]
    assert results[2]["error"]
    assert device_a.history(two)["target"]["version"] == 1
    assert _audit_count(device_a, two) == 1


def test_an_edit_and_a_status_change_from_the_same_base_both_apply(device_a, device_b):
    uid = device_a.push_one(create(description="old"))["target"]["uid"]

    edited = device_a.push_one(edit(uid, base=1, description="new", markets=["Nordics"]))
    status = device_b.push_one(set_status(uid, "Hot", base=1))
    second_edit = device_b.push_one(edit(uid, base=1, name="Renamed"))

    assert (edited["outcome"], status["outcome"]) == ("applied", "applied")
    assert second_edit["outcome"] == "conflict"  # details vs details is a conflict
    target = status["target"]
    assert (target["description"], target["markets"], target["status"]) == (
        "new",
        ["Nordics"],
        "Hot",
    )
    assert target["version"] == 3


def test_setting_no_status_clears_it(device_a):
    uid = device_a.push_one(create(status="Hot"))["target"]["uid"]

    result = device_a.push_one(set_status(uid, None, base=1))

    assert result["outcome"] == "applied"
    assert result["target"]["status"] is None
    assert device_a.history(uid)["history"][-1]["new_status"] is None


def test_rejections_say_why(device_a):
    existing = create(name="Original")
    uid = device_a.push_one(existing)["target"]["uid"]
    same_again = {**create(uuid.UUID(uid), name="Original")}
    different = create(uuid.UUID(uid), name="Other")

    results = device_a.push(
        set_status(uuid.uuid4(), "Hot", base=1),
        same_again,
        different,
        create(name="x" * 300),
    )

    assert [r["outcome"] for r in results] == ["rejected", "converged", "rejected", "rejected"]
    assert "unknown target" in results[0]["error"]
    assert "already exists" in results[2]["error"]
    assert "255" in results[3]["error"]
    ahead = device_a.push_one(set_status(uid, "Hot", base=7))
    assert ahead["outcome"] == "rejected" and "ahead" in ahead["error"]


def test_a_push_of_1000_changes_is_quick(device_a, shared_server):
    creates = [create(name=f"T{i}") for i in range(500)]
    changes = creates + [set_status(c["target"], "Active", base=1) for c in creates]

    started = time.monotonic()
    results = device_a.push(*changes)
    elapsed = time.monotonic() - started

    assert [r["outcome"] for r in results] == ["applied"] * 1000
    assert elapsed < 5, f"1000 changes took {elapsed:.1f}s"
    uids = [c["target"] for c in creates]
    assert (
        count(
            shared_server.database_url,
            "SELECT count(*) FROM audit_log a JOIN targets t ON t.id = a.target_id"
            " WHERE t.uid = ANY(%s::uuid[])",
            uids,
        )
        == 1000
    )


def _push_at_once(pushes: dict[str, tuple[Device, list[dict]]]) -> dict[str, list]:
    """Each device's push started at the same moment; their results by name."""
    results: dict[str, list] = {}

    def push(name: str) -> None:
        device, changes = pushes[name]
        results[name] = device.push(*changes)

    threads = [threading.Thread(target=push, args=(name,)) for name in pushes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_devices_creating_the_same_targets_at_once(device_a, device_b, shared_server):
    for _round in range(3):
        uids = [uuid.uuid4() for _ in range(40)]
        creates = {
            name: (device, [create(u, name=f"Same {u}") for u in uids])
            for name, device in (("a", device_a), ("b", device_b))
        }

        results = _push_at_once(creates)

        for mine, theirs in zip(results["a"], results["b"], strict=True):
            assert sorted([mine["outcome"], theirs["outcome"]]) == ["applied", "converged"]
        assert count(
            shared_server.database_url,
            "SELECT count(*) FROM targets t JOIN audit_log a ON a.target_id = t.id"
            " WHERE t.uid = ANY(%s)",
            uids,
        ) == len(uids)


def test_the_push_answer_is_exactly_the_json_of_its_wire_model(device_a):
    """The route writes the results as plain values (no model per result): the bytes must
    be what ``PushResponse`` writes, every outcome, with and without a target and error."""
    from protocol.wire import PushResponse

    uid = device_a.push_one(create(markets=["EU"], description="d", status="Cold"))["target"]["uid"]
    changes = [
        set_status(uid, "Hot", base=1, note="n"),  # applied
        set_status(uid, "Nope", base=2),  # rejected, with the target
        set_status(uid, "Cold", base=2),  # blocked: no target
        create(name=""),  # rejected: no target, an error
    ]
    response = device_a.http.post(
        "/v1/push", json={"device_id": device_a.device_id, "changes": changes}
    )
    assert response.status_code == 200
    model = PushResponse.model_validate_json(response.content)
    assert [r.outcome for r in model.results] == ["applied", "rejected", "blocked", "rejected"]
    assert response.content == model.model_dump_json().encode()
