"""``pipetrack sync --once`` between two devices and a real server: offline changes,
conflicts and their three resolutions, chains, rejected and oversized changes."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable

import pytest

from syncd import Settings, run_once
from tests.support.server import ServerProcess, free_port
from tests.sync.faultproxy import BAD_STATUS, FaultProxy
from tests.sync.portal import ANSWERS, TO_HTTPS, Portal
from tests.sync.synchelp import SCRIPT, Device, audit_change_ids, server_history

#: Statuses that each differ from the one before, starting from Cold.
ROUND = ["Active", "Hot", "Closed", "Passed", "Cold", "Active", "Hot", "Closed", "Passed"]


def make_fifty_changes(device: Device) -> list[str]:
    """5 targets created Cold, then 9 status changes each: 50 changes; their uids."""
    with device.store() as store:
        uids = [store.create_target(f"Target {i}", status="Cold").uid for i in range(5)]
        for status in ROUND:
            for uid in uids:
                assert store.set_status(uid, status, note=f"to {status}").changed
        assert store.sync_state().pending == 50
    return uids


def test_fifty_offline_changes_reach_the_server_once_it_is_up_and_then_device_b(
    devices: Callable[[str], Device], database_url: str, make_user: Callable[[str], str]
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    a, b = devices("a"), devices("b")
    a.connect(url, "not-yet-checked")
    uids = make_fifty_changes(a)

    offline = a.run("sync", "--once")
    assert offline.returncode == 1, offline.stderr
    assert "changes stay queued" in offline.stderr
    assert a.pending() == 50
    with a.store() as store:
        state = store.sync_state()
        assert not state.online and "127.0.0.1" in (state.last_error or "")
        device_a = store.device_id

    with ServerProcess(database_url, port=port) as server:
        a.connect(url, make_user("alice"))
        b.connect(url, make_user("bob"))
        a.sync_once()
        b.sync_once()

        with a.store() as store:
            local_ids = [h.change_id for uid in uids for h in store.history(uid)]
            assert store.sync_state().pending == 0
        on_server = audit_change_ids(database_url, device_a)
        assert len(on_server) == 50
        assert sorted(on_server) == sorted(local_ids)
        for uid in uids:
            assert b.status_of(uid) == a.status_of(uid) == "Passed"
            assert b.history_of(uid) == a.history_of(uid)
            assert len(b.history_of(uid)) == 10
            history = server_history(server.url, a.profile.read_token() or "", uid)
            assert [str(e.change_id) for e in history.history] == [
                cid for cid, _ in a.history_of(uid)
            ]
        status = json.loads(a.run("status", "--json").stdout)
        # --once has ended: no sync process on the profile, so not "online"
        assert status["online"] is False and status["pending"] == 0
        assert status["last_error"] is None and status["last_sync_at"]


def test_a_conflict_goes_to_exactly_one_device_and_each_resolution_converges(
    a: Device, b: Device, server: ServerProcess, token: str
):
    choices = ["mine", "theirs", "Closed"]
    with a.store() as store:
        uids = [store.create_target(f"Deal {c}", status="Cold").uid for c in choices]
    a.sync_once()
    b.sync_once()
    # both offline: A says Hot, B says Passed, on the same three targets
    with a.store() as store:
        for uid in uids:
            store.set_status(uid, "Hot", note="A's call")
    with b.store() as store:
        for uid in uids:
            store.set_status(uid, "Passed", note="B's call")
    a.sync_once()
    b.sync_once()

    with a.store() as store:
        assert store.conflicts() == []
    with b.store() as store:
        conflicts = {c.target: c for c in store.conflicts()}
        assert set(conflicts) == set(uids)
        for c in conflicts.values():
            assert (c.mine_status, c.theirs_status, c.base_status) == ("Passed", "Hot", "Cold")
        for uid, choice in zip(uids, choices, strict=True):
            store.resolve_conflict(conflicts[uid].change_id, choice)
        assert store.conflicts() == []
    b.sync_once()
    a.sync_once()

    expected = {"mine": "Passed", "theirs": "Hot", "Closed": "Closed"}
    for uid, choice in zip(uids, choices, strict=True):
        assert a.status_of(uid) == b.status_of(uid) == expected[choice]
        history = server_history(server.url, token, uid)
        statuses = [e.new_status for e in history.history]
        assert (
            statuses
            == {
                "mine": ["Cold", "Hot", "Passed"],
                "theirs": ["Cold", "Hot"],
                "Closed": ["Cold", "Hot", "Closed"],
            }[choice]
        )
        server_ids = [str(e.change_id) for e in history.history]
        assert [cid for cid, _ in a.history_of(uid)] == server_ids
        assert set(server_ids) <= {cid for cid, _ in b.history_of(uid)}
    for device in (a, b):
        with device.store() as store:
            state = store.sync_state()
            assert (state.pending, state.conflicts, state.rejected) == (0, 0, 0)


def test_a_conflict_the_teammate_comes_round_to_settles_itself_on_the_next_sync(
    a: Device, b: Device, server: ServerProcess, token: str
):
    """B's Passed met A's Hot; then A made it Passed too. B's next sync pulls that,
    settles the conflict as keep mine and pushes it again: converged, nothing written
    twice on the server, nothing left for B to choose."""
    with a.store() as store:
        uid = store.create_target("Deal agreed", status="Cold").uid
    a.sync_once()
    b.sync_once()
    with a.store() as store:
        store.set_status(uid, "Hot", note="A's call")
    with b.store() as store:
        store.set_status(uid, "Passed", note="B's call")
    a.sync_once()
    b.sync_once()
    with b.store() as store:
        [conflict] = store.conflicts()
    with a.store() as store:
        store.set_status(uid, "Passed", note="A came round")
    a.sync_once()
    synced = b.sync_once()
    assert "1 conflict settled: the newest change on the server is the same as yours" in (
        synced.stderr
    ), synced.stderr
    with b.store() as store:
        assert store.conflicts() == [] and store.sync_state().pending == 0
        [mine] = [h for h in store.history(uid) if h.change_id == conflict.change_id]
        assert (mine.old_status, mine.new_status, mine.sync) == ("Cold", "Passed", "converged")
    statuses = [e.new_status for e in server_history(server.url, token, uid).history]
    assert statuses == ["Cold", "Hot", "Passed"]
    assert a.status_of(uid) == b.status_of(uid) == "Passed"


def test_a_chain_of_offline_changes_applies_in_order_without_conflict(
    a: Device, b: Device, server: ServerProcess, token: str
):
    with a.store() as store:
        known = store.create_target("Known").uid
    a.sync_once()
    with a.store() as store:
        new = store.create_target("New", status="Cold").uid
        for status in ("Cold", "Active", "Hot"):
            store.set_status(known, status)
        for status in ("Active", "Hot"):
            store.set_status(new, status)
    a.sync_once()
    b.sync_once()
    with a.store() as store:
        assert store.conflicts() == [] and store.sync_state().pending == 0
    for uid, statuses in (
        (known, [None, "Cold", "Active", "Hot"]),
        (new, ["Cold", "Active", "Hot"]),
    ):
        history = server_history(server.url, token, uid)
        assert [e.new_status for e in history.history] == statuses
        assert history.target.version == len(statuses)
        assert b.status_of(uid) == "Hot"


def test_an_undone_change_leaves_every_device_counting_the_old_status_on(a: Device, b: Device):
    """Set Hot by mistake, undone (one of them offline, one after it synced): the target
    is Cold since when it was made Cold, on this device, on the server and on b's."""
    with a.store() as store:
        uid = store.create_target("Slip", status="Cold").uid
    a.sync_once()
    with a.store() as store:
        since = store.get(uid).status_since  # as the server dated it
        store.set_status(uid, "Hot")
        store.undo_last()  # both offline
        store.set_status(uid, "Active")
    a.sync_once()
    with a.store() as store:
        store.undo_last()  # after it went out
    a.sync_once()
    b.sync_once()
    for device in (a, b):
        with device.store() as store:
            view = store.get(uid)
        assert (view.status, view.status_since, view.sync) == ("Cold", since, "synced")


