"""PostgreSQL restarted under a running server: 503 while it is down, then the same
process recovers by itself."""

from __future__ import annotations

import threading
import time

import pytest

from .client import Device, create, set_status


def _wait_for_health(server, status: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.health() == status:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"/healthz never answered {status} within {timeout}s")


def test_the_server_recovers_after_postgres_restarts(pg_cluster, server, make_user):
    if not pg_cluster.restartable:
        pytest.skip("needs the embedded PostgreSQL (PIPETRACK_TEST_DATABASE_URL is set)")
    with Device(server, make_user("alice")) as device:
        uid = device.push_one(create())["target"]["uid"]
        pid = server._proc.pid

        with pg_cluster.stopped():
            _wait_for_health(server, 503, timeout=10)
            response = device.http.post(
                "/v1/push",
                json={"device_id": device.device_id, "changes": [set_status(uid, "Hot", 1)]},
            )
            assert response.status_code == 503
            assert response.json()["message"]
        _wait_for_health(server, 200, timeout=30)

        assert device.push_one(set_status(uid, "Hot", base=1))["outcome"] == "applied"
        assert server.running and server._proc.pid == pid

        # the LISTEN connection came back too: a waiting pull wakes on a push
        cursor = device.pull()["cursor"]
        woken: dict = {}
        waiter = threading.Thread(target=lambda: woken.update(device.pull(cursor, wait=20)))
        time.sleep(2.1)  # longer than the listener's longest reconnect delay
        waiter.start()
        time.sleep(0.3)
        device.push_one(set_status(uid, "Cold", base=2))
        pushed = time.monotonic()
        waiter.join(20)
        assert time.monotonic() - pushed < 1.5
        assert [t["status"] for t in woken["targets"]] == ["Cold"]


def test_pooled_connections_broken_by_a_restart_are_replaced_unseen(pg_cluster, server, make_user):
    """The pool checks a connection at checkout (server/db.py: a round trip only when
    its socket has something to read): the first requests after a restart are served."""
    if not pg_cluster.restartable:
        pytest.skip("needs the embedded PostgreSQL (PIPETRACK_TEST_DATABASE_URL is set)")
    with Device(server, make_user("bob")) as device:
        uid = device.push_one(create())["target"]["uid"]
        with pg_cluster.stopped():
            pass  # down and up again: every pooled connection is now broken
        assert device.push_one(set_status(uid, "Hot", base=1))["outcome"] == "applied"
        assert [t["status"] for t in device.pull()["targets"] if t["uid"] == uid] == ["Hot"]
