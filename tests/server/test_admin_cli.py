"""``pipetrack admin ...`` and ``pipetrack serve`` as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

import psycopg
from typer.testing import CliRunner

from pipetrack.cli import app
from protocol.wire import CURSOR_HEADER
from server.db import redact
from tests.support.server import ServerProcess

from .client import create, set_status

#: Every admin command, with the arguments it needs (tests of what they all refuse).
ADMIN_COMMANDS = (
    ("admin", "add-user", "carol"),
    ("admin", "list-users"),
    ("admin", "disable-user", "carol"),
    ("admin", "new-token", "carol"),
    ("admin", "stats"),
    ("admin", "reset-cursors"),
    ("admin", "changes"),
)


def pipetrack(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "pipetrack", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def cli(*args: str):
    """The same command in-process (faster), stdout and stderr apart."""
    return CliRunner().invoke(app, list(args))


def listed_state(url: str, name: str) -> str:
    """The user's state in ``admin list-users``: its table, and its JSON, agreeing."""
    listed = cli("admin", "list-users", "--database-url", url)
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["NAME", "CREATED", "LAST", "SEEN", "STATE"]
    [line] = [row for row in listed.stdout.splitlines() if row.startswith(name + " ")]
    as_json = cli("admin", "list-users", "--json", "--database-url", url)
    [user] = [u for u in json.loads(as_json.stdout) if u["name"] == name]
    assert user["created_at"].endswith("Z") and line.split()[-1] == (
        "disabled" if user["disabled"] else "enabled"
    )
    return line.split()[-1]


def test_add_user_prints_only_the_token_and_stores_only_its_hash(shared_server, http):
    url, name = shared_server.database_url, f"frank{uuid.uuid4().hex[:6]}"

    added = pipetrack("admin", "add-user", name, env={"PIPETRACK_DATABASE_URL": url})

    assert added.returncode == 0, added.stderr
    token = added.stdout.strip()
    assert added.stdout == token + "\n" and len(token) >= 43  # 32 random bytes
    assert name in added.stderr and token not in added.stderr
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT token_hash FROM users WHERE name = %s", (name,)).fetchone()
    assert stored[0] == hashlib.sha256(token.encode()).hexdigest()
    headers = {"Authorization": f"Bearer {token}"}
    push = {"device_id": "d", "changes": [create()]}
    assert http.post(f"{shared_server.url}/v1/push", json=push, headers=headers).status_code == 200

    assert listed_state(url, name) == "enabled"

    disabled = cli("admin", "disable-user", name, "--database-url", url)
    assert disabled.exit_code == 0, disabled.stderr
    assert http.get(f"{shared_server.url}/v1/pull", headers=headers).status_code == 401
    assert listed_state(url, name) == "disabled"


def test_list_users_says_when_each_token_was_last_used(shared_server, http):
    """An admin asked "is Bob's laptop syncing?": his last request, to the minute (written
    at most once a minute, not on every long-poll)."""
    url, name = shared_server.database_url, f"bob{uuid.uuid4().hex[:6]}"
    token = cli("admin", "add-user", name, "--database-url", url).stdout.strip()

    def last_seen() -> tuple[str | None, str]:
        as_json = cli("admin", "list-users", "--json", "--database-url", url)
        [user] = [u for u in json.loads(as_json.stdout) if u["name"] == name]
        table = cli("admin", "list-users", "--database-url", url).stdout
        [line] = [row for row in table.splitlines() if row.startswith(name + " ")]
        return user["last_seen_at"], " ".join(line.split()[3:-1])

    assert last_seen() == (None, "never")
    pull = f"{shared_server.url}/v1/pull"
    headers = {"Authorization": f"Bearer {token}"}
    assert http.get(pull, headers=headers).status_code == 200
    first, shown = last_seen()
    assert first is not None and first.endswith("Z") and shown[:4] == first[:4]
    assert http.get(pull, headers=headers).status_code == 200
    assert last_seen()[0] == first  # within the minute: not written again
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE users SET last_seen_at = last_seen_at - interval '2 minutes' WHERE name = %s",
            (name,),
        )
    earlier = last_seen()[0]
    assert http.get(pull, headers=headers).status_code == 200
    assert earlier < last_seen()[0]  # ISO times in UTC compare as text
    refused = {"Authorization": "Bearer not-a-token"}
    assert http.get(pull, headers=refused).status_code == 401


