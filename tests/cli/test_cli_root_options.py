"""The root's own options (--home, unknown ones): a mistake is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipetrack.cli import app

from .conftest import Cli


@pytest.fixture
def a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``./f``, a file in the working directory."""
    monkeypatch.chdir(tmp_path)
    Path("f").write_text("x")
    return "./f"


def test_home_that_is_a_file_is_one_line_naming_it(cli: Cli, a_file: str) -> None:
    run = cli("--home", a_file, "list", code=2)
    assert run.error == "pipetrack: error: --home ./f: is a file, not a directory"
    assert run.stdout == ""
    assert Path("f").read_text() == "x"


def test_pipetrack_home_that_is_a_file_names_the_variable(
    cli: Cli, a_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPETRACK_HOME", a_file)
    assert cli("list", code=2).error == (
        "pipetrack: error: PIPETRACK_HOME=./f: is a file, not a directory"
    )


def test_home_that_is_a_file_from_the_console_script(script: Cli, a_file: str) -> None:
    run = script("--home", a_file, "add", "Acme", code=2)
    assert run.error == "pipetrack: error: --home ./f: is a file, not a directory"


def test_root_usage_errors_are_one_line(script: Cli) -> None:
    assert "--bogus" in script("--bogus", code=2).error
    assert "'--home'" in script("--home", code=2).error


def test_home_still_takes_a_new_directory(cli: Cli, tmp_path: Path) -> None:
    new = tmp_path / "new" / "profile"
    cli("--home", str(new), "add", "Acme")
    assert (new / "pipetrack.db").exists()


def test_home_reaches_commands_as_a_path(tmp_path: Path) -> None:
    """``pipetrack --home P demo`` reads the root's ``home`` parameter as a Path."""
    seen: list[object] = []

    def probe(ctx: typer.Context) -> None:
        seen.append(ctx.find_root().params["home"])

    app.command("zz-probe-home")(probe)
    try:
        result = CliRunner().invoke(app, ["--home", str(tmp_path / "p"), "zz-probe-home"])
    finally:
        app.registered_commands.pop()
    assert result.exit_code == 0, result.output
    assert seen == [tmp_path / "p"]
