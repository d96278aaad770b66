"""The data commands of ``pipetrack``: thin over the store, UI only.

``register(app)`` adds them to the main app; each module owns a few commands.
"""

from __future__ import annotations

import typer

from . import csv_io, sync_views, targets, views


def register(app: typer.Typer) -> None:
    for module in (targets, views, csv_io, sync_views):
        module.register(app)