def test_bad_admin_input_exits_2_with_one_line(database_url):
    assert cli("admin", "add-user", "bob", "--database-url", database_url).exit_code == 0

    for args in (
        ("admin", "add-user", "bob"),  # exists
        ("admin", "add-user", "two words"),
        ("admin", "disable-user", "nobody"),
        ("admin", "new-token", "nobody"),
        ("serve", "--port", "0"),
        ("serve", "--workers", "0"),
    ):
        result = cli(*args, "--database-url", database_url)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_serve_with_an_embedded_database_shared_with_admin(tmp_path, http):
    data_dir = tmp_path / "server-data"
    with ServerProcess(None, data_dir=data_dir) as srv:
        added = pipetrack("admin", "add-user", "erin", "--data-dir", str(data_dir))
        assert added.returncode == 0, added.stderr
        headers = {"Authorization": f"Bearer {added.stdout.strip()}"}
        assert http.get(f"{srv.url}/v1/pull", headers=headers).status_code == 200
        log = srv.log_text()
        assert f"http://127.0.0.1:{srv.port}" in log
        assert "embedded database postgresql://postgres@/postgres?host=" in log
    assert_timed_lines(log)
    assert '"GET /v1/pull HTTP/1.1" 200' in log  # uvicorn's access line, timed too
    # the server stopped its PostgreSQL on exit (the admin command left it running)
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def assert_timed_lines(log: str) -> None:
    """Every line of a server's log says when (uvicorn's own format does not)."""
    lines = log.splitlines()
    assert any("Uvicorn running on" in line for line in lines), log
    for line in lines:
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING) ", line), line


def test_serve_without_access_log_logs_no_line_per_request(database_url, http):
    with ServerProcess(database_url, options=["--no-access-log"]) as srv:
        for _ in range(3):
            assert http.get(f"{srv.url}/healthz").status_code == 200
        assert http.get(f"{srv.url}/v1/pull").status_code == 401
        log = srv.log_text()
    assert_timed_lines(log)
    assert "/healthz" not in log  # answered: no access line
    # refused: our one line (test_logged_refusals.py), not uvicorn's access line
    assert [line for line in log.splitlines() if "/v1/pull" in line] == [
        line for line in log.splitlines() if "WARNING GET /v1/pull answered 401" in line
    ]
    assert log.count("/v1/pull") == 1


