"""config.toml: two ``[stagnation]`` keys for one status (``Cold`` and ``COLD``: TOML
keeps both, being case-sensitive; statuses are not) are refused in one line, exit 2,
instead of the last one silently winning."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli
from .test_cli_config import config_line, write_config


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("Cold = 30\nCOLD = 100\n", "Cold", "COLD"),
        ("hot = 5\nHot = 5\n", "hot", "Hot"),  # the same days still say it twice
        ('Active = 10\n" active" = 20\n', "Active", " active"),
    ],
)
def test_two_keys_for_one_status_are_refused(
    cli: Cli, home: Path, text: str, first: str, second: str
) -> None:
    uid = cli("add", "Acme", "-s", "Cold").stdout.strip()
    path = write_config(home, "[stagnation]\n" + text)
    expected = f"pipetrack: error: {path}: [stagnation] {first} and {second} name the same status"
    for args in (("list",), ("stale",), ("set", uid, "Hot")):
        assert cli(*args, code=2).error == expected
    assert config_line(cli).startswith(expected.removeprefix("pipetrack: error: "))
    write_config(home, "")
    assert cli("list", "--json").json()[0]["status"] == "Cold"  # the set wrote nothing


def test_one_key_per_status_in_any_case_is_still_read(cli: Cli, home: Path) -> None:
    cli("add", "Acme", "-s", "Hot")
    write_config(home, "[stagnation]\nCOLD = 90\nactive = 45\nhOT = 36500\n")
    assert cli("stale", "--json").json() == []
