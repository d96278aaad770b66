"""The daemon's parts that need no server: backoff policy, settings, the profile lock."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from protocol import InvalidInput
from syncd import AlreadyRunning, ProfileLock, Settings, Transient, Unauthorized
from syncd.retry import Backoff, Wakeable


class RecordingSleeper(Wakeable):
    """Records the delays instead of sleeping (the fake clock of these tests)."""

    def __init__(self, stop_after: int | None = None, stop: threading.Event | None = None):
        super().__init__()
        self.delays: list[float] = []
        self.stop_after = stop_after
        self.stop = stop

    def sleep(self, seconds: float) -> bool:
        self.delays.append(seconds)
        if self.stop is not None and len(self.delays) == self.stop_after:
            self.stop.set()
        return False


def failing(times: int, error: Exception):
    calls = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"

    return call, calls


def test_backoff_windows_double_up_to_the_cap_and_delays_are_jittered_within():
    sleeper = RecordingSleeper()
    backoff = Backoff(threading.Event(), sleeper, cap=2.0, base=0.5)
    call, calls = failing(6, Transient("connection refused"))
    assert backoff.call("push", call) == "done"
    windows = [backoff.window(n) for n in range(1, 7)]
    assert windows == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0]
    assert len(calls) == 7
    assert len(sleeper.delays) == 6
    assert all(0 <= d <= w for d, w in zip(sleeper.delays, windows, strict=True))
    # full jitter: not every delay is the window itself
    assert sleeper.delays != windows


def test_a_sign_in_page_is_tried_again_every_10_s_at_most_not_every_minute():
    """Signing in to a hotel's Wi-Fi changes nothing the network watch sees; these
    requests never reach the server, so trying often costs it nothing."""
    from syncd.client import NotTheServer

    sleeper = RecordingSleeper()
    backoff = Backoff(threading.Event(), sleeper, cap=60, base=0.5)
    call, _ = failing(12, NotTheServer("HTTP 302 to the portal"))
    assert backoff.call("pull", call) == "done"
    assert len(sleeper.delays) == 12 and max(sleeper.delays) <= 10
    assert backoff.window(12, NotTheServer("x")) == 10 and backoff.window(12) == 60


def test_backoff_logs_each_retry_with_its_delay_and_window(caplog):
    backoff = Backoff(threading.Event(), RecordingSleeper(), cap=60, base=0.5)
    call, _ = failing(3, Transient("cannot reach http://x: ConnectError"))
    with caplog.at_level("WARNING", logger="syncd"):
        backoff.call("pull", call)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "pull failed: cannot reach http://x: ConnectError; retrying in" in lines[0]
    assert [line.split("window ")[1] for line in lines] == ["0.5 s)", "1.0 s)", "2.0 s)"]


def test_backoff_reports_each_failure_before_sleeping():
    seen: list[str] = []
    backoff = Backoff(
        threading.Event(), RecordingSleeper(), cap=1, on_failure=lambda e: seen.append(str(e))
    )
    call, _ = failing(2, Transient("down"))
    backoff.call("push", call)
    assert seen == ["down", "down"]


def test_backoff_gives_up_when_stopping_and_reraises_the_transient_error():
    stop = threading.Event()
    sleeper = RecordingSleeper(stop_after=3, stop=stop)
    backoff = Backoff(stop, sleeper, cap=1)
    call, calls = failing(100, Transient("down"))
    with pytest.raises(Transient, match="down"):
        backoff.call("push", call)
    assert len(calls) == 4  # the attempt after the third sleep sees the stop


def test_backoff_with_attempts_gives_up_after_them():
    backoff = Backoff(threading.Event(), RecordingSleeper(), cap=1, attempts=3)
    call, calls = failing(100, Transient("down"))
    with pytest.raises(Transient):
        backoff.call("push", call)
    assert len(calls) == 3


def test_a_refused_token_is_not_retried():
    sleeper = RecordingSleeper()
    backoff = Backoff(threading.Event(), sleeper, cap=1)
    call, calls = failing(1, Unauthorized("HTTP 401"))
    with pytest.raises(Unauthorized):
        backoff.call("push", call)
    assert len(calls) == 1 and sleeper.delays == []


def test_wakeable_sleep_returns_early_when_woken():
    sleeper = Wakeable()
    threading.Timer(0.05, sleeper.wake).start()
    assert sleeper.sleep(10) is True
    assert sleeper.sleep(0.01) is False  # the wake-up was consumed


# ---- settings -----------------------------------------------------------------------------
def test_settings_defaults_and_environment():
    default = Settings.from_env("http://s", env={})
    assert (default.backoff_max, default.long_poll, default.file_events) == (60.0, 25.0, True)
    tuned = Settings.from_env(
        "http://s",
        env={
            "PIPETRACK_SYNC_BACKOFF_MAX": "2",
            "PIPETRACK_SYNC_WAIT": "5",
            "PIPETRACK_SYNC_WATCH": "poll",
        },
    )
    assert (tuned.backoff_max, tuned.long_poll, tuned.file_events) == (2.0, 5.0, False)


@pytest.mark.parametrize(
    "name,value",
    [
        ("PIPETRACK_SYNC_BACKOFF_MAX", "soon"),
        ("PIPETRACK_SYNC_WAIT", "61"),
        ("PIPETRACK_SYNC_BACKOFF_MAX", "0"),
    ],
)
def test_settings_refuse_bad_values_naming_them(name, value):
    with pytest.raises(InvalidInput, match=name):
        Settings.from_env("http://s", env={name: value})


# ---- the lock -----------------------------------------------------------------------------
HOLD_LOCK = """
import sys, time
from syncd import ProfileLock
lock = ProfileLock(sys.argv[1]); lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_the_lock_refuses_a_second_holder_naming_the_pid(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(
            AlreadyRunning, match=f"already running for this profile \\(pid {holder.pid}\\)"
        ):
            ProfileLock(tmp_path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # killed with -9: the kernel dropped the lock, the file left behind means nothing
    with ProfileLock(tmp_path) as lock:
        assert (tmp_path / "sync.lock").read_text().strip() == str(os.getpid())
        assert lock.path.exists()


def test_an_http_client_skips_the_ca_bundle_and_trusts_no_certificate():
    """A plain-http server needs no TLS: the client does not load the CA bundle at start
    (30-100 ms of ``sync --once``), and its context, should anything ever go to https,
    verifies against no certificate at all (fails closed). An https server gets the
    default verification."""
    from syncd.client import _tls_context

    plain = _tls_context("http://127.0.0.1:8000")
    assert isinstance(plain, ssl.SSLContext)
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
    assert _tls_context("https://pipetrack.example.com") is True


def test_a_change_committed_during_a_push_round_is_pushed_at_once(tmp_path):
    """The push loop waits for the next write: a change another connection committed
    after the round's data_version was read (its file event used up by then) must end
    the wait at once, not at the 5 s safety poll."""
    import time

    from storage import Store
    from syncd.daemon import Daemon
    from syncd.settings import POLL_SAFETY

    daemon = Daemon(tmp_path, lambda: Store.open(tmp_path / "p.db"), Settings(server=""), None)
    daemon.poll = POLL_SAFETY
    with Store.open(tmp_path / "p.db") as daemons, Store.open(tmp_path / "p.db") as tui:
        seen = daemons.data_version()
        tui.create_target("Made while a push was out")
        start = time.monotonic()
        daemon._wait_for_write(daemons, seen)
        assert time.monotonic() - start < POLL_SAFETY / 5


def test_a_file_event_that_comes_before_its_commit_is_visible_is_not_used_up(tmp_path):
    """The file event of a write can come before its commit is visible (the commit waits
    for its fsync). The wait must end when the change can be seen, soon after, not at
    once (the push round would find nothing) nor at the 5 s safety poll."""
    import threading
    import time

    from storage import Store
    from syncd.daemon import Daemon
    from syncd.settings import POLL_SAFETY

    daemon = Daemon(tmp_path, lambda: Store.open(tmp_path / "p.db"), Settings(server=""), None)
    daemon.poll = POLL_SAFETY
    with Store.open(tmp_path / "p.db") as daemons:
        seen = daemons.data_version()

        def commit_later() -> None:
            time.sleep(0.2)
            with Store.open(tmp_path / "p.db") as tui:
                tui.create_target("Its event came first")

        writer = threading.Thread(target=commit_later)
        daemon.local_write.wake()  # the event, 0.2 s before the commit
        writer.start()
        start = time.monotonic()
        daemon._wait_for_write(daemons, seen)
        waited = time.monotonic() - start
        writer.join()
        assert daemons.data_version() != seen  # the change is visible on return
        assert 0.15 < waited < POLL_SAFETY / 5


# ---- the network watch ------------------------------------------------------------------
def test_the_network_watch_calls_back_when_the_addresses_change_and_only_then():
    from syncd.netwatch import NetworkWatch

    now = [0.0]
    addresses = [frozenset({("wlan0", "10.0.0.5")})]
    changes: list[str] = []
    watch = NetworkWatch(
        changes.append, lambda: addresses[0], every=2.0, clock=lambda: now[0], wall=lambda: now[0]
    )
    assert watch.check() is False  # the first look is no change
    now[0] = 2.0
    assert watch.check() is False and changes == []
    addresses[0] = frozenset({("wlan0", "192.168.1.20")})  # joined another Wi-Fi
    now[0] = 3.0
    assert watch.check() is False  # not yet time to look
    now[0] = 4.0
    assert watch.check() is True and changes == ["the network changed"]
    now[0] = 6.0
    assert watch.check() is False and len(changes) == 1


def test_the_network_watch_notices_that_the_machine_slept():
    """The monotonic clock stands still in a sleep, the wall clock does not."""
    from syncd.netwatch import NetworkWatch

    mono, wall = [100.0], [5000.0]
    changes: list[str] = []
    watch = NetworkWatch(
        changes.append, lambda: "same", every=2.0, clock=lambda: mono[0], wall=lambda: wall[0]
    )

    def later(awake: float, asleep: float = 0.0) -> bool:
        mono[0] += awake
        wall[0] += awake + asleep
        return watch.check()

    assert watch.check() is False
    assert later(2.0, asleep=0.5) is False  # an NTP step or a slow look: not a sleep
    assert later(2.0, asleep=3600) is True and changes == ["the machine woke from sleep"]
    assert later(2.0) is False and len(changes) == 1


def test_an_interrupted_request_is_sent_again_and_its_first_answer_dropped():
    from syncd.interrupt import Interruptible

    requests = Interruptible()
    first_sent, first_may_answer = threading.Event(), threading.Event()
    sent: list[int] = []

    def request() -> str:
        sent.append(1)
        if len(sent) == 1:  # the one on the dead connection
            first_sent.set()
            first_may_answer.wait(10)
            return "stale"
        return "fresh"

    answers: list[str] = []
    caller = threading.Thread(target=lambda: answers.append(requests.call("pull", request)))
    caller.start()
    assert first_sent.wait(5)
    requests.interrupt()
    caller.join(5)
    first_may_answer.set()
    assert answers == ["fresh"] and len(sent) == 2
    with pytest.raises(ZeroDivisionError):  # errors reach the caller as they are
        requests.call("pull", lambda: 1 / 0)


def test_the_network_watch_survives_interfaces_it_cannot_read(caplog):
    from syncd.netwatch import NetworkWatch

    def unreadable() -> frozenset:
        raise PermissionError("no /proc here")

    watch = NetworkWatch(lambda what: None, unreadable, every=0)
    assert watch.check() is False and watch.check() is False
    assert caplog.text.count("cannot read the network interfaces") == 1


def test_the_real_interfaces_include_loopback():
    from syncd.netwatch import interface_addresses

    assert any(address == "127.0.0.1" for _, address in interface_addresses())


def test_a_network_change_ends_the_loops_backoff_waits(tmp_path):
    """What the daemon does when the watch calls back: both loops' backoff sleeps end at
    once (a laptop back online syncs now, not after up to a minute of backoff)."""
    import time

    from storage import Store
    from syncd.daemon import Daemon

    daemon = Daemon(tmp_path, lambda: Store.open(tmp_path / "p.db"), Settings(server=""), None)
    waited: dict[str, float] = {}

    def backing_off(name: str, sleeper: Wakeable) -> threading.Thread:
        def sleep() -> None:
            start = time.monotonic()
            sleeper.sleep(30)
            waited[name] = time.monotonic() - start

        thread = threading.Thread(target=sleep)
        thread.start()
        return thread

    threads = [
        backing_off("push", daemon.push_backoff),
        backing_off("pull", daemon.pull_backoff),
    ]
    time.sleep(0.2)
    daemon.network.on_change("the network changed")
    for thread in threads:
        thread.join(5)
    assert set(waited) == {"push", "pull"} and max(waited.values()) < 1.0


def test_the_pull_log_line_counts_in_words():
    from syncd.pull import PullTally

    assert str(PullTally(1, 1)) == "pulled 1 target, 1 history entry"
    assert str(PullTally(0, 2)) == "pulled 0 targets, 2 history entries"


def test_the_push_line_says_converged_and_duplicate_apart_from_applied():
    """They wrote nothing on the server; counted as applied, a log reader took two
    converged changes for two written."""
    from storage.types import PushSummary
    from syncd.push import PushTally

    tally = PushTally()
    tally.add(4, PushSummary(applied=1, converged=2, duplicate=1))
    assert str(tally) == "pushed 4 (applied 1, converged 2, duplicate 1, conflicts 0, rejected 0)"
    plain = PushTally()
    plain.add(3, PushSummary(applied=1, conflict=1, blocked=1))  # held behind the conflict
    assert str(plain) == "pushed 3 (applied 1, conflicts 1, rejected 0, held 1)"


def test_a_loop_answered_while_the_other_fails_lets_that_one_try_now(tmp_path):
    """After an outage a push went through (its loop had had nothing to push, so it had
    not failed), and the daemon said "offline (server trouble)" until the pull loop's
    next try, up to the backoff's cap later: the push's success did not wake it."""
    from storage import Store
    from syncd.report import Failures, Reporter

    with Store.open(tmp_path / "pipetrack.db") as store:
        failures = Failures()
        push, pull = Reporter(store, failures, "push"), Reporter(store, failures, "pull")
        assert push.ok(synced=False) is False  # nothing failing: nothing to wake
        pull.failed("HTTP 503: the database is unavailable", "server trouble")
        assert store.sync_state().last_error == "HTTP 503: the database is unavailable"
        assert push.ok(synced=True) is True  # the pull loop may try again at once
        assert pull.ok(synced=True) is True  # its own failure ended
        assert store.sync_state().last_error is None
        assert push.ok(synced=False) is False


class _Busy(BaseHTTPRequestHandler):
    """A server whose database is down: 503, and when to ask again if it says so."""

    def do_GET(self) -> None:
        body = b'{"message": "the database is unavailable; try again shortly"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        if self.server.owner.retry_after is not None:  # type: ignore[attr-defined]
            self.send_header("Retry-After", self.server.owner.retry_after)  # type: ignore[attr-defined]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(("said", "within"), [("10", 10.0), (None, None), ("soon", None)])
def test_a_503_that_says_when_to_ask_again_is_tried_again_within_it(said, within):
    """The daemon backed off up to its cap (a minute) after the server's database came
    back, though the server answers again within seconds and says so (Retry-After)."""
    from syncd.client import ApiClient, ServerError
    from tests.sync.loopback import LoopbackServer

    with LoopbackServer(_Busy) as busy, ApiClient(busy.url, "t") as client:
        busy.retry_after = said
        with pytest.raises(ServerError) as raised:
            client.pull(None, limit=10)
    assert raised.value.retry_within == within
    backoff = Backoff(threading.Event(), RecordingSleeper(), cap=60, base=0.5)
    assert backoff.window(12, raised.value) == (within or 60)
