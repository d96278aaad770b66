"""config.toml: a bad setting is one line naming the file and the setting, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli


def write_config(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_line(cli: Cli) -> str:
    """``pipetrack status``'s ``Config:`` line (it runs despite the error)."""
    lines = dict(line.split(":", 1) for line in cli("status").stdout.splitlines())
    return lines["Config"].strip()


# ---- [stagnation] thresholds too large for a date ------------------------------------------
@pytest.mark.parametrize("days", ["800000", "3000000000", "36501"])
def test_a_threshold_past_100_years_is_refused_in_one_line(cli: Cli, home: Path, days: str) -> None:
    cli("add", "Acme", "-s", "Hot")
    path = write_config(home, f"[stagnation]\nHot = {days}\n")
    expected = (
        f"pipetrack: error: {path}: [stagnation] Hot = {days}:"
        " days must be at most 36,500 (100 years)"
    )
    for args in (("list",), ("stale",), ("set", "Acme", "Cold")):
        assert cli(*args, code=2).error == expected
    assert config_line(cli).startswith(f"{path}: [stagnation] Hot = {days}: days must be at most")
    write_config(home, "")
    assert cli("list", "--json").json()[0]["status"] == "Hot"


def test_a_threshold_of_100_years_is_accepted(cli: Cli, home: Path) -> None:
    cli("add", "Acme", "-s", "Hot")
    write_config(home, "[stagnation]\nHot = 36500\n")
    (target,) = cli("list", "--json").json()
    assert target["stagnation"] == "fresh"
    assert cli("stale", "--json").json() == []


# ---- [stagnation] for a status that never stagnates ----------------------------------------
@pytest.mark.parametrize("key", ["Passed", "closed"])
def test_a_threshold_for_passed_or_closed_is_refused(cli: Cli, home: Path, key: str) -> None:
    """README: Passed, Closed and no status never stagnate; a threshold for one would
    make them stale."""
    cli("add", "Acme", "-s", "Passed")
    path = write_config(home, f"[stagnation]\n{key} = 5\n")
    expected = (
        f"pipetrack: error: {path}: [stagnation] {key} = 5: Passed, Closed and no status"
        " never stagnate; only Cold, Active and Hot take a number of days"
    )
    assert cli("list", code=2).error == expected
    assert cli("stale", code=2).error == expected
    assert "never stagnate" in config_line(cli)


def test_a_threshold_for_no_status_is_still_not_a_status(cli: Cli, home: Path) -> None:
    path = write_config(home, "[stagnation]\nnone = 5\n")
    assert cli("list", code=2).error == (
        f"pipetrack: error: {path}: [stagnation] 'none' is not a status"
    )


# ---- login keeps the user's config.toml as they wrote it -----------------------------------
COMMENTED = """\
# my pipetrack settings
[sync]   # where my team syncs
server = "https://old.example.com"   # the old one, until June

[stagnation]   # we move slowly
Cold = 90      # three months
Hot = 10

[keys]
# vim habits
undo = "ctrl+z"
"""


def saved(home: Path, text: str | None, url: str = "https://new.example.com/#x") -> str:
    from storage.profile import Profile

    path = home / "config.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8", newline="")
    Profile(home).save_server(url)
    return path.read_bytes().decode("utf-8")


def test_login_changes_only_the_server_value_keeping_comments(home: Path) -> None:
    after = saved(home, COMMENTED)
    assert after == COMMENTED.replace('"https://old.example.com"', '"https://new.example.com/#x"')
    assert oct((home / "config.toml").stat().st_mode & 0o777) == "0o600"


def test_login_adds_a_server_line_under_an_existing_sync_table(home: Path) -> None:
    text = "# mine\n[sync]\n# nothing yet\n\n[keys]\nundo = 'z'  # quotes of mine\n"
    assert saved(home, text, "https://a.example.com") == (
        '# mine\n[sync]\n# nothing yet\nserver = "https://a.example.com"\n\n'
        "[keys]\nundo = 'z'  # quotes of mine\n"
    )


@pytest.mark.parametrize("text", ["", "# only a comment", "[keys]\nundo = 'z'\n"])
def test_login_appends_a_sync_table_when_there_is_none(home: Path, text: str) -> None:
    after = saved(home, text, "https://a.example.com")
    assert after.startswith(text)
    assert after.endswith('[sync]\nserver = "https://a.example.com"\n')


def test_login_writes_a_new_file_when_there_is_none(home: Path) -> None:
    assert (
        saved(home, None, "https://a.example.com") == '[sync]\nserver = "https://a.example.com"\n'
    )


def test_login_keeps_windows_line_ends_and_a_bad_threshold(home: Path) -> None:
    text = '[stagnation]\r\nHot = 0 # oops\r\n\r\n[sync]\r\nserver = "http://x"\r\n'
    assert saved(home, text, "https://a.example.com") == text.replace(
        '"http://x"', '"https://a.example.com"'
    )


@pytest.mark.parametrize(
    ("text", "after"),
    [
        (
            'sync = { server = "https://old.example.com" }  # inline\n',
            'sync = { server = "https://a.example.com" }  # inline\n',
        ),
        (
            'sync.server = "https://old.example.com"  # dotted\n[keys]\nundo = "z"  # mine\n',
            'sync.server = "https://a.example.com"  # dotted\n[keys]\nundo = "z"  # mine\n',
        ),
        ('[sync]\nserver = """\nhttps://old.example.com"""  # long\n', None),
        ("# c\n[sync.proxy]\nx = 1\n", None),
        ("sync = 3  # not a table\n[keys]\nundo = 'z'\n", None),
    ],
)
def test_login_on_another_layout_keeps_it_and_saves_the_server(
    home: Path, text: str, after: str | None
) -> None:
    """Inline and dotted layouts are edited in place, comments kept; a multi-line value or
    a sub-table is never broken; a ``sync`` that is not a table becomes one."""
    import tomllib

    written = saved(home, text, "https://a.example.com")
    if after is not None:
        assert written == after
    raw = tomllib.loads(written)
    assert raw["sync"]["server"] == "https://a.example.com"
    assert {k: v for k, v in raw.items() if k != "sync"} == {
        k: v for k, v in tomllib.loads(text).items() if k != "sync"
    }


def test_login_keeps_windows_line_ends_on_the_lines_it_adds(home: Path) -> None:
    text = "# mine\r\n[keys]\r\nundo = 'z'\r\n"
    written = saved(home, text, "https://a.example.com")
    assert written.startswith(text)
    assert written.count("\r\n") == written.count("\n")
