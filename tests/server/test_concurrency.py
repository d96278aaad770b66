"""Many devices pushing at once, through one or two server processes on one database:
versions and audit rows match the applied results exactly, with no 5xx."""

from __future__ import annotations

import random
import threading
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
    """A device with its own view of versions; retries a conflict on the fresh base."""

    def __init__(self, number: int, device: Device, uids: list[str], changes: int) -> None:
        super().__init__(name=f"client-{number}")
        self.device = device
        self.uids = uids
        self.rng = random.Random(number)
        self.known = dict.fromkeys(uids, 1)
        self.applied: dict[str, list[str]] = defaultdict(list)
        self.errors: list[str] = []
        self.changes = changes

    def run(self) -> None:
        try:
            for _ in range(self.changes):
                self.change(self.rng.choice(self.uids), self.rng.choice(STATUSES))
        except Exception as err:  # noqa: BLE001 - reported by the test
            self.errors.append(repr(err))

    def change(self, uid: str, status: str | None) -> None:
        for _attempt in range(50):
            change = set_status(uid, status, base=self.known[uid])
            response = self.device.http.post(
                "/v1/push", json={"device_id": self.device.device_id, "changes": [change]}
            )
            if response.status_code != 200:
                self.errors.append(f"{response.status_code}: {response.text}")
                return
            [result] = response.json()["results"]
            self.known[uid] = result["target"]["version"]
            if result["outcome"] == "applied":
                self.applied[uid].append(change["change_id"])
            if result["outcome"] != "conflict":
                assert result["outcome"] in ("applied", "converged"), result
                return
        self.errors.append(f"{uid}: still conflicting after 50 attempts")


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
