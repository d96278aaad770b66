"""A token the server refuses (disabled, or replaced by ``admin new-token``): every place
that says so tells the user what helps, a new token from the admin, then ``login``."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.support.server import ServerProcess
from tests.sync.synchelp import Device

ADVICE = (
    "token refused (disabled or replaced): ask your admin for a new token,"
    " then run pipetrack login URL --token NEW"
)


def test_a_replaced_token_says_to_ask_the_admin_for_a_new_one(
    devices: Callable[[str], Device], server: ServerProcess
):
    name = f"dana-{uuid.uuid4().hex[:8]}"
    old = server.add_user(name)
    c = devices("c")
    assert c.run("login", server.url, "--token", old).returncode == 0
    assert c.run("add", "Acme Robotics", "--status", "Hot").returncode == 0
    replaced = c.run("admin", "new-token", name, PIPETRACK_DATABASE_URL=str(server.database_url))
    assert replaced.returncode == 0, replaced.stderr

    once = c.run("sync", "--once")
    assert once.returncode == 1
    assert ADVICE in once.stderr
    lines = dict(line.split(":", 1) for line in c.run("status").stdout.splitlines() if ":" in line)
    assert lines["Last error"].strip() == ADVICE
    assert c.pending() == 1  # kept, for the new token

    again = c.run("login", server.url, "--token", old)
    assert again.returncode == 2
    assert "ask your admin for a new token, then run pipetrack login" in again.stderr
