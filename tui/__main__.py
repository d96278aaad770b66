"""``python -m tui [--home DIR]``: open the TUI on a profile."""

from __future__ import annotations

import argparse
import sys

from storage.profile import Profile

from .app import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui", description="pipetrack terminal UI")
    parser.add_argument("--home", help="profile directory (default: PIPETRACK_HOME)")
    args = parser.parse_args(argv)
    return run(Profile(args.home))


if __name__ == "__main__":
    sys.exit(main())
