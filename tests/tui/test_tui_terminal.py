"""Smoke test in a real terminal: tmux runs ``pipetrack``, a key changes a status."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import Store

SCRIPT = Path(sys.executable).parent / "pipetrack"
DEADLINE_S = 30.0


class Tmux:
    """A private tmux server (its own socket) holding one session."""

    def __init__(self, tmux: str, socket: str) -> None:
        self.base = [tmux, "-L", socket]

    def run(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "tui")

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            try:
                shown = self.screen()
            except subprocess.CalledProcessError:
                shown = ""
            if check(shown):
                return shown
            time.sleep(0.05)  # polling interval, not a wait for readiness
        pytest.fail(f"no {what} on screen within {DEADLINE_S} s:\n{shown}")

    def alive(self) -> bool:
        return (
            subprocess.run([*self.base, "has-session", "-t", "tui"], capture_output=True).returncode
            == 0
        )


@pytest.fixture
def tmux(tmp_path: Path):
    binary = shutil.which("tmux")
    if binary is None:
        pytest.skip("tmux is not installed")
    session = Tmux(binary, f"pipetrack-test-{os.getpid()}-{tmp_path.name}")
    yield session
    subprocess.run([*session.base, "kill-server"], capture_output=True)


def test_pipetrack_in_tmux_changes_a_status(tmux, home):
    with Store.open(home / "pipetrack.db") as store:
        for name in ("Acme Robotics", "Borealis Energy", "Cobalt Labs"):
            store.create_target(name, markets=["EU"], status="Cold")
    command = f"env LANG=C.UTF-8 TERM=xterm-256color {SCRIPT} --home {home}"
    tmux.run("new-session", "-d", "-s", "tui", "-x", "100", "-y", "30", command)
    tmux.wait_for(lambda s: "Acme Robotics" in s and "3 of 3 targets" in s, "target list")
    tmux.run("send-keys", "-t", "tui", "4")

    def acme_is_hot(shown: str) -> bool:
        line = next((ln for ln in shown.splitlines() if "Acme Robotics" in ln), "")
        return "Hot" in line and "↑" in line

    tmux.wait_for(acme_is_hot, "Acme Robotics as Hot and pending")
    tmux.run("send-keys", "-t", "tui", "q")
    deadline = time.monotonic() + DEADLINE_S
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not tmux.alive(), "q did not quit"
    with Store.open(home / "pipetrack.db") as store:
        acme = store.resolve("Acme Robotics")
        assert acme.status == "Hot" and store.history(acme.uid)[-1].new_status == "Hot"
