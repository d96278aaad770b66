"""``pipetrack sync`` running as a real background process: live propagation, a crash
mid-push, the server going away and coming back, a refused token, one daemon per profile.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from storage import NotFound
from syncd.report import TOKEN_REFUSED
from tests.support.server import ServerProcess
from tests.sync.faultproxy import FaultProxy
from tests.sync.synchelp import SCRIPT, Device, audit_change_ids, wait_until


def settle(device: Device) -> None:
    """Wait until the device's daemon reached the server (state recorded online)."""
    try:
        # a fresh profile's first pull takes everything the package's tests pushed
        wait_until(device.online, timeout=30, what=f"{device.name} online")
    except AssertionError as err:  # say what the daemon was doing
        logs = "\n".join(daemon.log()[-3000:] for daemon in device.daemons)
        with device.store() as store:
            state = store.sync_state()
        raise AssertionError(f"{err}; state {state}; daemon log:\n{logs}") from None


@pytest.mark.parametrize("watch", ["events", "poll"])
def test_a_change_on_a_reaches_b_within_two_seconds(a: Device, b: Device, watch: str):
    with a.store() as store:
        uid = store.create_target("Live", status="Cold").uid
    a.start_daemon(PIPETRACK_SYNC_WATCH=watch)
    b.start_daemon()
    wait_until(lambda: _status_or_none(b, uid) == "Cold", what="B has the target")
    settle(a)
    settle(b)

    for status in ("Hot", "Closed"):
        with a.store() as store:
            store.set_status(uid, status, note="live")  # as the TUI would
        started = time.monotonic()
        wait_until(lambda s=status: b.status_of(uid) == s, timeout=5, interval=0.02)
        assert time.monotonic() - started < 2.0
    assert b.history_of(uid) == a.history_of(uid)


def _status_or_none(device: Device, uid: str) -> str | None:
    try:
        return device.status_of(uid)
    except NotFound:
        return None


@pytest.mark.slow
def test_kill_9_after_the_push_was_sent_loses_nothing_and_duplicates_nothing(
    a: Device, proxy: FaultProxy, database_url: str, token: str
):
    a.connect(proxy.url, token)
    with a.store() as store:
        device_id = store.device_id
        uids = [store.create_target(f"T{i}", status="Cold").uid for i in range(30)]
        for uid in uids:
            store.set_status(uid, "Active")
            store.set_status(uid, "Hot")
    proxy.hold_pushes = True
    daemon = a.start_daemon()
    assert proxy.push_answered.wait(30), daemon.log()
    # the server applied the push; its answer is held by the proxy: the daemon dies
    # before hearing it
    assert len(audit_change_ids(database_url, device_id)) == 90
    daemon.kill()
    proxy.hold_pushes = False
    proxy.release.set()
    assert a.pending() == 90  # nothing was marked done without an answer

    with a.store() as store:
        for uid in uids[:5]:
            store.set_status(uid, "Closed")  # more work while the daemon was down
    a.start_daemon()
    wait_until(lambda: a.pending() == 0, timeout=30, what="A's outbox drained")

    on_server = audit_change_ids(database_url, device_id)
    assert len(on_server) == len(set(on_server)) == 95
    with a.store() as store:
        local = [h.change_id for uid in uids for h in store.history(uid)]
        assert sorted(local) == sorted(on_server)
        assert [store.get(uid).status for uid in uids] == ["Closed"] * 5 + ["Hot"] * 25
    assert proxy.push_sizes[:2] == [90, 95]  # the lost batch was sent again as it was


@pytest.mark.slow
def test_server_down_backs_off_keeps_changes_and_delivers_them_when_back(
    a: Device, server: ServerProcess, database_url: str
):
    with a.store() as store:
        device_id = store.device_id
        uid = store.create_target("Resilient", status="Cold").uid
    daemon = a.start_daemon()
    wait_until(lambda: a.pending() == 0, what="first push")
    settle(a)

    server.stop()
    with a.store() as store:
        for status in ("Active", "Hot", "Closed"):
            store.set_status(uid, status)
    lines = daemon.wait_log(r"push of \d+ changes? failed", count=5, timeout=30)
    windows = [float(re.search(r"window ([\d.]+) s", line)[1]) for line in lines]
    assert windows[:3] == [0.5, 1.0, 2.0]  # doubling...
    assert windows[3:] == [2.0] * (len(windows) - 3)  # ...up to the cap (2 s in tests)
    delays = [float(re.search(r"retrying in ([\d.]+) s", line)[1]) for line in lines]
    assert all(0 <= d <= w for d, w in zip(delays, windows, strict=True))
    with a.store() as store:
        state = store.sync_state()
        assert (state.online, state.pending) == (False, 3)
        assert "cannot reach" in (state.last_error or "")

    server.start()
    wait_until(lambda: a.pending() == 0, timeout=20, what="delivery after the server is back")
    assert daemon.proc.poll() is None  # the same process, never restarted
    assert len(audit_change_ids(database_url, device_id)) == 4
    settle(a)
    with a.store() as store:
        assert store.sync_state().last_error is None


