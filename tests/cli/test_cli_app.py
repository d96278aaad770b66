"""The app as a whole: profile selection, the TUI hook, error mapping, the console script."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from pipetrack import cli as cli_module
from pipetrack.commands import output
from storage import Store
from storage.profile import Profile
from tests.storage.storehelp import pull_target

from .conftest import SCRIPT, Cli


# ---- profile selection -------------------------------------------------------------------
def test_home_option_wins_over_the_environment(cli: Cli, home: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "profile"
    cli("--home", str(other), "add", "Acme")
    assert (other / "pipetrack.db").exists()
    assert cli("list", "--json").json() == []  # PIPETRACK_HOME's profile is untouched
    assert [t["name"] for t in cli("--home", str(other), "list", "--json").json()] == ["Acme"]


def test_the_environment_selects_the_profile(cli: Cli, home: Path) -> None:
    cli("add", "Acme")
    assert (home / "pipetrack.db").exists()


def test_without_a_command_the_tui_hook_gets_the_profile(
    cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Profile] = []
    monkeypatch.setattr(cli_module, "open_tui", opened.append)
    cli()
    assert [p.home for p in opened] == [home]


def test_the_tui_hook_passes_the_tui_exit_code_on(monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.app

    seen: list[Profile] = []
    monkeypatch.setattr(tui.app, "run", lambda profile: seen.append(profile) or 2)
    profile = Profile("/nonexistent")
    with pytest.raises(cli_module.typer.Exit) as exit_info:
        cli_module.open_tui(profile)
    assert exit_info.value.exit_code == 2 and seen == [profile]


def test_the_tui_hook_says_so_when_there_is_no_tui(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(cli_module.typer.Exit) as exit_info:
        cli_module.open_tui(Profile("/nonexistent"))
    assert exit_info.value.exit_code == 1
    assert capsys.readouterr().err.startswith("pipetrack: error: the terminal UI")


# ---- errors ------------------------------------------------------------------------------
def test_a_corrupt_database_exits_1_with_a_message(cli: Cli, home: Path) -> None:
    (home / "pipetrack.db").write_bytes(b"this is not a database" * 100)
    run = cli("list", code=1)
    assert run.stderr.startswith("pipetrack: error: ")


def test_unknown_command_is_one_line_exit_2(cli: Cli) -> None:
    assert "'frobnicate'" in cli("frobnicate", code=2).error


def test_home_that_is_a_file_exits_1(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cli("--home", str(blocker / "sub"), "add", "Acme", code=1)


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("status",),
        ("stale",),
        ("conflicts",),
        ("activity",),
        ("export",),
        ("history", "Acme"),
        ("set", "Acme", "Hot"),
        ("undo",),
    ],
)
def test_a_chosen_profile_that_is_not_there_is_named_and_not_made(
    cli: Cli, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A mistyped --home showed an empty pipeline (and made a profile there) or said
    "no such target", and its hints started work in the wrong place."""
    typo = tmp_path / "pipetrak"
    run = cli("--home", str(typo), *args, code=2)
    assert run.error == (
        f"pipetrack: error: no profile at --home {typo}: a mistyped directory? "
        "(pipetrack add, import or login starts one there)"
    )
    assert not typo.exists()


def test_a_directory_with_no_profile_in_it_is_no_profile(cli: Cli, tmp_path: Path) -> None:
    """A --home that names a directory holding something else (the parent folder, ~)
    showed an empty pipeline and left a database there; one with a config.toml written
    first is a profile, and so is an empty one (made for it)."""
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    run = cli("--home", str(folder), "list", code=2)
    assert run.error.startswith(f"pipetrack: error: no profile at --home {folder}:"), run.error
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    configured = tmp_path / "configured"
    configured.mkdir()
    (configured / "config.toml").write_text("[stagnation]\nHot = 7\n")
    assert cli("--home", str(configured), "list", "--json").json() == []
    made = tmp_path / "made"
    made.mkdir()
    assert cli("--home", str(made), "list", "--json").json() == []


