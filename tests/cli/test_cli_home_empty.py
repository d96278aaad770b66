"""A blank profile directory (``--home ""``, ``PIPETRACK_HOME=``) is refused in one line,
exit 2, and nothing is written: not in the working directory, not in the default one."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, and an empty default data dir (XDG_DATA_HOME)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return work


def nothing_written(workdir: Path) -> bool:
    return not any(workdir.iterdir()) and not (workdir.parent / "data").exists()


@pytest.mark.parametrize("blank", ["", " ", "  \t"])
def test_a_blank_home_is_refused(cli: Cli, workdir: Path, blank: str) -> None:
    run = cli("--home", blank, "add", "Acme", code=2)
    assert run.error == f"pipetrack: error: --home {blank!r}: give a directory"
    assert run.stdout == ""
    assert nothing_written(workdir)


@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_pipetrack_home_is_refused_naming_the_variable(
    cli: Cli, workdir: Path, blank: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: the profile is ``--home DIR``, ``PIPETRACK_HOME``, else the default data
    dir; an empty variable is a mistake (``PIPETRACK_HOME=$UNSET_VAR``), not the default."""
    monkeypatch.setenv("PIPETRACK_HOME", blank)
    run = cli("add", "Acme", code=2)
    assert run.error == f"pipetrack: error: PIPETRACK_HOME={blank!r}: give a directory"
    assert nothing_written(workdir)


def test_a_blank_home_from_the_console_script(script: Cli, workdir: Path) -> None:
    assert script("--home", "", "add", "Acme", code=2).error == (
        "pipetrack: error: --home '': give a directory"
    )
    assert nothing_written(workdir)


def test_home_given_wins_over_an_empty_pipetrack_home(
    cli: Cli, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPETRACK_HOME", "")
    cli("--home", str(workdir / "p"), "add", "Acme")
    assert (workdir / "p" / "pipetrack.db").exists()