def test_serve_that_cannot_start_says_why_in_one_line_and_exits_1(tmp_path):
    """A port someone has, or a database that cannot be reached: one line (no traceback,
    no password), exit 1, and no embedded PostgreSQL started for nothing."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = tmp_path / "server-data"
        busy = pipetrack("serve", "--port", str(port), "--data-dir", str(data_dir))
    unreachable = "postgresql://app:s3cret@127.0.0.1:1/pipe"
    down = pipetrack("serve", "--database-url", unreachable, "--port", str(port))
    for run, says in ((busy, f"cannot listen on 127.0.0.1:{port}"), (down, "127.0.0.1:1")):
        assert run.returncode == 1, run.stderr
        assert run.stderr.startswith("pipetrack: error: ") and says in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "s3cret" not in run.stderr
    assert not data_dir.exists()


def test_database_urls_are_logged_without_passwords():
    assert redact("postgresql://app:s3cret@db.example:5433/pipe") == (
        "postgresql://app@db.example:5433/pipe"
    )
    assert "s3cret" not in redact("host=db user=app password=s3cret dbname=pipe")
    assert redact("postgresql://app@db/pipe?sslmode=require") == (
        "postgresql://app@db/pipe?sslmode=require"
    )


def test_new_token_replaces_the_old_one_and_enables_the_user(shared_server, http):
    """A lost laptop or a leaked token: the user keeps their name (and history), the old
    token stops working at once, and a disabled user comes back with the new one."""
    url, name = shared_server.database_url, f"gail{uuid.uuid4().hex[:6]}"
    old = cli("admin", "add-user", name, "--database-url", url).stdout.strip()
    assert cli("admin", "disable-user", name, "--database-url", url).exit_code == 0

    renewed = pipetrack("admin", "new-token", name, env={"PIPETRACK_DATABASE_URL": url})

    assert renewed.returncode == 0, renewed.stderr
    new = renewed.stdout.strip()
    assert renewed.stdout == new + "\n" and len(new) >= 43 and new != old
    assert "enabled again" in renewed.stderr and new not in renewed.stderr
    pull = f"{shared_server.url}/v1/pull"
    assert http.get(pull, headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert http.get(pull, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert listed_state(url, name) == "enabled"

    again = cli("admin", "new-token", name, "--database-url", url)
    assert again.exit_code == 0 and "enabled again" not in again.stderr
    assert http.get(pull, headers={"Authorization": f"Bearer {new}"}).status_code == 401


def test_stats_say_what_the_server_holds_and_who_uses_it(server, http):
    """A fresh database: two users (one disabled), three targets from two devices."""
    url = server.database_url
    ann = server.auth(server.add_user("ann"))
    server.add_user("ben")
    assert cli("admin", "disable-user", "ben", "--database-url", url).exit_code == 0
    hot, plain = create(name="Hot One", status="Hot"), create(name="No Status Yet")
    for device, changes in (("laptop", [hot, plain]), ("desktop", [create(name="Cold One")])):
        pushed = http.post(
            f"{server.url}/v1/push", json={"device_id": device, "changes": changes}, headers=ann
        )
        assert {r["outcome"] for r in pushed.json()["results"]} == {"applied"}
    moved = {"device_id": "laptop", "changes": [set_status(hot["target"], "Cold", base=1)]}
    assert http.post(f"{server.url}/v1/push", json=moved, headers=ann).status_code == 200

    done = cli("admin", "stats", "--json", "--database-url", url)
    assert done.exit_code == 0, done.stderr
    stats = json.loads(done.stdout)
    assert stats["targets"] == 3
    assert stats["by_status"] == {
        "Passed": 0, "Cold": 1, "Active": 0, "Hot": 0, "Closed": 0, "none": 2,
    }  # fmt: skip
    assert (stats["changes"], stats["changes_recent"], stats["devices_recent"]) == (4, 4, 2)
    assert (stats["users"], stats["users_enabled"], stats["users_seen_today"]) == (2, 1, 1)
    assert stats["migration"].startswith("0004_") and stats["database_bytes"] > 1_000_000
    text = cli("admin", "stats", "--database-url", url).stdout.splitlines()
    assert text[0] == "Targets:   3  (Cold 1 · none 2)"
    assert text[1] == "Changes:   4  (4 in the last 7 days, from 2 devices)"
    assert text[2] == "Users:     2  (1 enabled, 1 seen in the last 24 hours)"
    assert text[3].startswith("Database:  PostgreSQL ")


def test_reset_cursors_starts_every_device_over_after_a_restore(pg_cluster):
    """A parked long-poll is answered 400 at once, every earlier cursor is refused, and a
    pull from the start gets everything and a cursor that works."""
    from tests.support.fixtures import server_on_new_database

    from .client import Device

    with server_on_new_database(pg_cluster) as srv, Device(srv, srv.add_user("ada")) as ada:
        uid = ada.push_one(create())["target"]["uid"]
        old = ada.pull()["cursor"]
        parked: dict = {}

        def long_poll() -> None:
            parked["answer"] = ada.http.get("/v1/pull", params={"cursor": old, "wait": 20})
            parked["at"] = time.monotonic()

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(0.5)
        reset = pipetrack("admin", "reset-cursors", "--database-url", srv.database_url)
        reset_at = time.monotonic()
        poller.join(25)

        assert reset.returncode == 0, reset.stderr
        assert "pulls everything again from the start" in reset.stderr
        assert parked["answer"].status_code == 400
        assert parked["at"] - reset_at < 1.0  # woken by the reset, not by a later check
        refused = ada.http.get("/v1/pull", params={"cursor": old})
        assert refused.status_code == 400
        assert "pull again from the start" in refused.json()["message"]
        # a push sent with a cursor from before: refused before anything is decided
        stale = set_status(uid, "Closed", base=1)
        body = {"device_id": ada.device_id, "changes": [stale]}
        refused = ada.http.post("/v1/push", json=body, headers={CURSOR_HEADER: old})
        assert refused.status_code == 409, refused.text
        assert "restored since this device last pulled" in refused.json()["message"]
        assert [e["new_status"] for e in ada.history(uid)["history"]] == [None]  # none written
        again = ada.pull()
        assert [t["uid"] for t in again["targets"]] == [uid]
        fresh = {CURSOR_HEADER: again["cursor"]}  # a cursor of this database: decided
        body = {"device_id": ada.device_id, "changes": [set_status(uid, "Hot", base=1)]}
        taken = ada.http.post("/v1/push", json=body, headers=fresh)
        assert taken.status_code == 200 and taken.json()["results"][0]["outcome"] == "applied"
        assert [t["status"] for t in ada.pull(again["cursor"])["targets"]] == ["Hot"]
        junk = ada.http.post("/v1/push", json=body, headers={CURSOR_HEADER: "not-a-cursor"})
        assert junk.status_code == 400  # no cursor at all: malformed, not a restore
