"""Changes a user makes while a push of the same target is in flight, against a real
server: booking the push's answer must not move their base past a teammate's change the
user never saw. They go in a later push on the version they were made on, and meet that
change as a conflict; a teammate's edit is never overwritten without one."""

from __future__ import annotations

import threading
from collections.abc import Callable

from storage import Store
from syncd.client import ApiClient
from syncd.push import Pusher
from syncd.retry import Backoff, Wakeable
from tests.sync.synchelp import Device


def push_all(device: Device, url: str, token: str, while_in_flight: Callable[[], object]) -> None:
    """Push ``device``'s outbox; ``while_in_flight`` runs once, between the first push's
    answer and its booking (another process's write: the TUI's, on its own connection)."""
    with device.store() as store:
        book = store.apply_push_results
        ran: list[bool] = []

        def booking(results):
            if not ran:
                ran.append(True)
                while_in_flight()
            return book(results)

        store.apply_push_results = booking
        with ApiClient(url, token) as client:
            backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=3)
            Pusher(store, client, backoff).push_pending()
        assert ran, "no push was answered"


def shared_target(a: Device, b: Device) -> str:
    """A target both devices hold at version 1: its uid."""
    with a.store() as store:
        uid = store.create_target("Acme", description="first", markets=["EU"], status="Cold").uid
    a.sync_once()
    b.sync_once()
    return uid


def server_target(device: Device, uid: str):
    """The server's state of ``uid`` as ``device`` pulls it."""
    device.sync_once()
    with device.store() as store:
        return store.get(uid)


def test_an_edit_made_while_a_status_push_is_in_flight_meets_the_teammates_edit(
    a: Device, b: Device, server, token: str
):
    uid = shared_target(a, b)
    with a.store() as store:
        assert store.set_status(uid, "Hot").changed  # offline: on version 1
    with b.store() as store:  # the teammate edits the description (version 2)
        store.edit_target(uid, description="from bob")
    b.sync_once()

    def edit_meanwhile() -> None:  # before anything of version 2 reached this device
        with Store.open(a.profile.db_path) as tui:
            tui.edit_target(uid, description="from alice")

    push_all(a, server.url, token, edit_meanwhile)
    theirs = server_target(b, uid)
    assert (theirs.status, theirs.description) == ("Hot", "from bob")  # bob's edit kept
    with a.store() as store:
        [conflict] = store.conflicts()
        assert conflict.op == "edit" and conflict.mine_fields == {"description": "from alice"}


def test_a_status_made_while_a_resent_push_is_answered_duplicate_meets_the_teammates(
    a: Device, b: Device, server, token: str
):
    """The first answer was lost: the change is on the server (version 2), the device
    does not know. A teammate moves the target on (version 3). The push sent again is
    answered ``duplicate`` with version 3, a version the user never saw."""
    uid = shared_target(a, b)
    with a.store() as store:
        assert store.set_status(uid, "Hot").changed
        with ApiClient(server.url, token) as client:  # answered, and the answer lost
            assert [r.outcome for r in client.push(store.device_id, store.take_wire_batch(9))] == [
                "applied"
            ]
    b.sync_once()
    with b.store() as store:
        assert store.set_status(uid, "Passed").changed  # bob saw Hot, and passes: version 3
    b.sync_once()

    def set_meanwhile() -> None:
        with Store.open(a.profile.db_path) as tui:
            assert tui.set_status(uid, "Closed").changed

    push_all(a, server.url, token, set_meanwhile)
    assert server_target(b, uid).status == "Passed"  # bob's Passed kept
    with a.store() as store:
        [conflict] = store.conflicts()
        assert (conflict.mine_status, conflict.theirs_status) == ("Closed", "Passed")
