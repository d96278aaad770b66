"""``pipetrack demo``: the command's options; :mod:`pipetrack.demo` does the work.

Kept apart so that every other command starts without importing the demo's server,
HTTP and daemon machinery.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            metavar="DIR",
            file_okay=False,
            help="The demo's server data (default: the platform's cache dir, pipetrack/demo).",
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            metavar="DIR",
            file_okay=False,
            help="The demo profile (default: DIR-profile beside --data-dir).",
        ),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Wipe an earlier demo and seed again.")
    ] = False,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="API port (default: a free one).")
    ] = None,
    no_tui: Annotated[
        bool, typer.Option("--no-tui", help="Set up, print the instructions, run until Ctrl-C.")
    ] = False,
    seed_only: Annotated[
        bool, typer.Option("--seed-only", help="Set up and seed, then stop everything.")
    ] = False,
) -> None:
    """Run the whole system here: PostgreSQL, the API, seeded targets, daemon and TUI.

    About 300 seeded targets with a year of history. Quitting stops everything it
    started."""
    from pipetrack.demo import run

    run(ctx, data_dir, home, fresh, port, no_tui, seed_only)
