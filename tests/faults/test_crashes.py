"""Crashes and outages with real processes and a real PostgreSQL: the sync daemon and the
API killed with SIGKILL at random moments, PostgreSQL stopped under active sync.

After each test everything syncs to quiescence, then: the server's audit of each device
is exactly what its user did (nothing lost, nothing twice), local histories carry the
same change ids as the server, and every device's state equals the server's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from tests.support.pg import PgCluster
from tests.support.server import ServerProcess
from tests.sync.synchelp import wait_until

from .conftest import Figures, Sizes
from .harness import Team, answered_but_pending, check_fleet, seeded, settle, start_daemon
from .ledger import sync_in_process

#: What the API logs once per start.
STARTED = "pipetrack server on http"


@contextmanager
def audit_writes_stalled(database_url: str) -> Iterator[Callable[[], int]]:
    """Hold a lock that makes every push wait inside its transaction (pulls go on):
    yields a count of the server's statements waiting on it."""
    with psycopg.connect(database_url) as conn:
        conn.execute("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
        with psycopg.connect(database_url, autocommit=True) as watch:
            yield lambda: watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            ).fetchone()[0]
        conn.rollback()


@pytest.mark.slow
def test_daemon_killed_at_random_moments_of_push_and_pull(
    team: Team, server: ServerProcess, sizes: Sizes, figures: Figures
):
    rng = seeded(figures)
    team.connect(server.url)
    a = team.a
    with team.users(rng) as users:
        user_a, user_b = users
        for n in range(sizes.daemon_kill_rounds):
            figures.add("rounds")
            if rng.random() < 0.3:  # queued while the daemon was down: killed in its first push
                for _ in range(rng.randint(1, 30)):
                    user_a.act()
            daemon = start_daemon(a)
            if n % 3 == 2:  # killed while its push is inside the server (waiting on a lock)
                with audit_writes_stalled(server.database_url) as waiting:
                    for _ in range(rng.randint(1, 20)):
                        user_a.act()
                    wait_until(waiting, 30, what="the daemon's push inside the server")
                    daemon.kill()
                figures.add("killed_with_push_in_server")
            else:
                if n % 3 == 0:  # kill during a push
                    for _ in range(rng.randint(1, 40)):
                        user_a.act()
                else:  # kill while the daemon pulls and applies the team's changes
                    for _ in range(rng.randint(1, 40)):
                        user_b.act()
                    sync_in_process(user_b.store, server.url, team.tokens[1])
                time.sleep(rng.uniform(0, 0.3))
                daemon.kill()
            figures.add("lost_responses", answered_but_pending(a, server.database_url))
        figures["changes"] = sum(u.ledger.total for u in users)
    settle(team.fleet(users), server)
    check_fleet(team.fleet(users), server, figures)


@pytest.mark.slow
def test_api_killed_mid_request(team: Team, server: ServerProcess, sizes: Sizes, figures: Figures):
    """Every other round the push is caught inside its transaction (waiting on a lock)
    when the API dies; the other rounds die at a random moment of the traffic."""
    rng = seeded(figures)
    team.connect(server.url)
    daemons = [start_daemon(device) for device in team.devices]
    with team.users(rng) as users:
        for n in range(sizes.api_kill_rounds):
            figures.add("rounds")
            if n % 2:
                with audit_writes_stalled(server.database_url) as waiting:
                    for _ in range(rng.randint(1, 20)):
                        rng.choice(users).act()
                    wait_until(waiting, 30, what="a push waiting inside its transaction")
                    server.kill()
                figures.add("killed_in_transaction")
            else:
                for _ in range(rng.randint(5, 40)):
                    rng.choice(users).act()
                time.sleep(rng.uniform(0, 0.25))
                server.kill()
            figures.add("lost_responses", answered_but_pending(team.a, server.database_url))
            server.start()
        figures["changes"] = sum(u.ledger.total for u in users)
    settle(team.fleet(users), server, daemons)
    check_fleet(team.fleet(users), server, figures)


@pytest.mark.slow
def test_postgres_down_during_active_sync_recovers_without_restarts(
    team: Team, server: ServerProcess, pg_cluster: PgCluster, sizes: Sizes, figures: Figures
):
    if not pg_cluster.restartable:
        pytest.skip("needs the embedded PostgreSQL (PIPETRACK_TEST_DATABASE_URL is set)")
    rng = seeded(figures)
    team.connect(server.url)
    daemons = [start_daemon(device) for device in team.devices]
    with team.users(rng) as users:

        def work(seconds: float) -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                rng.choice(users).act()
                time.sleep(rng.uniform(0, 0.05))

        work(2.0)
        with pg_cluster.stopped():
            figures["outage_s"] = sizes.pg_outage_s
            work(sizes.pg_outage_s)
            assert server.health() == 503
        figures["changes"] = sum(u.ledger.total for u in users)
    figures["rounds"] = 1
    settle(team.fleet(users), server, daemons)
    assert server.running and server.log_text().count(STARTED) == 1, "the API was restarted"
    check_fleet(team.fleet(users), server, figures)


#: Long enough for the pool's doubling delays (1, 2, 4, 8, 16 s...) to leave a gap.
OUTAGE_S = 20.0


@pytest.mark.slow
def test_the_api_serves_again_within_seconds_of_postgres_coming_back(
    server: ServerProcess, pg_cluster: PgCluster, figures: Figures
):
    """The pool tried to reconnect after 1, 2, 4 ... 128 s: after an outage of minutes
    the API answered 503 for up to 1.5 min after PostgreSQL was back, and every device
    said "server trouble" meanwhile. A 503 says when to ask again (Retry-After)."""
    if not pg_cluster.restartable:
        pytest.skip("needs the embedded PostgreSQL (PIPETRACK_TEST_DATABASE_URL is set)")
    assert server.health() == 200
    token = server.add_user("ann")
    with pg_cluster.stopped(), httpx.Client(timeout=10) as http:
        end = time.monotonic() + OUTAGE_S
        while time.monotonic() < end:  # asked meanwhile, as the devices do
            assert server.health() == 503
            time.sleep(0.5)
        # and when to ask again: sooner than a device's backoff cap (a minute)
        pulled = http.get(f"{server.url}/v1/pull", headers=server.auth(token))
        assert (pulled.status_code, pulled.headers.get("retry-after")) == (503, "10")
    back = time.monotonic()
    wait_until(lambda: server.health() == 200, 60, what="the API answering again")
    figures["outage_s"] = OUTAGE_S
    figures["serving_again_after_s"] = round(time.monotonic() - back, 1)
    assert figures["serving_again_after_s"] < 5, figures
    # the outage told, not one line per failed connect (one a second or so)
    log = server.log_text()
    figures["connect_warnings"] = log.count("error connecting")
    assert figures["connect_warnings"] <= OUTAGE_S / 30 + 2, log
    assert log.count("listener connection lost") == 1, log