def test_a_rejected_change_is_quarantined_and_other_targets_still_sync(
    a: Device, b: Device, proxy: FaultProxy, server: ServerProcess, token: str
):
    a.connect(proxy.url, token)
    with a.store() as store:
        bad, good = (store.create_target(name).uid for name in ("Bad", "Good"))
        proxy.poison.add(bad)  # its status changes reach the server with a bad status
        store.set_status(bad, "Hot")
        store.set_status(good, "Hot")
        later = store.create_target("Later", status="Active").uid
        store.set_status(bad, "Closed")  # held behind the rejected change
    a.sync_once()

    with a.store() as store:
        [rejected] = store.rejected()
        assert rejected.target == bad and BAD_STATUS in rejected.reason
        state = store.sync_state()
        assert (state.rejected, state.pending) == (1, 1)
        store.set_status(good, "Closed")  # later changes to other targets still go out
    a.sync_once()
    b.sync_once()
    assert b.status_of(good) == "Closed" and b.status_of(later) == "Active"
    assert b.status_of(bad) is None
    assert [e.new_status for e in server_history(server.url, token, bad).history] == [None]
    with a.store() as store:
        assert store.sync_state().pending == 1  # only the held change to Bad


def test_oversized_pushes_are_split_and_a_change_too_large_alone_is_quarantined(
    a: Device, b: Device, proxy: FaultProxy
):
    a.connect(proxy.url, a.profile.read_token() or "")
    proxy.max_body = 8_000
    with a.store() as store:
        uids = [store.create_target(f"Small {i}", status="Cold").uid for i in range(60)]
        huge = store.create_target("Huge", description="x" * 10_000).uid
        after = store.create_target("After", status="Hot").uid
    a.sync_once()

    assert proxy.refused_sizes, "the proxy never refused a push"
    assert sum(proxy.push_sizes) == 61  # everything but Huge, each sent once
    assert max(proxy.push_sizes) < 62
    with a.store() as store:
        [rejected] = store.rejected()
        assert rejected.target == huge and "413" in rejected.reason
        assert store.sync_state().pending == 0
    b.sync_once()
    assert all(b.status_of(uid) == "Cold" for uid in uids)
    assert b.status_of(after) == "Hot"


