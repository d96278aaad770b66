"""What ``pipetrack demo`` prints once everything runs (also saved as README.txt)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from .demo_dirs import DemoDirs
from .demo_seed import MARKETS, TEAMMATES
from .demo_team import ME, SECOND


def command() -> str:
    """How to run ``pipetrack`` from another terminal: this install's console script."""
    script = Path(sys.executable).parent / "pipetrack"
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m pipetrack"


def instructions(dirs: DemoDirs, url: str, record: dict[str, Any], targets: int, stale: int) -> str:
    me = f"{command()} --home {shlex.quote(str(dirs.home))}"
    sam = f"{command()} --home {shlex.quote(str(dirs.second))}"
    conflict, rejected = shlex.quote(record["conflict"]), shlex.quote(record["rejected"])
    team = " and ".join(TEAMMATES)
    return f"""
pipetrack demo is running
  API server   {url}  (log: {dirs.server_log})
  profile      {dirs.home}  (user "{ME}", sync daemon log: {dirs.sync_log})
  targets      {targets} in {len(MARKETS)} markets, a year of history by {team}; {stale} stale
  waiting      a conflict on {record["conflict"]!r} (you: Closed, {SECOND}: Passed)
               a rejected change: your import of {record["rejected"]!r} under another name

Attach a second terminal to the same profile:
  {me} status
  {me} list --stale
  {me} conflicts
  {me} rejected
  {me} history {conflict}
  {me} resolve CHANGE_ID --mine

Play the second device, teammate "{SECOND}" (each line in its own terminal or with &):
  {sam} login {url} --token {record["tokens"][SECOND]}
  {sam} sync
  {sam} set {rejected} Hot --note "from the second device"
  {sam}
Sam's change shows up in the demo's TUI within a second, and yours on sam's side.

These lines are saved in {dirs.instructions}.
To stop everything the demo started: q in the TUI (with --no-tui: Ctrl-C here).
"""
