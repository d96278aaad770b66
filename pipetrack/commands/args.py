"""Arguments and options several commands share (one definition, one help text)."""

from __future__ import annotations

from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (stable keys) for scripts.")]

TargetArg = Annotated[
    str,
    typer.Argument(
        metavar="TARGET",
        help=(
            "A uid, a unique uid prefix (4+ characters) or an exact name"
            " (any case, accents optional)."
        ),
    ),
]

MarketOpt = Annotated[
    list[str] | None,
    typer.Option("--market", "-m", metavar="M", help="A market (tag); repeat for several."),
]

StatusHelp = "Passed, Cold, Active, Hot, Closed, or none (any case)."

NoteOpt = Annotated[str | None, typer.Option("--note", "-n", help="Why (kept in the audit).")]


def not_blank_change_id(value: str | None) -> str | None:
    """An empty CHANGE_ID (an unset shell variable) is said to be empty: "no change
    matches ''" read as if one were looked for."""
    from protocol import InvalidInput

    if value is not None and not value.strip():
        raise InvalidInput("change_id", "the change id is empty: give one, or a prefix of it")
    return value


ChangeArg = Annotated[
    str,
    typer.Argument(
        metavar="CHANGE_ID",
        help="A change id or a unique prefix of it (4+ characters).",
        callback=not_blank_change_id,
    ),
]
