"""Every /v1 route needs an enabled user's bearer token; anything else is 401 and
writes nothing."""

from __future__ import annotations

import importlib.metadata
import uuid

import pytest

from .client import Device, count, create

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
