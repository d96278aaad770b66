"""Many devices pushing at once, through one or two server processes on one database:
versions and audit rows match the applied results exactly, with no 5xx."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack

import psycopg
import pytest

from tests.support.server import ServerProcess

from .client import Device, create, set_status

CLIENTS = 8
CHANGES_PER_CLIENT = 200
TARGETS = 20
STATUSES = ["Passed", "Cold", "Active", "Hot", "Closed", None]


class Client(threading.Thread):
    """A device making ``changes`` random status changes with its own view of versions.

    Like the daemon, it pushes what is pending in batches (here 1-5 changes, on distinct
    targets, so one push locks several targets); a conflicting change is made again on
    the server's fresh version ("keep mine") in a later push.
    """

    def __init__(self, number: int, device: Device, uids: list[str], changes: int) -> None:
        super().__init__(name=f"client-{number}")
        self.device = device
        self.uids = uids
        self.rng = random.Random(number)
        self.known = dict.fromkeys(uids, 1)
        self.applied: dict[str, set[str]] = defaultdict(set)
        self.errors: list[str] = []
        self.to_make = changes
        self.retry: dict[str, str | None] = {}  # uid -> status to set again
        self.pushes = 0

    def run(self) -> None:
        try:
            while (self.to_make or self.retry) and not self.errors and self.pushes < 5000:
                self.push(self.next_batch())
        except Exception as err:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(err))

    def next_batch(self) -> dict[str, str | None]:
        size = self.rng.randint(1, 5)
        batch = dict(list(self.retry.items())[:size])
        for uid in batch:
            del self.retry[uid]
        while len(batch) < size and self.to_make:
            uid = self.rng.choice([u for u in self.uids if u not in batch])
            batch[uid] = self.rng.choice(STATUSES)
            self.to_make -= 1
        return batch

    def push(self, batch: dict[str, str | None]) -> None:
        changes = [set_status(uid, status, base=self.known[uid]) for uid, status in batch.items()]
        self.pushes += 1
        response = self.device.http.post(
            "/v1/push", json={"device_id": self.device.device_id, "changes": changes}
        )
        if response.status_code != 200:
            self.errors.append(f"{response.status_code}: {response.text}")
            return
        for change, result in zip(changes, response.json()["results"], strict=True):
            uid = change["target"]
            self.known[uid] = result["target"]["version"]
            if result["outcome"] == "applied":
                self.applied[uid].add(change["change_id"])
            elif result["outcome"] == "conflict":
                self.retry[uid] = change["status"]
            elif result["outcome"] != "converged":
                self.errors.append(f"unexpected {result}")


def run_workload(servers: list[ServerProcess], changes: int = CHANGES_PER_CLIENT) -> None:
    tokens = [servers[0].add_user(f"user{i}") for i in range(CLIENTS)]
    with ExitStack() as stack:
        devices = [
            stack.enter_context(Device(servers[i % len(servers)], token, f"device-{i}"))
            for i, token in enumerate(tokens)
        ]
        creates = [create(name=f"Shared {i}", status="Cold") for i in range(TARGETS)]
        devices[0].push(*creates)
        uids = [c["target"] for c in creates]
        clients = [Client(i, device, uids, changes) for i, device in enumerate(devices)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(240)

    assert [e for c in clients for e in c.errors] == []
    assert all(not c.to_make and not c.retry for c in clients)
    applied: dict[str, set[str]] = defaultdict(set)
    for client in clients:
        for uid, ids in client.applied.items():
            applied[uid].update(ids)
    assert sum(len(ids) for ids in applied.values()) > CLIENTS * changes // 2
    _check_database(servers[0].database_url, applied, uids)


def _check_database(database_url: str, applied: dict[str, set[str]], uids: list[str]) -> None:
    with psycopg.connect(database_url) as conn:
        for uid in uids:
            version, status = conn.execute(
                "SELECT version, pipeline_status FROM targets WHERE uid = %s", (uid,)
            ).fetchone()
            rows = conn.execute(
                "SELECT a.change_id::text, a.op, a.version, a.old_status, a.new_status"
                " FROM audit_log a JOIN targets t ON t.id = a.target_id"
                " WHERE t.uid = %s ORDER BY a.version",
                (uid,),
            ).fetchall()
            assert version == 1 + len(applied[uid]), uid
            assert [r[2] for r in rows] == list(range(1, version + 1))
            assert {r[0] for r in rows if r[1] == "set_status"} == applied[uid]
            for before, after in zip(rows, rows[1:], strict=False):
                assert after[3] == before[4]  # each change starts where the last ended
            assert rows[-1][4] == status


# Two processes share the load of fewer changes (same guarantees checked), to keep
# the suite's time in bounds on two cores.
@pytest.mark.parametrize(("processes", "changes"), [(1, CHANGES_PER_CLIENT), (2, 60)])
def test_many_devices_at_once_keep_versions_and_audit_exact(
    database_url, tmp_path, processes, changes
):
    servers = [ServerProcess(database_url, log_dir=tmp_path) for _ in range(processes)]
    with ExitStack() as stack:
        for srv in servers:  # started together: migrations race under the advisory lock
            srv.launch()
            stack.callback(srv.stop)
        for srv in servers:
            srv.wait_healthy()
        run_workload(servers, changes)
        logs = "".join(srv.log_text() for srv in servers)
    assert "Traceback" not in logs


def test_db_connections_caps_the_pool_of_a_server_process(database_url: str):
    """Six pushes held inside the server (a lock on audit_log) take at most the two
    connections ``serve --db-connections 2`` allows; the others wait for one, and all
    are answered once the lock goes."""
    import httpx

    with ServerProcess(database_url, options=["--db-connections", "2"]) as srv:
        token = srv.add_user("pat")
        answers: list[int] = []

        def push() -> None:
            body = {"device_id": "d", "changes": [create(name=f"Held {uuid.uuid4().hex}")]}
            with httpx.Client(timeout=30) as http:
                answers.append(
                    http.post(f"{srv.url}/v1/push", json=body, headers=srv.auth(token)).status_code
                )

        def in_use() -> int:
            return watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'pipetrack-server' AND state <> 'idle'"
            ).fetchone()[0]

        with (
            psycopg.connect(database_url) as locker,
            psycopg.connect(database_url, autocommit=True) as watcher,
        ):
            locker.execute("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
            pushers = [threading.Thread(target=push) for _ in range(6)]
            for thread in pushers:
                thread.start()
            seen = []
            for _ in range(15):  # 1.5 s: every push has reached the server
                time.sleep(0.1)
                seen.append(in_use())
            locker.rollback()  # the lock goes
            for thread in pushers:
                thread.join(30)
    assert max(seen) == 2, seen
    assert answers == [200] * 6
