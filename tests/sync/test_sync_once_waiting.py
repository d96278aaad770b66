"""``sync --once`` ends saying what waits for the user: "pushed 0" alone read as all
sent before the laptop was shut, while a conflict held a change back."""

from __future__ import annotations

import json
import shlex

from tests.sync.synchelp import Device


def made(device: Device, *args: str) -> str:
    run = device.run(*args)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_sync_once_says_a_conflict_waits_with_where_to_see_it(a: Device, b: Device) -> None:
    uid = made(a, "add", "Kappa Waits", "--status", "Cold")
    a.sync_once()
    b.sync_once()
    made(b, "set", uid, "Closed")
    b.sync_once()
    made(a, "set", uid, "Hot")
    said = a.sync_once().stderr
    home = shlex.quote(str(a.home))
    assert f"1 conflict waits for you, not sent: see pipetrack --home {home} conflicts" in said
    assert "rejected change" not in said
    again = a.sync_once().stderr  # and again on the next, until it is settled
    assert "1 conflict waits for you" in again
    [conflict] = json.loads(made(a, "conflicts", "--json"))
    made(a, "resolve", conflict["change_id"], "--mine")
    assert "waits for you" not in a.sync_once().stderr
