"""A device records its own changes under the name the server knows its user by
(``GET /v1/me``), not the laptop's login: one name for one person in the history and
in ``activity --by``, before a change is synced and after."""

from __future__ import annotations

import getpass
import json
import uuid
from collections.abc import Callable

import pytest

from tests.support.server import ServerProcess
from tests.sync.faultproxy import FaultProxy
from tests.sync.synchelp import Device, wait_until


@pytest.fixture
def c(devices: Callable[[str], Device]) -> Device:
    return devices("c")


@pytest.fixture
def erin(server: ServerProcess) -> tuple[str, str]:
    """A user whose name is not this machine's login: (name, token)."""
    name = f"erin-{uuid.uuid4().hex[:8]}"
    assert name != getpass.getuser()
    return name, server.add_user(name)


def run_json(device: Device, *args: str):
    result = device.run(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_server_says_whose_token_it_is(server: ServerProcess, erin) -> None:
    import httpx

    name, token = erin
    answer = httpx.get(f"{server.url}/v1/me", headers=server.auth(token))
    assert answer.status_code == 200
    assert answer.json() == {"user": name}


def test_login_says_who_and_changes_made_before_any_sync_carry_that_name(
    c: Device, server: ServerProcess, erin
) -> None:
    name, token = erin
    acme = f"Acme of {name}"  # the server is shared with other tests
    result = c.run("login", server.url, "--token", token)
    assert result.returncode == 0, result.stderr
    assert f"logged in to {server.url} as {name};" in result.stderr
    assert c.run("add", acme, "--status", "Hot").returncode == 0
    [entry] = run_json(c, "history", acme)
    assert (entry["changed_by"], entry["sync"]) == (name, "pending")
    [mine] = run_json(c, "activity", "--by", name)
    assert mine["name"] == acme
    c.sync_once()
    [entry] = run_json(c, "history", acme)
    assert (entry["changed_by"], entry["sync"]) == (name, "synced")


def test_a_profile_logged_in_before_learns_the_name_at_its_next_sync(
    c: Device, server: ServerProcess, erin
) -> None:
    name, token = erin
    acme = f"Acme of {name}"  # the server is shared with other tests
    c.connect(server.url, token)  # saved as an older pipetrack's login did
    with c.store() as store:
        uid = store.create_target(acme, status="Hot").uid
        assert store.user_name is None
    c.sync_once()
    with c.store() as store:
        assert store.user_name == name
        store.set_status(uid, "Closed")
        assert [h.changed_by for h in store.history(uid)] == [name, name]


def test_a_daemon_learns_it_too(c: Device, server: ServerProcess, erin) -> None:
    name, token = erin
    c.connect(server.url, token)
    c.start_daemon()

    def learnt() -> str | None:
        with c.store() as store:
            return store.user_name

    assert wait_until(learnt, timeout=30, what="the daemon asked who we are") == name


def test_a_server_without_the_route_still_logs_in_and_syncs(
    c: Device, proxy: FaultProxy, erin
) -> None:
    name, token = erin
    acme = f"Acme of {name}"  # the server is shared with other tests
    proxy.unknown_paths.add("/v1/me")
    result = c.run("login", proxy.url, "--token", token)
    assert result.returncode == 0, result.stderr
    assert f"logged in to {proxy.url};" in result.stderr
    assert c.run("add", acme, "--status", "Hot").returncode == 0
    c.sync_once()
    [entry] = run_json(c, "history", acme)
    assert (entry["changed_by"], entry["sync"]) == (name, "synced")  # the server's record
    with c.store() as store:
        assert store.user_name is None
