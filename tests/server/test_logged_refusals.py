"""What an admin finds in the log of ``serve --no-access-log``: why a push's changes
were rejected, and a line for each refused request (4xx), which left none before."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.fixtures import server_on_new_database
from tests.support.server import ServerProcess

from .client import Device, create, set_status


@pytest.fixture(scope="module")
def quiet_server(pg_cluster, tmp_path_factory) -> Iterator[ServerProcess]:
    log_dir = tmp_path_factory.mktemp("quiet-server")
    with server_on_new_database(pg_cluster, log_dir=log_dir, options=["--no-access-log"]) as srv:
        yield srv


def _new_lines(server: ServerProcess, since: int, wanted: str, count: int = 1) -> list[str]:
    """The log's lines after the first ``since`` that hold ``wanted``, once there are
    ``count`` (logging from the server process may trail the answer by a moment)."""
    found: list[str] = []
    for _ in range(50):
        lines = server.log_text().splitlines()[since:]
        found = [line for line in lines if wanted in line]
        if len(found) >= count:
            break
        time.sleep(0.1)
    return found


def _mark(server: ServerProcess) -> int:
    return len(server.log_text().splitlines())


def test_a_push_line_gives_the_reasons_of_its_rejected_changes(quiet_server):
    token = quiet_server.add_user(f"zed{uuid.uuid4().hex[:6]}")
    with Device(quiet_server, token, "dev1") as zed:
        uid = zed.push_one(create())["target"]["uid"]
        since = _mark(quiet_server)
        results = zed.push(
            set_status(uid, "Warm", base=1),  # no such status
            set_status(uuid.uuid4(), "Hot", base=1),  # no such target
            *[set_status(uuid.uuid4(), "Hot", base=1) for _ in range(3)],
        )
        assert [r["outcome"] for r in results] == ["rejected"] * 5
    [line] = _new_lines(quiet_server, since, "push by zed")
    assert " INFO " in line and ": 5 changes, 5 rejected; rejected: set_status on " in line
    assert f"set_status on {uid}: {results[0]['error']}" in line, line
    assert results[1]["error"] in line and line.endswith("; and 2 more"), line


def test_refused_requests_are_logged_one_line_each_without_the_token(quiet_server, http):
    token = quiet_server.add_user(f"amy{uuid.uuid4().hex[:6]}")
    name = None
    with Device(quiet_server, token) as amy:
        name = amy.http.get("/v1/me").json()["user"]
        since = _mark(quiet_server)
        bad_token = "pt_" + "x" * 40
        asked = {
            "401": http.get(f"{quiet_server.url}/v1/pull", headers=quiet_server.auth(bad_token)),
            "400": amy.http.get("/v1/pull", params={"cursor": "garbage"}),
            "422": amy.http.get("/v1/pull", params={"limit": 0}),
            "404": amy.http.get(f"/v1/targets/{uuid.uuid4()}/history"),
        }
    assert {status: int(r.status_code) for status, r in asked.items()} == {
        "401": 401,
        "400": 400,
        "422": 422,
        "404": 404,
    }
    lines = _new_lines(quiet_server, since, " answered ", count=4)
    assert len(lines) == 4, lines
    unauthorized, bad_cursor, invalid, unknown = lines
    assert " WARNING GET /v1/pull answered 401 (from 127.0.0.1): invalid or disabled token" in (
        unauthorized
    )
    assert f" INFO GET /v1/pull answered 400 to {name} (from 127.0.0.1): " in bad_cursor
    assert asked["400"].json()["message"] in bad_cursor
    assert f" INFO GET /v1/pull answered 422 to {name} " in invalid and "limit" in invalid
    assert f"answered 404 to {name} (from 127.0.0.1): no target " in unknown
    log = quiet_server.log_text()
    assert bad_token not in log and token not in log
    assert "garbage" not in log  # nor the query string


def test_an_answered_request_leaves_no_line(quiet_server):
    since = _mark(quiet_server)
    assert httpx.get(f"{quiet_server.url}/healthz").status_code == 200
    time.sleep(0.3)
    assert quiet_server.log_text().splitlines()[since:] == []