def test_pushes_failing_while_pulls_work_are_not_reported_as_online(
    a: Device, b: Device, proxy: FaultProxy
):
    """Every push answered 503 while pulls go through: the pulls' successes must not wipe
    the push's failure (status said "online", no error, while nothing went out), until a
    push gets through."""
    a.connect(proxy.url, a.profile.read_token() or "")
    a.start_daemon(PIPETRACK_SYNC_WAIT="0.2")  # a pull (and its report) every 0.2 s
    settle(a)
    proxy.fail_pushes = [503] * 1000
    with a.store() as store:
        uid = store.create_target("Waits", status="Hot").uid

    def failing() -> bool:
        with a.store() as store:
            state = store.sync_state()
        return (state.online, state.hint) == (False, "server trouble")

    wait_until(failing, timeout=10, what="the push failure reported")
    with b.store() as store:  # a teammate's change: pulls keep working meanwhile
        other = store.create_target("Teammate's", status="Cold").uid
    b.sync_once()
    wait_until(lambda: _status_or_none(a, other) == "Cold", timeout=10, what="a pulled")
    time.sleep(1.0)  # pull rounds after it
    with a.store() as store:
        state = store.sync_state()
    assert (state.online, state.pending, state.hint) == (False, 1, "server trouble")
    assert "HTTP 503" in (state.last_error or "")

    proxy.fail_pushes = []
    wait_until(lambda: a.pending() == 0, timeout=15, what="the push once the server is well")

    def online_again() -> bool:
        with a.store() as store:
            state = store.sync_state()
        return state.online and state.last_error is None

    wait_until(online_again, timeout=5, what="online again, the error gone")
    b.sync_once()
    assert b.status_of(uid) == "Hot"


def test_a_refused_token_pauses_until_login_gives_a_good_one(
    a: Device, server: ServerProcess, token: str
):
    a.profile.save_token("wrong-token")
    with a.store() as store:
        store.create_target("Waiting", status="Hot")
    once = a.run("sync", "--once")
    assert once.returncode == 1 and TOKEN_REFUSED in once.stderr

    # a long pause: only the new token file can end it within the test's time
    daemon = a.start_daemon(PIPETRACK_SYNC_BACKOFF_MAX="300")
    daemon.wait_log(re.escape(TOKEN_REFUSED), count=2)
    with a.store() as store:
        state = store.sync_state()
        assert state.last_error == TOKEN_REFUSED
        assert state.pending == 1

    login = a.run("login", server.url, "--token", token)
    assert login.returncode == 0, login.stderr
    assert login.stderr.rstrip().endswith(
        f"running on this profile (pid {daemon.pid}) uses it now."
    )
    wait_until(lambda: a.pending() == 0, timeout=10, what="push after login")
    assert daemon.proc.poll() is None
    assert daemon.log().count("token refused") == 2  # one per loop: paused, not hammering
    assert "wrong-token" not in daemon.log() and token not in daemon.log()


def test_a_second_daemon_on_the_same_profile_is_refused_and_sigterm_stops_cleanly(a: Device):
    first = a.start_daemon()
    first.wait_log("syncing ")
    settle(a)
    second = a.run("sync")
    assert second.returncode == 2
    assert second.stderr.strip() == (
        f"pipetrack: error: a sync daemon is already running for this profile (pid {first.pid})"
    )
    assert first.terminate() == 0
    assert "sync daemon stopped" in first.log()
    with a.store() as store:
        assert store.sync_state().online is False
    # the lock went with the process
    again = a.start_daemon()
    again.wait_log("syncing ")
    settle(a)
    again.kill()
    with a.store() as store:  # it recorded "online" last, but it is dead: not online
        state = store.sync_state()
    assert (state.online, state.daemon_running) == (False, False)
    third = a.start_daemon()  # killed -9: the kernel released the lock
    third.wait_log("syncing ")
    assert third.terminate() == 0


