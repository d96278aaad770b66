"""The push benchmark's parts, each measured against the same limit: what bounds the
whole ``sync --once`` (no goal of their own).

- *in a warm process*: the same queued changes pushed by the daemon's own
  :class:`~syncd.push.Pusher` (answers checked and booked in the store, two pushes in
  flight) from a process that has already imported everything and reached the server:
  ``sync --once`` without its process start.
- *the API alone*: the same push bodies (the bytes the daemon sends) posted from two
  warm HTTP clients, answers not read: the server and PostgreSQL alone.

Each runs on a fresh database and device prepared as the measured one
(:func:`bench.push.queued_device`), and checks that the server holds every audit row.
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING

import httpx

from storage import Store
from syncd.client import ApiClient, push_body
from syncd.push import BATCH_MAX, SNAPSHOT, Pusher, plan_pushes
from syncd.retry import Backoff, Wakeable

from .harness import timed
from .watch import AuditCount, max_audit_id

if TYPE_CHECKING:
    from .push import QueuedDevice

#: As the daemon sends them.
IN_FLIGHT = 2


def in_warm_process(device: QueuedDevice, total: int) -> float:
    """Seconds for :class:`Pusher` to push and book every change ``device`` queued."""
    since = max_audit_id(device.database_url)
    with Store.open(device.db) as store, ApiClient(device.server_url, device.token) as client:
        client.me()  # connected, and every import done, before the clock starts
        with timed() as took:
            Pusher(store, client, Backoff(threading.Event(), Wakeable())).push_pending()
    _check_committed(device.database_url, since, total)
    return took.seconds


def api_alone(device: QueuedDevice, total: int) -> float:
    """Seconds for two warm clients to post the bodies of the changes ``device`` queued
    (cut into pushes as the daemon cuts them) until the server answered them all."""
    with Store.open(device.db) as store:
        pushes = plan_pushes(store.take_wire_batch(SNAPSHOT), BATCH_MAX)
        bodies = [push_body(store.device_id, changes) for changes in pushes]
    todo: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    for body in bodies:
        todo.put(body)
    headers = {"Authorization": f"Bearer {device.token}", "Content-Type": "application/json"}
    clients = [
        httpx.Client(base_url=device.server_url, headers=headers, timeout=120)
        for _ in range(IN_FLIGHT)
    ]
    errors: list[BaseException] = []

    def post_all(client: httpx.Client) -> None:
        try:
            while not todo.empty():
                client.post("/v1/push", content=todo.get()).raise_for_status()
        except BaseException as err:  # noqa: BLE001 - raised below, in the caller's thread
            errors.append(err)

    since = max_audit_id(device.database_url)
    try:
        for client in clients:
            client.get("/healthz").raise_for_status()
        threads = [threading.Thread(target=post_all, args=(c,)) for c in clients]
        with timed() as took:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        for client in clients:
            client.close()
    if errors:
        raise errors[0]
    _check_committed(device.database_url, since, total)
    return took.seconds


def _check_committed(database_url: str, since: int, total: int) -> None:
    counted = AuditCount(database_url, since)
    try:
        written = counted()
    finally:
        counted.close()
    if written != total:
        raise RuntimeError(f"{written} audit rows written for {total} changes")
