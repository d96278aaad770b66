"""A device whose token the server refuses (its user disabled, the token replaced by
``admin new-token``): the sync bar's short hint says what helps, a new token from the
admin. It said ``offline (log in again)``, and logging in again with the same token
fails. The real daemon against a real server; the bar as the TUI writes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.users import disable_user
from storage.types import SyncState
from syncd.report import TOKEN_REFUSED
from tests.support.server import ServerProcess
from tests.sync.synchelp import Device, wait_until
from tui.display import describe_sync

HINT = "token refused: ask your admin for a new one"


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[Device]:
    device = Device("laptop", tmp_path / "laptop")
    device.profile.ensure()
    yield device
    for daemon in device.daemons:
        daemon.cleanup()


def _state(device: Device) -> SyncState:
    with device.store() as store:
        return store.sync_state()


def test_a_disabled_users_daemon_says_in_the_bar_to_ask_for_a_new_token(
    laptop: Device, server: ServerProcess
):
    name = f"carol{uuid.uuid4().hex[:6]}"
    laptop.connect(server.url, server.add_user(name))
    with laptop.store() as store:
        store.create_target("Acme Robotics", status="Hot")
    disable_user(str(server.database_url), name)

    daemon = laptop.start_daemon()
    state = wait_until(
        lambda: (s := _state(laptop)).hint and s.connection == "offline" and s,
        what="the daemon's report of the refused token",
    )
    assert state.last_error == TOKEN_REFUSED  # the whole advice: status, the tooltip
    assert state.current_hint == HINT
    assert describe_sync(state, last_sync=False) == f"offline ({HINT}) · 1 pending"
    assert daemon.proc.poll() is None  # it waits for a new token


def test_sync_once_records_the_hint_too(laptop: Device, server: ServerProcess):
    laptop.connect(server.url, "pt_" + uuid.uuid4().hex)  # a token no user holds
    done = laptop.run("sync", "--once")
    assert done.returncode == 1 and TOKEN_REFUSED in done.stderr
    assert _state(laptop).hint == HINT
