"""The TUI, the CLI and the daemon writing one profile at the same time.

The TUI's part is played by a separate process driving :class:`storage.Store` as a very
busy user would; the ``pipetrack`` command adds targets now and then; this process is a
second writer; the daemon pushes all of it and pulls device B's changes into the same
file. No user may see "database is locked", and nothing may be lost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

from .conftest import Figures, Sizes
from .harness import Team, check_fleet, seeded, settle, start_daemon
from .ledger import STATUSES, Ledger

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_tui_cli_and_daemon_write_one_profile_at_once(
    team: Team, server: ServerProcess, sizes: Sizes, figures: Figures, tmp_path: Path
):
    rng = seeded(figures)
    team.connect(server.url)
    a = team.a
    daemons = [start_daemon(device) for device in team.devices]
    out = tmp_path / "tui.json"
    seconds = sizes.shared_writers_s
    tui = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.writer_proc", str(a.home), str(seconds)]
        + [str(rng.randrange(2**32)), "TUI", str(out)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    cli_errors: list[str] = []
    cli = Ledger()
    slowest = 0.0
    try:
        with team.users(rng) as users:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                for _ in range(rng.randint(1, 10)):
                    started = time.monotonic()
                    rng.choice(users).act()
                    slowest = max(slowest, time.monotonic() - started)
                if rng.random() < 0.3:  # the command, a user at another terminal
                    status = rng.choice(STATUSES) or "none"
                    run = a.run("add", f"CLI {rng.randrange(10**9)}", "-s", status, "--json")
                    if run.returncode != 0:
                        cli_errors.append(run.stderr)
                    else:
                        added = json.loads(run.stdout)
                        cli.record(added["uid"], "create", added["status"])
            _, tui_stderr = tui.communicate(timeout=seconds + 60)
    finally:
        if tui.poll() is None:
            tui.kill()
            tui.wait()
    assert tui.returncode == 0, tui_stderr
    from_tui = json.loads(out.read_text())
    ledger_a = users[0].ledger
    for ops in (from_tui["ops"], cli.ops):
        for uid, made in ops.items():
            ledger_a.ops[uid].extend((op, status) for op, status in made)
    figures["rounds"] = 1
    figures["changes"] = ledger_a.total + users[1].ledger.total
    figures["tui_changes"] = from_tui["changes"]
    figures["cli_changes"] = cli.total
    figures["slowest_save_ms"] = round(1000 * max(slowest, from_tui["slowest_s"]))
    settle(team.fleet(users), server, daemons)
    locked = [e for e in from_tui["errors"] + cli_errors if "locked" in e]
    figures["locked_errors"] = len(locked)
    daemon_logs = "".join(d.log() for d in daemons)
    figures["daemon_locked"] = daemon_logs.count("locked")
    assert not from_tui["errors"] and not cli_errors, (from_tui["errors"] + cli_errors)[:5]
    assert "locked" not in daemon_logs, daemon_logs[-3000:]
    check_fleet(team.fleet(users), server, figures)
