"""Every /v1 route needs an enabled user's bearer token; anything else is 401 and
writes nothing."""

from __future__ import annotations

import importlib.metadata
import threading
import time
import uuid

import psycopg
import pytest

from server.users import disable_user, new_token

from .client import Device, count, create, set_status
from .test_pull import end_cursor

ROUTES = [
    ("POST", "/v1/push"),
    ("GET", "/v1/pull"),
    ("GET", "/v1/targets/{uid}/history"),
    ("GET", "/v1/me"),
]


@pytest.fixture(scope="session")
def disabled_token(shared_server) -> str:
    from server.users import disable_user

    token = shared_server.add_user("carol")
    disable_user(shared_server.database_url, "carol")
    return token


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic YWxpY2U6c2VjcmV0", "Bearer", "disabled"],
)
def test_every_v1_route_refuses_a_bad_token(
    shared_server, device_a, disabled_token, authorization, http
):
    uid = device_a.push_one(create())["target"]["uid"]
    if authorization == "disabled":
        authorization = f"Bearer {disabled_token}"
    headers = {} if authorization is None else {"Authorization": authorization}
    before = count(shared_server.database_url, "SELECT count(*) FROM audit_log")

    for method, path in ROUTES:
        body = {"device_id": "intruder", "changes": [create()]} if method == "POST" else None
        response = http.request(
            method, shared_server.url + path.format(uid=uid), json=body, headers=headers
        )
        assert response.status_code == 401, (path, response.text)
        assert response.json()["message"]
        assert response.headers["www-authenticate"] == "Bearer"

    assert count(shared_server.database_url, "SELECT count(*) FROM audit_log") == before


def test_a_user_disabled_while_working_is_refused_at_once(shared_server):
    name = f"dave{uuid.uuid4().hex[:6]}"
    from server.users import disable_user

    with Device(shared_server, shared_server.add_user(name)) as device:
        assert device.http.get("/v1/pull").status_code == 200
        disable_user(shared_server.database_url, name)
        assert device.http.get("/v1/pull").status_code == 401


def _revoke(how: str, database_url: str, name: str) -> None:
    """What ``pipetrack admin disable-user`` / ``admin new-token`` run."""
    if how == "disable-user":
        disable_user(database_url, name)
    else:
        new_token(database_url, name)


def _wait_until_seen(database_url: str, name: str) -> None:
    """Until the user's first request has passed the token check (it sets last_seen_at)."""
    deadline = time.monotonic() + 10
    while not count(
        database_url,
        "SELECT count(*) FROM users WHERE name = %s AND last_seen_at IS NOT NULL",
        name,
    ):
        assert time.monotonic() < deadline, "the request never reached the server"
        time.sleep(0.02)


@pytest.mark.parametrize("how", ["disable-user", "new-token"])
def test_a_waiting_pull_of_a_revoked_token_gets_401_and_no_data(shared_server, device_b, how):
    """A long-poll parked before its token was revoked must not deliver what commits
    after: it answers 401, not the teammate's change that woke it."""
    url, name = shared_server.database_url, f"erin{uuid.uuid4().hex[:6]}"
    uid = device_b.push_one(create())["target"]["uid"]
    got: dict = {}
    cursor = end_cursor(device_b)  # the laptop's first request is the waiting pull
    with Device(shared_server, shared_server.add_user(name)) as laptop:
        params = {"cursor": cursor, "wait": 20}
        waiting = threading.Thread(
            target=lambda: got.update(r=laptop.http.get("/v1/pull", params=params))
        )
        waiting.start()
        _wait_until_seen(url, name)
        time.sleep(0.3)  # past its first (empty) read: parked
        _revoke(how, url, name)
        device_b.push_one(set_status(uid, "Hot", base=1))
        waiting.join(30)

    response = got["r"]
    assert response.status_code == 401, response.text
    assert set(response.json()) == {"message", "field"} and response.json()["message"]
    assert response.headers["www-authenticate"] == "Bearer"


def _wait_for_lock_waiter(database_url: str) -> None:
    deadline = time.monotonic() + 10
    while not count(
        database_url,
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'",
    ):
        assert time.monotonic() < deadline, "the push never waited for the row lock"
        time.sleep(0.02)


@pytest.mark.parametrize("how", ["disable-user", "new-token"])
def test_a_push_in_flight_when_its_token_is_revoked_gets_401_and_writes_nothing(
    shared_server, device_b, how
):
    """A push that passed the token check, then waited (here for a target's row lock)
    while the token was revoked, decides nothing and answers no target's state."""
    url, name = shared_server.database_url, f"fred{uuid.uuid4().hex[:6]}"
    uid = device_b.push_one(create())["target"]["uid"]
    got: dict = {}
    with Device(shared_server, shared_server.add_user(name)) as laptop:
        change = set_status(uid, "Cold", base=1)
        body = {"device_id": laptop.device_id, "changes": [change]}
        with psycopg.connect(url) as conn:  # a teammate's push holding the target
            conn.execute("SELECT 1 FROM targets WHERE uid = %s FOR UPDATE", (uid,))
            pushing = threading.Thread(
                target=lambda: got.update(r=laptop.http.post("/v1/push", json=body))
            )
            pushing.start()
            _wait_for_lock_waiter(url)
            _revoke(how, url, name)
        pushing.join(30)

    assert got["r"].status_code == 401, got["r"].text
    assert got["r"].json()["message"] and "target" not in got["r"].text
    assert device_b.history(uid)["target"]["status"] is None
    assert not count(
        url, "SELECT count(*) FROM audit_log WHERE change_id = %s", change["change_id"]
    )


def test_health_and_openapi_need_no_token(shared_server, http):
    assert http.get(shared_server.url + "/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "version": importlib.metadata.version("pipetrack"),
    }
    spec = http.get(shared_server.url + "/openapi.json").json()
    assert {"/v1/push", "/v1/pull", "/v1/targets/{uid}/history"} <= spec["paths"].keys()
    push = spec["paths"]["/v1/push"]["post"]  # the cursor header and its 409, on push alone
    assert "409" in push["responses"] and "409" not in spec["paths"]["/v1/pull"]["get"]["responses"]
    assert [p["name"] for p in push["parameters"] if p["in"] == "header"] == ["Pipetrack-Cursor"]
    assert http.get(shared_server.url + "/docs").status_code == 200


def test_a_malformed_body_without_a_token_is_still_401(shared_server, http):
    response = http.post(
        shared_server.url + "/v1/push",
        content=b'{"device_id": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 401 and response.json()["message"]
