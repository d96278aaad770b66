"""What ``pipetrack demo`` prints once everything runs (also saved as README.txt)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from storage import ConflictView, RejectedView

from .demo_dirs import DemoDirs
from .demo_seed import MARKETS, TEAMMATES
from .demo_team import ME, SECOND


def command() -> str:
    """How to run ``pipetrack`` from another terminal: this install's console script."""
    script = Path(sys.executable).parent / "pipetrack"
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m pipetrack"


def waiting(conflicts: list[ConflictView], rejected: list[RejectedView]) -> str:
    """What waits for the user in the demo profile now: the staged conflict and rejected
    change on a first run, whatever is left of them (or of the user's own) on a later one."""
    lines = [
        f"a conflict on {c.name!r} (you: {_status(c.mine_status)}, "
        f"{c.theirs_changed_by or 'the server'}: {_status(c.theirs_status)})"
        if c.op == "set_status"
        else f"a conflict on {c.name!r} (its details)"
        for c in conflicts
    ]
    lines += [f"a rejected change to {r.name!r}: {r.reason}" for r in rejected]
    if not lines:
        return (
            "nothing: the conflict and the rejected change are resolved (--fresh stages them again)"
        )
    return "\n               ".join(lines)


def _status(status: str | None) -> str:
    return status or "no status"


def instructions(
    dirs: DemoDirs, url: str, record: dict[str, Any], targets: int, stale: int, waits: str
) -> str:
    me = f"{command()} --home {shlex.quote(str(dirs.home))}"
    sam = f"{command()} --home {shlex.quote(str(dirs.second))}"
    conflict, rejected = shlex.quote(record["conflict"]), shlex.quote(record["rejected"])
    team = " and ".join(TEAMMATES)
    return f"""
pipetrack demo is running
  API server   {url}  (log: {dirs.server_log})
  profile      {dirs.home}  (user "{ME}", sync daemon log: {dirs.sync_log})
  targets      {targets} in {len(MARKETS)} markets, a year of history by {team}; {stale} stale
  waiting      {waits}

Attach a second terminal to the same profile:
  {me} status
  {me} list --stale
  {me} conflicts
  {me} rejected
  {me} history {conflict}
  {me} activity --since 2w
  {me} resolve CHANGE_ID --mine

Play the second device, teammate "{SECOND}" (each line in its own terminal or with &):
  {sam} login {url} --token {record["tokens"][SECOND]}
  {sam} sync
  {sam} set {rejected} Hot --note "from the second device"
  {sam}
Sam's change shows up in the demo's TUI within a second, and yours on sam's side.

The admin's side of the same server (its embedded PostgreSQL is in {dirs.postgres}):
  {command()} admin stats --data-dir {shlex.quote(str(dirs.postgres))}
  {command()} admin list-users --data-dir {shlex.quote(str(dirs.postgres))}

These lines are saved in {dirs.instructions}.
To stop everything the demo started: q in the TUI (with --no-tui: Ctrl-C here).
"""