@pytest.mark.parametrize(
    "args",
    [("add", ""), ("add", "Acme", "--status", "Hottt"), ("import", "rows.csv")],
)
def test_a_refused_command_leaves_no_new_profile_behind(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """A refused add or import on a new --home left an empty profile: the next list said
    "no targets yet" there instead of "no profile"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.csv").write_text("name,status\nAcme,Hot\nBeta,Hottt\n")
    new, there = tmp_path / "new", tmp_path / "there"  # there: a folder of other files
    there.mkdir()
    (there / "notes.txt").write_text("mine")
    for home in (new, there):
        cli("--home", str(home), *args, code=2)
        cli("--home", str(home), "list", code=2)  # still no profile
    assert not new.exists() and [p.name for p in there.iterdir()] == ["notes.txt"]


def test_the_commands_that_start_a_profile_start_a_chosen_one(cli: Cli, tmp_path: Path) -> None:
    cli("--home", str(tmp_path / "a"), "add", "Acme")
    assert (tmp_path / "a" / "pipetrack.db").exists()
    rows = tmp_path / "rows.csv"
    rows.write_text("name,status\nAcme,Hot\n")
    checked = cli("--home", str(tmp_path / "b"), "import", str(rows), "--dry-run")
    assert checked.stdout == "would create 1:\n  Acme\n"
    assert not (tmp_path / "b").exists()  # a dry run checks against an empty store of its own
    cli("--home", str(tmp_path / "b"), "import", str(rows))
    assert cli("--home", str(tmp_path / "b"), "list", "--json").json()[0]["status"] == "Hot"


# ---- output helpers ----------------------------------------------------------------------
def test_table_on_a_terminal_fits_its_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "stdout_is_tty", lambda: True)
    monkeypatch.setenv("COLUMNS", "40")
    rows = [
        ("abcd1234", "A name far too long for the screen", "space, EU, US, Asia"),
        ("x", "", ""),
    ]
    output.emit_table(("UID", "NAME", "MARKETS"), rows, shrink=("MARKETS", "NAME"))
    header, first, second = capsys.readouterr().out.splitlines()
    assert len(first) <= 40 and first.startswith("abcd1234  A name") and "…" in first
    assert second.split() == ["x", output.NONE, output.NONE]
    assert first.index("space") == header.index("MARKETS")


def test_wide_characters_keep_the_columns_aligned(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CJK and emoji take two terminal columns each: the next column starts at the same
    column on every line, piped in full or cut to a terminal's width."""
    rows = [("株式会社 Tokyo 😀", "Hot"), ("Acme", "Cold"), ("Ünïcødé", "Active")]
    for tty, columns in ((False, "200"), (True, "16")):
        monkeypatch.setattr(output, "stdout_is_tty", lambda tty=tty: tty)
        monkeypatch.setenv("COLUMNS", columns)
        output.emit_table(("NAME", "STATUS"), rows, shrink=("NAME",))
        lines = capsys.readouterr().out.splitlines()
        starts = {cell_len(line[: line.rindex("  ") + 2]) for line in lines}
        assert len(starts) == 1, lines
        assert all(cell_len(line) <= int(columns) for line in lines), lines


def test_fit_takes_from_the_shrink_columns_in_turn() -> None:
    assert output.fit([8, 30, 20], [2, 1], room=8 + 2 + 30 + 2 + 20) == [8, 30, 20]
    assert output.fit([8, 30, 20], [2, 1], room=50) == [8, 30, 8]
    assert output.fit([8, 30, 20], [2, 1], room=44) == [8, 24, 8]


def test_age_text() -> None:
    assert [output.age_text(s) for s in (None, 5, 125, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "-",
        "5s",
        "2m",
        "3h 5m",
        "2d 4h",
    ]


# ---- the installed command, in a real process --------------------------------------------
def test_console_script_adds_and_lists(script: Cli, cli: Cli) -> None:
    uid = script("add", "Acme", "--status", "Hot").stdout.strip()
    (listed,) = cli("list", "--json").json()
    assert (listed["uid"], listed["status"]) == (uid, "Hot")
    assert script("list").stdout.splitlines()[1].startswith(uid[:8] + "  Acme ")


def test_console_script_unknown_status_exit_2_one_line(script: Cli, cli: Cli) -> None:
    cli("add", "Acme")
    err = script("set", "Acme", "Warm", code=2).error
    assert "'Warm'" in err and "Passed, Cold, Active, Hot, Closed" in err
    assert cli("history", "Acme", "--json").json() == []


def test_a_part_of_a_name_is_refused_naming_the_targets_it_may_mean(script: Cli, cli: Cli) -> None:
    cli("add", "Acme Robotics")
    run = script("set", "acme", "Hot", code=2)
    assert run.stderr == (
        "pipetrack: error: no target matches 'acme' (give a uid, a uid prefix or the exact"
        " name); did you mean 'Acme Robotics'?\n"
    )
    assert cli("history", "Acme Robotics", "--json").json() == []


def test_console_script_ambiguous_target_exit_2(script: Cli, cli: Cli, store: Store) -> None:
    cli("add", "Acme")
    pull_target(store, "acme")  # a teammate's of the same name
    assert "2 targets" in script("history", "ACME", code=2).error


def test_console_script_stale_fail_exit_3(script: Cli, old_store) -> None:
    old_store.create_target("Acme", status="Hot")
    assert "Acme" in script("stale", "--fail", code=3).stdout


def test_console_script_corrupt_db_exit_1_without_traceback(script: Cli, home: Path) -> None:
    (home / "pipetrack.db").write_bytes(b"garbage" * 1000)
    assert script("list", code=1).stderr.startswith("pipetrack: error: ")


def test_console_script_bad_csv_exit_2(script: Cli, cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,status\nAcme,Hot\nGlobex,Lukewarm\n")
    err = script("import", str(path), code=2).error
    assert "line 3" in err and "'Lukewarm'" in err
    assert cli("list", "--json").json() == []


@pytest.mark.parametrize("command", [("list",), ("export",), ("list", "--json")])
def test_output_into_a_closed_pipe_ends_quietly(cli: Cli, command: tuple[str, ...]) -> None:
    """``pipetrack list | head -1``: once the reader has gone, no error line and no
    traceback, the exit code of a process SIGPIPE ended (like ``ls | head``)."""
    cli("add", "Acme")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte is written
    with os.fdopen(write, "wb") as stdout:
        proc = subprocess.run(
            [str(SCRIPT), *command], stdout=stdout, stderr=subprocess.PIPE, timeout=60
        )
    assert (proc.returncode, proc.stderr) == (141, b"")


def test_python_dash_m_runs_the_same_command(home: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipetrack", "add", "Acme", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"name": "Acme"' in proc.stdout


# ---- help ---------------------------------------------------------------------------------
def test_help_shows_a_flag_alone_and_an_option_with_what_it_takes(cli: Cli) -> None:
    """A flag must not read as if it took a value (typer 0.29 prints ``--stale <bool>``)."""
    lines = cli("list", "--help").stdout.splitlines()
    (stale,) = [line for line in lines if "--stale" in line]
    (search,) = [line for line in lines if "--search" in line]
    assert stale.split("--stale")[1].split()[0] == "Only", stale
    assert search.split("-q")[1].split()[0] == "TEXT", search


@pytest.mark.parametrize(
    ("command", "sentence"),
    [
        (("sync",), "then exit; exit 1 when the server is unreachable (changes stay queued)."),
        (("admin", "new-token"), "a disabled user is enabled again, and keeps their name,"),
    ],
)
def test_help_is_wrapped_by_the_terminal_not_by_the_source(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...], sentence: str
) -> None:
    """A docstring's line breaks are where its source wraps: on a wide terminal a
    paragraph of help is one line, not broken where the source was."""
    monkeypatch.setenv("COLUMNS", "200")
    assert any(sentence in line for line in cli(*command, "--help").stdout.splitlines())


# ---- the service files in docs/ ---------------------------------------------------------
def _service_command(name: str) -> list[str]:
    """The command line a service file in docs/ runs: a systemd unit's ExecStart, a
    launchd agent's ProgramArguments."""
    import plistlib
    import shlex

    path = Path(__file__).parents[2] / "docs" / name
    if name.endswith(".plist"):
        return plistlib.loads(path.read_bytes())["ProgramArguments"]
    [line] = [x for x in path.read_text().splitlines() if x.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


@pytest.mark.parametrize(
    "service", ["pipetrack-sync.service", "pipetrack-server.service", "com.pipetrack.sync.plist"]
)
def test_the_service_files_run_commands_that_exist(service: str) -> None:
    """What they run names a command and options the CLI has (a rename would leave a
    service that exits 2 at every start)."""
    import click
    import typer.main

    program, *words = _service_command(service)
    assert program.endswith("/pipetrack")
    group = typer.main.get_command(cli_module.app)
    command = group.get_command(click.Context(group), words[0])
    assert command is not None, words[0]
    options = {name for p in command.params for name in p.opts}
    given = [word for word in words[1:] if word.startswith("-")]
    assert set(given) <= options, (given, sorted(options))
    # and they parse: values of the right types, nothing missing
    command.make_context(words[0], list(words[1:]))


def test_version_is_the_installed_one(cli: Cli) -> None:
    import importlib.metadata

    assert cli("--version").stdout == f"pipetrack {importlib.metadata.version('pipetrack')}\n"


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{}],
        [{"uid": "a", "markets": [], "note": None}],
        [{"name": 'Ünï "quoted"\nline', "markets": ["EU", "US"], "n": 1.5}, {"x": {"y": [1]}}],
    ],
)
def test_json_arrays_are_written_as_one_dump_would_write_them(items, capsys) -> None:
    """``list --json`` writes an item at a time (memory); the bytes are json.dumps's."""
    output.emit_json(items)
    whole = capsys.readouterr().out
    output.emit_json_array(iter(items))
    assert capsys.readouterr().out == whole


_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text()  # NaN too
_FLAT = st.dictionaries(st.text(), _SCALAR | st.lists(_SCALAR, max_size=3), max_size=6)
_ANY_JSON = st.recursive(_SCALAR, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner))


@settings(max_examples=300, deadline=None)
@given(st.lists(_FLAT | _ANY_JSON | st.tuples(_SCALAR), max_size=4))
def test_json_array_items_laid_out_by_hand_are_json_dumps_byte_for_byte(items) -> None:
    """The flat dicts of ``list --json`` are laid out without json's slow indenting
    encoder; every shape, flat or not, comes out as json.dumps writes it."""
    whole = json.dumps(items, ensure_ascii=False, indent=2) + "\n"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert output.emit_json_array(iter(items)) == len(items)
    assert out.getvalue() == whole
