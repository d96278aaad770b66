"""The log line of a 401 names whose device it is when the token is a known user's: a
disabled user's token (``answered 401 to carol (disabled)``), or one revoked while its
request waited (disabled, or replaced by ``admin new-token``); never the token. An
unknown token stays without a name. Before, only an already waiting long-poll was named,
and a disabled user's laptop pushing every minute read ``answered 401 (from ...)``."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from server.users import disable_user, new_token
from tests.support.fixtures import server_on_new_database
from tests.support.server import ServerProcess

from .client import Device, create
from .test_pull import end_cursor


@pytest.fixture(scope="module")
def quiet_server(pg_cluster, tmp_path_factory) -> Iterator[ServerProcess]:
    log_dir = tmp_path_factory.mktemp("qa-refused-user")
    with server_on_new_database(pg_cluster, log_dir=log_dir, options=["--no-access-log"]) as srv:
        yield srv


def _mark(server: ServerProcess) -> int:
    return len(server.log_text().splitlines())


def _new_lines(server: ServerProcess, since: int, wanted: str, count: int = 1) -> list[str]:
    found: list[str] = []
    for _ in range(50):
        found = [line for line in server.log_text().splitlines()[since:] if wanted in line]
        if len(found) >= count:
            break
        time.sleep(0.1)
    return found


def _push_body() -> dict:
    return {"device_id": "laptop", "changes": [create()]}


def test_a_disabled_users_push_is_logged_with_their_name(quiet_server):
    name = f"carol{uuid.uuid4().hex[:6]}"
    token = quiet_server.add_user(name)
    with Device(quiet_server, token) as carol:
        assert carol.http.get("/v1/me").status_code == 200
        disable_user(quiet_server.database_url, name)
        since = _mark(quiet_server)
        refused = carol.http.post("/v1/push", json=_push_body())
        pulled = carol.http.get("/v1/pull")
    assert (refused.status_code, pulled.status_code) == (401, 401)
    assert refused.json()["message"] == "invalid or disabled token"  # the device learns no more
    lines = _new_lines(quiet_server, since, " answered 401", count=2)
    assert len(lines) == 2, lines
    push, pull = lines
    assert (
        f" WARNING POST /v1/push answered 401 to {name} (disabled) (from 127.0.0.1):"
        " invalid or disabled token"
    ) in push, push
    assert f" WARNING GET /v1/pull answered 401 to {name} (disabled) (from " in pull, pull
    assert token not in quiet_server.log_text()


def test_a_replaced_token_still_used_is_logged_with_its_users_name(quiet_server):
    """After ``admin new-token`` (a token leaked, a laptop lost), a request with the old
    token was logged as an unknown one's: the admin could not see it was still used."""
    name = f"dave{uuid.uuid4().hex[:6]}"
    old = quiet_server.add_user(name)
    new_token(quiet_server.database_url, name)
    new_token(quiet_server.database_url, name)  # the one before the last, too
    with Device(quiet_server, old) as lost:
        since = _mark(quiet_server)
        refused = lost.http.post("/v1/push", json=_push_body())
    assert refused.status_code == 401
    assert refused.json()["message"] == "invalid or disabled token"  # the device learns no more
    [line] = _new_lines(quiet_server, since, " answered 401")
    assert f" WARNING POST /v1/push answered 401 to {name} (token replaced) (from " in line
    assert old not in quiet_server.log_text()


def test_an_unknown_token_is_logged_without_a_name(quiet_server, http):
    since = _mark(quiet_server)
    unknown = "pt_" + uuid.uuid4().hex
    response = http.post(
        f"{quiet_server.url}/v1/push", json=_push_body(), headers=quiet_server.auth(unknown)
    )
    assert response.status_code == 401
    [line] = _new_lines(quiet_server, since, " answered 401")
    assert " WARNING POST /v1/push answered 401 (from 127.0.0.1): invalid or disabled token" in (
        line
    )
    assert unknown not in quiet_server.log_text()


@pytest.mark.parametrize(
    ("how", "why"), [("disable-user", "disabled"), ("new-token", "token replaced")]
)
def test_a_waiting_pull_revoked_says_why_in_its_line(quiet_server, how, why):
    url, name = quiet_server.database_url, f"erin{uuid.uuid4().hex[:6]}"
    token = quiet_server.add_user(name)
    got: dict = {}
    with Device(quiet_server, token) as laptop:
        params = {"cursor": end_cursor(laptop), "wait": 20}
        since = _mark(quiet_server)
        waiting = threading.Thread(
            target=lambda: got.update(r=laptop.http.get("/v1/pull", params=params))
        )
        waiting.start()
        time.sleep(0.5)  # parked
        if how == "disable-user":
            disable_user(url, name)
        else:
            new_token(url, name)
        with Device(quiet_server, quiet_server.add_user(f"w{uuid.uuid4().hex[:6]}")) as other:
            other.push_one(create())  # wakes the long-poll
        waiting.join(30)
    assert got["r"].status_code == 401
    [line] = _new_lines(quiet_server, since, " answered 401")
    assert f" WARNING GET /v1/pull answered 401 to {name} ({why}) (from 127.0.0.1): " in line
    assert token not in quiet_server.log_text()