def test_sync_once_beside_a_running_daemon_waits_for_it(
    a: Device, server: ServerProcess, database_url: str
):
    """With the daemon running (under systemd, say), ``sync --once`` is what a script
    runs to be sure the changes are on the server: it waits for the daemon to push
    them (exit 0), or says the server cannot be reached (exit 1)."""
    with a.store() as store:
        device_id = store.device_id
        uids = [store.create_target(f"Waited {i}", status="Cold").uid for i in range(20)]
    daemon = a.start_daemon()
    settle(a)
    with a.store() as store:
        for uid in uids:
            store.set_status(uid, "Hot")

    once = a.run("sync", "--once")

    assert once.returncode == 0, once.stderr
    assert f"a sync daemon runs on this profile (pid {daemon.pid})" in once.stderr
    assert a.pending() == 0 and len(audit_change_ids(database_url, device_id)) == 40
    server.stop()
    try:
        with a.store() as store:
            store.set_status(uids[0], "Closed")
        offline = a.run("sync", "--once")
        assert offline.returncode == 1
        assert "cannot reach" in offline.stderr and "the daemon keeps trying" in offline.stderr
        assert a.pending() == 1
    finally:
        server.start()


def sync_once_waits(device: Device, until: threading.Event) -> str:
    """``sync --once`` beside the device's daemon: still waiting 1.5 s on (the daemon is
    held by the proxy), then ``until`` is set and it ends with 0. Its stderr."""
    once = subprocess.Popen(
        [str(SCRIPT), "--home", str(device.home), "sync", "--once"],
        env=device.environ(),
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)
    still_waiting = once.poll() is None
    until.set()
    _, stderr = once.communicate(timeout=60)
    assert still_waiting, stderr
    assert once.returncode == 0, stderr
    return stderr


def test_sync_once_waits_for_a_new_daemon_not_for_a_killed_ones_error(
    a: Device, proxy: FaultProxy, token: str, database_url: str
):
    """A daemon killed while offline leaves its error recorded. ``sync --once`` beside the
    daemon started after it must wait for that one's report, not fail on the dead one's
    error. (The test process records that error: its pid runs no daemon either.)"""
    a.connect(proxy.url, token)
    with a.store() as store:
        device_id = store.device_id
        store.create_target("Left behind", status="Cold")
        store.record_sync(online=False, error="cannot reach the server (a killed daemon's)")
    proxy.gate.clear()  # the new daemon cannot reach the server yet
    daemon = a.start_daemon()
    daemon.wait_log("syncing ")
    with a.store() as store:
        state = store.sync_state()
    assert (state.online, state.reported, state.daemon_running) == (False, False, True)

    stderr = sync_once_waits(a, until=proxy.gate)

    assert "a killed daemon's" not in stderr
    assert a.pending() == 0 and len(audit_change_ids(database_url, device_id)) == 1
    with a.store() as store:  # the running daemon's own report replaced the dead one's
        state = store.sync_state()
    assert (state.online, state.reported, state.last_error) == (True, True, None)
    assert daemon.proc.poll() is None


def test_sync_once_waits_for_a_daemon_part_way_through_a_catch_up(
    a: Device, b: Device, proxy: FaultProxy, token: str
):
    """``sync --once`` alone pulls everything there is; beside a daemon that is part way
    through a catch-up (a new laptop), it waits until the daemon has it all too."""
    with b.store() as store:
        uids = {store.create_target(f"Team {i}", status="Hot").uid for i in range(6)}
    assert b.run("sync", "--once").returncode == 0
    a.connect(proxy.url, token)
    proxy.pull_limit = 2  # pages of 2 targets: 3 pages and a last empty one
    proxy.pass_pulls = 1  # the first page, then the catch-up stalls
    daemon = a.start_daemon()

    def part_way() -> bool:
        with a.store() as store:
            return store.sync_state().pulling

    wait_until(part_way, timeout=30, what="the first page stored")
    stderr = sync_once_waits(a, until=proxy.pulls_released)

    assert "pulled the team's changes" in stderr
    with a.store() as store:
        assert uids <= {t.uid for t in store.list_targets()}
        assert store.sync_state().pulling is False
    assert daemon.proc.poll() is None


def test_the_daemon_says_how_far_a_long_backlog_got(a: Device, database_url: str):
    """Here every step counts as long (PIPETRACK_SYNC_PROGRESS=0)."""
    with a.store() as store:
        for i in range(5):
            uid = store.create_target(f"Backlog {i}", status="Cold").uid
            for status in ("Hot", "Active", "Closed"):
                store.set_status(uid, status)
    daemon = a.start_daemon(PIPETRACK_SYNC_PROGRESS="0")
    [line] = daemon.wait_log("so far…")
    assert "pushed 20 (applied 20, conflicts 0, rejected 0) so far…" in line


