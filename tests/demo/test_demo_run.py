"""``pipetrack demo --no-tui`` for real: PostgreSQL, the API, the seed, the daemon.

One run serves the whole test (a start costs seconds): the seeded profile as the
commands show it, the printed second-device instructions working live, Ctrl-C stopping
every process the demo started, and a second run reusing what the first seeded.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipetrack.demo_seed import TARGETS
from tests.demo.demohelp import DemoProcess, gone, run_cli
from tests.sync.synchelp import wait_until


@pytest.fixture
def demo(tmp_path: Path):
    run = DemoProcess(tmp_path / "demo", "--no-tui")
    try:
        yield run
    finally:
        run.kill()
        print(run.output)  # shown when the test fails


def test_demo_seeds_plays_two_devices_stops_everything_and_is_reused(demo, tmp_path):
    ready = demo.wait_ready()
    url = ready.split()[4].rstrip(",")
    assert url.startswith("http://127.0.0.1:")
    processes = demo.processes()
    assert len(processes) >= 3  # server, daemon, postmaster

    # ---- the seeded profile, as its commands show it -------------------------------------
    targets = demo.json("list")
    # + sam's lead and the import of it the server refused, shown apart
    assert len(targets) == TARGETS + 2
    assert Counter(t["sync"] for t in targets) == {
        "synced": TARGETS,
        "conflict": 1,
        "rejected": 1,
    }
    stale = [t for t in targets if t["stagnation"] == "stale"]
    assert 10 <= len(stale) <= 100
    assert len({m for t in targets for m in t["markets"]}) == 8
    oldest = min(datetime.fromisoformat(t["status_since"]) for t in targets)
    assert oldest < datetime.now(UTC) - timedelta(days=200)  # the history is backdated

    status = demo.json("status")
    assert status["online"] is True and status["last_sync_at"] is not None
    assert (status["pending"], status["conflicts"], status["rejected"]) == (0, 1, 1)
    assert status["server"] == url

    [conflict] = demo.json("conflicts")
    assert (conflict["mine"]["status"], conflict["theirs"]["status"]) == ("Closed", "Passed")
    assert conflict["theirs"]["changed_by"] == "sam"
    history = demo.json("history", conflict["target"])
    assert {h["changed_by"] for h in history} & {"alex", "priya"}
    [rejected] = demo.json("rejected")
    assert "the server has another target under this id" in rejected["reason"]
    assert (
        f"waiting      a conflict on {conflict['name']!r} (you: Closed, sam: Passed)" in demo.output
    )
    assert f"a rejected change to {rejected['name']!r}: {rejected['reason']}" in demo.output

    # ---- the second device, with the printed commands ------------------------------------
    login = shlex.split(next(line for line in demo.lines if " login http" in line))
    assert Path(login[0]).name == "pipetrack" and login[1] == "--home"
    assert run_cli(*login[1:]).exit_code == 0
    sam = Path(login[2])
    assert demo.cli("sync", "--once", home=sam).exit_code == 0
    target = next(t for t in targets if t["sync"] == "synced" and t["status"] != "Hot")
    assert demo.cli("set", target["uid"], "Hot", home=sam).exit_code == 0
    assert demo.cli("sync", "--once", home=sam).exit_code == 0

    def seen_by_demo() -> bool:
        return demo.json("list", "--search", target["name"])[0]["status"] == "Hot"

    wait_until(seen_by_demo, 20, 0.2, "sam's change in the demo profile")
    # the README's example: sam's lead, which this profile imported spelled differently
    lead = "Saltmarsh Aquaculture"
    assert demo.cli("set", lead, "Hot", home=sam).exit_code == 0
    assert demo.cli("sync", "--once", home=sam).exit_code == 0
    wait_until(
        lambda: [t["status"] for t in demo.json("list", "--search", lead)] == ["Hot"],
        20,
        0.2,
        "sam's change to his lead in the demo profile",
    )

    # ---- the admin's side, with the printed command -----------------------------------
    stats = shlex.split(next(line for line in demo.lines if " admin stats " in line))
    assert Path(stats[-1]) == demo.data / "postgres"
    admin = subprocess.run([*stats, "--json"], capture_output=True, text=True, timeout=60)
    assert admin.returncode == 0, admin.stderr
    assert json.loads(admin.stdout)["targets"] == TARGETS + 1  # the seed and sam's lead

    # ---- Ctrl-C stops everything it started ---------------------------------------------
    assert demo.interrupt() == 0
    assert "stopped." in demo.output
    left = [p for p in processes if not gone(p)]
    assert not left, f"still running after the demo stopped: {left}"
    assert not (demo.data / "postgres" / "pgdata" / "postmaster.pid").exists()

    # ---- a second run reuses it ---------------------------------------------------------
    again = DemoProcess(demo.data, "--seed-only")
    try:
        assert again.wait_exit(120) == 0, again.output
    finally:
        again.kill()
    assert "reusing" in again.output and "seeding" not in again.output
    assert "sync daemon" not in again.output  # --seed-only starts none, nor says it stops one
    assert len(again.json("list")) == TARGETS + 2
