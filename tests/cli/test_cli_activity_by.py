"""activity --by "": refused (a script's unset variable must not list everyone)."""

from __future__ import annotations

import pytest

from .conftest import Cli


@pytest.mark.parametrize("empty", ["", "  "])
def test_activity_by_an_empty_name_is_refused(cli: Cli, empty: str) -> None:
    cli("add", "Acme", "-s", "Hot")
    run = cli("activity", "--by", empty, code=2)
    assert run.error == (
        f"pipetrack: error: --by {empty!r}: give a user name (as in the BY column)"
    )
    assert run.stdout == ""
    assert cli("activity", "--by", empty, "--json", code=2).stdout == ""


def test_activity_by_a_name_still_filters(cli: Cli) -> None:
    cli("add", "Acme", "-s", "Hot")
    (entry,) = cli("activity", "--json").json()
    assert [e["name"] for e in cli("activity", "--by", entry["changed_by"], "--json").json()] == [
        "Acme"
    ]
    assert cli("activity", "--by", "nobody-at-all", "--json").json() == []
