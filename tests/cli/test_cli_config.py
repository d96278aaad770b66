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