def test_a_cursor_the_server_no_longer_knows_starts_the_pull_over(
    a: Device, b: Device, proxy: FaultProxy, token: str
):
    with a.store() as store:
        uid = store.create_target("Restored", status="Cold").uid
    a.sync_once()
    b.sync_once()
    b.connect(proxy.url, b.profile.read_token() or "")
    with a.store() as store:
        store.set_status(uid, "Hot")
    a.sync_once()
    proxy.bad_cursors = 1
    result = b.sync_once()
    assert proxy.bad_cursors == 0
    assert "the server refused the pull cursor" in result.stderr
    assert b.status_of(uid) == "Hot"
    assert b.history_of(uid) == a.history_of(uid)


def test_server_errors_are_retried_with_the_same_batch(a: Device, b: Device, proxy: FaultProxy):
    a.connect(proxy.url, a.profile.read_token() or "")
    with a.store() as store:
        uids = [store.create_target(f"Retry {i}", status="Hot").uid for i in range(3)]
    proxy.fail_pushes = [503, 500]
    result = a.sync_once()
    assert proxy.fail_pushes == [] and proxy.push_sizes == [3]
    retries = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert len(retries) == 2 and "HTTP 503" in retries[0] and "HTTP 500" in retries[1]
    b.sync_once()
    assert [b.status_of(uid) for uid in uids] == ["Hot"] * 3


def test_a_server_in_trouble_is_told_apart_from_no_network(a: Device, proxy: FaultProxy):
    """503s all along (its database down, say): sync --once gives up, the changes wait,
    and the bar and status say the server has trouble, not just "offline"."""
    a.connect(proxy.url, a.profile.read_token() or "")
    with a.store() as store:
        store.create_target("Waits", status="Hot")
    proxy.fail_pushes = [503] * 10
    assert a.run("sync", "--once").returncode == 1
    with a.store() as store:
        state = store.sync_state()
    assert (state.pending, state.hint) == (1, "server trouble")
    assert "HTTP 503" in (state.last_error or "")


