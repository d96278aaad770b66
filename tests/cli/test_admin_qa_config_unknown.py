"""config.toml: a table or a setting pipetrack does not take (a misspelled
``[stagantion]``, ``server`` outside ``[sync]``) is refused as a bad threshold is: one
line naming the file, the slip and the known ones, exit 2; ``status`` still runs and
shows it. Before, it was ignored without a word (exit 0), the thresholds never applied.
What pipetrack writes itself (``login``'s ``[sync] server``) and README's example pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.profile import Profile

from .conftest import Cli
from .test_cli_config import config_line, write_config

KNOWN = "[sync], [stagnation] and [keys]"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "[stagantion]\nHot = 3\n",
            f"unknown table [stagantion] (did you mean [stagnation]?): the known ones are {KNOWN}",
        ),
        (
            "[Keys]\nundo = 'z'\n",
            f"unknown table [Keys] (did you mean [keys]?): the known ones are {KNOWN}",
        ),
        ("[theme]\ndark = true\n", f"unknown table [theme]: the known ones are {KNOWN}"),
        (
            'server = "https://pipe.example.com"\n',
            "unknown setting 'server' outside any table (it belongs in [sync]):"
            f" the known tables are {KNOWN}",
        ),
        (
            '[sync]\nsevrer = "https://pipe.example.com"\n',
            "[sync] 'sevrer' is not a setting (did you mean server?): [sync] takes server",
        ),
    ],
)
def test_an_unknown_table_or_setting_is_refused_in_one_line(
    cli: Cli, home: Path, text: str, said: str
) -> None:
    cli("add", "Acme", "-s", "Hot")
    path = write_config(home, text)
    expected = f"pipetrack: error: {path}: {said}"
    for args in (("list",), ("stale",), ("set", "Acme", "Cold")):
        assert cli(*args, code=2).error == expected
    assert config_line(cli).startswith(f"{path}: {said}")  # status runs, and says it
    write_config(home, "")
    assert cli("list", "--json").json()[0]["status"] == "Hot"  # nothing was changed


README_EXAMPLE = """\
[sync]
server = "https://pipetrack.example.com"   # written by pipetrack login (this line only)

[stagnation]          # days in a status before it is stale (aging from 80%), 1 to 36500
Cold = 60
Active = 30
Hot = 14              # Passed, Closed and no status never stagnate

[keys]                # remap any TUI binding by its id (see the table above)
set_hot = "h"
undo = "ctrl+z"
"""


def test_what_pipetrack_writes_and_the_readme_example_are_accepted(cli: Cli, home: Path) -> None:
    cli("add", "Acme", "-s", "Hot")
    write_config(home, README_EXAMPLE)
    assert cli("list", "--json").json()[0]["status"] == "Hot"
    write_config(home, "[stagnation]\nHot = 3\n")
    Profile(home).save_server("https://pipe.example.com")  # what login writes
    assert cli("list", "--json").json()[0]["status"] == "Hot"
    assert Profile(home).load_config().server == "https://pipe.example.com"


def test_a_misspelt_status_and_a_server_not_in_quotes_say_where_and_what(tmp_path):
    """``Hott = 10`` named neither the table nor the status meant; ``server = 5`` was
    taken, and status showed "Server: 5"."""
    from protocol import InvalidInput

    profile = Profile(tmp_path)
    for text, said in [
        ("[stagnation]\nHott = 10\n", "[stagnation] 'Hott' is not a status (did you mean Hot?)"),
        ("[sync]\nserver = 5\n", "[sync] server = 5: give the server's URL in quotes"),
    ]:
        (tmp_path / "config.toml").write_text(text)
        with pytest.raises(InvalidInput) as caught:
            profile.load_config()
        assert said in str(caught.value) and str(tmp_path) in str(caught.value)
