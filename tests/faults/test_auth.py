"""Nobody let in, nobody impersonated, no token leaked.

- every route the API publishes (read from /openapi.json, so a new route is covered
  the day it appears) x every kind of bad credential: 401, and no table changes;
- a client cannot say who made a change: ``changed_by`` (or any other extra field) is
  refused, and the audit names the authenticated user;
- tokens appear in no server log, no daemon log, no ``pipetrack`` output;
- every file of a profile is readable by its owner only.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from typer.testing import CliRunner

from pipetrack.cli import app
from server.users import disable_user
from tests.server.client import create, set_status
from tests.support.server import ServerProcess
from tests.sync.synchelp import Device

from .central import audit_rows, row_counts, server_errors
from .conftest import Figures
from .harness import start_daemon


def v1_routes(server: ServerProcess) -> list[tuple[str, str]]:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/")
        for method in item
    )


def bad_credentials(server: ServerProcess, token: str) -> dict[str, dict[str, str]]:
    """Header sets that must all be refused; ``token`` is a valid token of an enabled user."""
    disabled = server.add_user("carol")
    disable_user(server.database_url, "carol")
    basic = base64.b64encode(f"alice:{token}".encode()).decode()
    return {
        "no token": {},
        "wrong token": {"Authorization": "Bearer wrong-token"},
        "bearer, no token": {"Authorization": "Bearer"},
        "valid token + 1 char": {"Authorization": f"Bearer {token}x"},
        "valid token, cut": {"Authorization": f"Bearer {token[:-1]}"},
        "token hash as token": {"Authorization": "Bearer " + "0" * 64},
        "sql in token": {"Authorization": "Bearer ' OR '1'='1' --"},
        "basic auth": {"Authorization": f"Basic {basic}"},
        "other scheme": {"Authorization": f"Token {token}"},
        "token in a cookie": {"Cookie": f"token={token}"},
        "token in X-Api-Key": {"X-Api-Key": token},
        "disabled user": {"Authorization": f"Bearer {disabled}"},
    }


def request_for(method: str, path: str, uid: str) -> dict:
    """A request that would write (or read) something if it were let in."""
    kwargs: dict = {"method": method, "url": path.replace("{uid}", uid)}
    if method == "POST":
        kwargs["json"] = {"device_id": "intruder", "changes": [create(name="Intruder")]}
    return kwargs


def test_every_route_refuses_every_bad_credential_and_writes_nothing(
    server: ServerProcess, token: str, figures: Figures
):
    with httpx.Client(base_url=server.url, headers=server.auth(token)) as alice:
        answer = alice.post(
            "/v1/push", json={"device_id": "a", "changes": [create(name="Existing")]}
        )
        uid = answer.json()["results"][0]["target"]["uid"]
    routes = v1_routes(server)
    assert ("POST", "/v1/push") in routes and ("GET", "/v1/pull") in routes
    credentials = bad_credentials(server, token)
    before = row_counts(server.database_url)
    let_in = []
    with httpx.Client(base_url=server.url) as client:
        for name, headers in credentials.items():
            for method, path in routes:
                response = client.request(headers=headers, **request_for(method, path, uid))
                figures.add("requests")
                if response.status_code != 401 or response.headers.get("www-authenticate") != (
                    "Bearer"
                ):
                    let_in.append((name, method, path, response.status_code))
    figures["rounds"] = len(credentials)
    figures["routes"] = len(routes)
    figures["let_in"] = len(let_in)
    figures["server_errors"] = server_errors(server.log_text())[0]
    assert not let_in
    assert row_counts(server.database_url) == before
    assert token not in server.log_text()
    assert figures["server_errors"] == 0


def test_a_client_cannot_say_who_made_a_change(
    server: ServerProcess, token: str, make_user: Callable[[str], str]
):
    bob = make_user("bob")
    with httpx.Client(base_url=server.url, headers=server.auth(token)) as alice:
        made = create(name="Acme", status="Cold")
        assert alice.post("/v1/push", json={"device_id": "a", "changes": [made]}).status_code == 200
        before = row_counts(server.database_url)
        claims = [
            {
                "device_id": "a",
                "changes": [{**set_status(made["target"], "Hot", 1), "changed_by": "bob"}],
            },
            {
                "device_id": "a",
                "changed_by": "bob",
                "changes": [set_status(made["target"], "Hot", 1)],
            },
            {"device_id": "a", "user": "bob", "changes": [set_status(made["target"], "Hot", 1)]},
            {
                "device_id": "a",
                "changes": [
                    {**set_status(made["target"], "Hot", 1), "fields": None, "updated_by": "bob"}
                ],
            },
        ]
        for body in claims:
            response = alice.post("/v1/push", json=body)
            assert response.status_code == 422, response.text
            assert response.json()["message"]
        assert row_counts(server.database_url) == before
        change = set_status(made["target"], "Hot", 1)
        [result] = alice.post("/v1/push", json={"device_id": "a", "changes": [change]}).json()[
            "results"
        ]
    assert result["outcome"] == "applied"
    assert result["target"]["status_changed_by"] == "alice"
    assert {r.changed_by for r in audit_rows(server.database_url)} == {"alice"}
    # the same body with bob's token is recorded as bob's
    with httpx.Client(base_url=server.url, headers=server.auth(bob)) as client:
        change = set_status(made["target"], "Closed", 2)
        client.post("/v1/push", json={"device_id": "b", "changes": [change]})
    rows = {r.change_id: r.changed_by for r in audit_rows(server.database_url)}
    assert rows[change["change_id"]] == "bob"


def run_cli(home: Path, *args: str) -> str:
    """The real command in this process; its stdout and stderr together."""
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.stdout + result.stderr


def file_modes(home: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in home.iterdir()}


def test_tokens_never_leak_and_profile_files_are_private(
    server: ServerProcess, token: str, devices: Callable[[str], Device], figures: Figures
):
    previous = os.umask(0o022)  # the usual umask: files would be world-readable by default
    try:
        a = devices("a")
        seen = [run_cli(a.home, "login", server.url, "--token", token)]
        seen.append(run_cli(a.home, "add", "Acme", "--status", "Cold", "--json"))
        uid = json.loads(seen[-1])["uid"]
        run_cli(a.home, "set", uid, "Hot", "--note", "token? no")
        wrong = f"wrong-{uuid.uuid4()}"
        seen.append(run_cli(a.home, "login", server.url, "--token", wrong))
        verbose = a.run("sync", "--once", "--verbose")  # a real process, logging at DEBUG
        assert verbose.returncode == 0, verbose.stderr
        seen.append(verbose.stdout + verbose.stderr)
        daemon = start_daemon(a, PIPETRACK_SYNC_WAIT="1")
        run_cli(a.home, "set", uid, "Closed")
        daemon.wait_log(r"pushed 1", timeout=30)
        modes = file_modes(a.home)  # with the daemon's -wal and -shm files
        assert daemon.terminate() == 0
        seen.append(daemon.log())
        for args in (
            ("status",),
            ("status", "--json"),
            ("list", "--json"),
            ("history", uid, "--json"),
            ("conflicts", "--json"),
            ("rejected", "--json"),
            ("export",),
        ):
            seen.append(run_cli(a.home, *args))
        status = json.loads(run_cli(a.home, "status", "--json"))
        assert status["pending"] == 0 and status["server"] == server.url
        modes |= file_modes(a.home)
    finally:
        os.umask(previous)
    figures["outputs_checked"] = len(seen)
    figures["files_checked"] = len(modes)
    figures["server_errors"] = server_errors(server.log_text())[0]
    assert figures["server_errors"] == 0
    leaks = [text for text in seen if token in text or wrong in text]
    assert not leaks, leaks[0][:500]
    assert token not in server.log_text() and wrong not in server.log_text()
    assert token not in (a.home / "config.toml").read_text()
    assert {"pipetrack.db", "token", "config.toml", "sync.lock"} <= modes.keys(), modes
    assert stat.S_IMODE(a.home.stat().st_mode) & 0o077 == 0, oct(a.home.stat().st_mode)
    public = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert not public, public