def test_long_work_says_how_far_it_got(
    devices: Callable[[str], Device], server: ServerProcess, token: str, caplog
):
    """A backlog pushed or a catch-up pulled logs its progress every few seconds (here
    every step: the interval is 0); work shorter than that logs only its summary."""
    device = devices("p")
    device.connect(server.url, token)
    make_fifty_changes(device)
    caplog.set_level(logging.INFO, logger="syncd")

    with device.store() as store:
        every_step = Settings(server.url, progress_every=0.0)
        assert run_once(store, every_step, device.profile.read_token) == 0
        pushed = [r.getMessage() for r in caplog.records]
        caplog.clear()
        store.set_status(store.list_targets()[0].uid, "Hot")
        assert run_once(store, Settings(server.url), device.profile.read_token) == 0

    assert "sync: pushed 50 (applied 50, conflicts 0, rejected 0) so far…" in pushed
    assert any(m.startswith("sync: pulled ") and m.endswith(" so far…") for m in pushed)
    assert [m for m in (r.getMessage() for r in caplog.records) if "so far" in m] == []


def test_two_sync_once_at_a_time_both_succeed_and_push_once(
    devices: Callable[[str], Device], server: ServerProcess, token: str, database_url: str
):
    """A script's ``sync --once`` while another runs (cron and a hand, say): the second
    waits for the first, or syncs itself once it ended; every change reaches the server
    once."""
    device = devices("twice")
    device.connect(server.url, token)
    make_fifty_changes(device)
    with device.store() as store:
        device_id = store.device_id
    runs = [
        subprocess.Popen(
            [str(SCRIPT), "--home", str(device.home), "sync", "--once"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=device.environ(),
        )
        for _ in range(2)
    ]
    outcomes = [(run.wait(60), run.stderr.read() if run.stderr else "") for run in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert device.pending() == 0
    assert len(audit_change_ids(database_url, device_id)) == 50


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_wifi_sign_in_page_keeps_every_change_queued_and_says_so(
    a: Device, server: ServerProcess, token: str, answer: str
):
    """A hotel's network answers every request itself until the user signs in: nothing
    is quarantined or lost, the error says what is likely going on, and once signed in
    (here: the server reachable again) the change goes out."""
    with a.store() as store:
        uid = store.create_target("Hotel Lobby Lead", status="Hot").uid
    with Portal(answer) as portal:
        a.connect(portal.url, token)
        done = a.run("sync", "--once")
    assert done.returncode == 1
    assert "something other than the pipetrack API answered" in done.stderr, done.stderr
    assert "Wi-Fi sign-in page" in done.stderr
    if answer == "redirect":
        assert "HTTP 302 to http://portal.hotel.example/login" in done.stderr
    with a.store() as store:
        state = store.sync_state()
    assert (state.pending, state.rejected) == (1, 0)
    assert "Wi-Fi sign-in page" in (state.last_error or "")
    assert state.hint == "Wi-Fi sign-in?"  # what the sync bar shows beside "offline"
    a.connect(server.url, token)
    a.sync_once()
    assert a.pending() == 0
    with a.store() as store:
        assert store.get(uid).version == 1


def test_a_server_address_that_moved_to_https_says_so_and_keeps_the_changes(a: Device, token: str):
    with a.store() as store:
        store.create_target("Behind A Balancer", status="Cold")
    with Portal(TO_HTTPS) as balancer:
        a.connect(balancer.url, token)
        done = a.run("sync", "--once")
    assert done.returncode == 1
    https = balancer.url.replace("http://", "https://")
    assert f"the server redirects to https: use {https}" in done.stderr
    with a.store() as store:
        state = store.sync_state()
    assert (state.pending, state.rejected, state.hint) == (
        1,
        0,
        "log in with https",
    )