@contextmanager
def daemon_in_process(
    device: Device, url: str, caplog: pytest.LogCaptureFixture, long_poll: float = 1.0
) -> Iterator[list[frozenset]]:
    """A real daemon run in this process with its interfaces faked (the network fault
    injected here); yields the addresses it sees: replace ``[0]`` to move networks."""
    import logging

    from storage import Store
    from syncd import Settings
    from syncd.daemon import Daemon

    addresses = [frozenset({("wlan0", "10.0.0.5")})]
    daemon = Daemon(
        device.home,
        lambda: Store.open(device.profile.db_path),
        Settings(server=url, long_poll=long_poll),
        device.profile.read_token,
        addresses=lambda: addresses[0],
    )
    runner = threading.Thread(target=daemon.run)
    caplog.set_level(logging.INFO, logger="syncd")
    runner.start()
    try:
        yield addresses
    finally:
        daemon.stop()
        runner.join(10)
    assert not runner.is_alive()


ANOTHER_WIFI = frozenset({("wlan0", "192.168.1.20")})


def test_the_running_daemon_watches_the_network(
    a: Device, server: ServerProcess, caplog: pytest.LogCaptureFixture
):
    """The daemon's main loop looks at the interfaces every couple of seconds and ends
    its backoff waits when they change (tests/sync/test_sync_units.py: the waits end)."""
    with daemon_in_process(a, server.url, caplog) as addresses:
        time.sleep(0.7)  # it has looked once
        addresses[0] = ANOTHER_WIFI
        wait_until(lambda: "the network changed" in caplog.text, timeout=5, what="the change seen")
    assert caplog.text.count("the network changed") == 1


def test_a_pull_stuck_on_a_dead_connection_is_sent_again_when_the_network_changes(
    a: Device, b: Device, proxy: FaultProxy, token: str, caplog: pytest.LogCaptureFixture
):
    """A laptop that wakes on another network: the long-poll sent before sits on a
    connection nothing answers (the proxy holds it, like a dead one), and httpx would
    wait out its read timeout (25 + 15 s). The network watch gives it up and asks again,
    so a teammate's change arrives within seconds."""
    a.connect(proxy.url, token)
    proxy.pass_pulls = 1  # the first pull passes; the long-poll after it is held
    with daemon_in_process(a, proxy.url, caplog, long_poll=25.0) as addresses:
        wait_until(lambda: proxy.pulls_held == 1, timeout=10, what="the long-poll held")
        proxy.pass_pulls = None  # what is sent from now on gets through
        with b.store() as store:
            uid = store.create_target("Woke Elsewhere", status="Hot").uid
        b.sync_once()
        time.sleep(0.5)
        assert not knows(a, uid)
        addresses[0] = ANOTHER_WIFI
        start = time.monotonic()
        wait_until(lambda: knows(a, uid), timeout=10, what="b's target on a")
        assert time.monotonic() - start < 5  # the watch looks every 2 s
    assert "pull in flight given up; asking again" in caplog.text


def test_a_push_stuck_on_a_dead_connection_is_sent_again_and_applied_once(
    a: Device, proxy: FaultProxy, token: str, database_url: str, caplog: pytest.LogCaptureFixture
):
    """The push went out and the server applied it, but the answer never comes back (the
    proxy holds it): httpx would wait 60 s. After the network changes the push is sent
    again, answered as a duplicate, and the server holds the change once."""
    a.connect(proxy.url, token)
    proxy.hold_pushes = True
    with a.store() as store:
        device_id = store.device_id
        store.create_target("Sent Twice", status="Hot")
    with daemon_in_process(a, proxy.url, caplog) as addresses:
        assert proxy.push_answered.wait(10)
        proxy.hold_pushes = False
        time.sleep(0.5)
        assert a.pending() == 1
        addresses[0] = ANOTHER_WIFI
        start = time.monotonic()
        wait_until(lambda: a.pending() == 0, timeout=10, what="the push answered")
        assert time.monotonic() - start < 5
    assert len(audit_change_ids(database_url, device_id)) == 1
    assert "push of 1 change in flight given up; asking again" in caplog.text


def knows(device: Device, uid: str) -> bool:
    with device.store() as store:
        try:
            store.get(uid)
        except NotFound:
            return False
        return True


def test_a_daemon_stops_when_a_newer_pipetrack_upgrades_its_profile(a: Device):
    """After an upgrade the daemon still running the old code must not go on writing the
    file: it stops with a one-line reason and exit 1 (systemd starts the new one)."""
    import apsw

    from storage.migrations import LATEST

    daemon = a.start_daemon()
    daemon.wait_log("syncing ")
    settle(a)
    raw = apsw.Connection(str(a.profile.db_path))  # what a newer pipetrack's migration does
    raw.set_busy_timeout(15_000)  # as the store waits: the daemon may be storing a pull
    raw.execute(f"PRAGMA user_version = {LATEST + 1}")
    raw.close()
    assert daemon.proc.wait(15) == 1
    assert "was upgraded by a newer pipetrack" in daemon.log()
    assert "Traceback" not in daemon.log()
