"""import FILE.csv --dry-run: the import's checks, then what it would do, nothing changed;
and an import names the targets it updated."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipetrack.commands import csv_io

from .conftest import Cli


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def files(home: Path) -> dict[str, bytes]:
    """The store's bytes: its file, and its WAL if it has one."""
    return {p.name: p.read_bytes() for p in sorted(home.glob("pipetrack.db*"))}


def pending(cli: Cli) -> int:
    return cli("status", "--json").json()["pending"]


@pytest.fixture
def old_export(cli: Cli, tmp_path: Path) -> str:
    """An export of Ørsted (Hot) and Beta Labs, then teammates' newer changes: Ørsted
    Passed, Beta Labs renamed Beta Labs AG."""
    cli("import", write(tmp_path, "name,status\nØrsted,Hot\nBeta Labs,Cold\n"))
    path = str(tmp_path / "old.csv")
    cli("export", path)
    cli("set", "Ørsted", "Passed")
    cli("edit", "Beta Labs", "--name", "Beta Labs AG")
    return path


def test_a_dry_run_shows_what_an_old_export_would_revert_and_changes_nothing(
    cli: Cli, home: Path, old_export: str
) -> None:
    before, queued = files(home), pending(cli)
    run = cli("import", old_export, "--dry-run")
    assert run.stdout.splitlines() == [
        "would update 2:",  # in the file's order: export sorts by name
        "  Beta Labs AG: name 'Beta Labs AG' → 'Beta Labs'",
        "  Ørsted: status Passed → Hot",
    ]
    assert run.stderr == "would create 0, update 2; nothing changed (dry run)\n"
    assert files(home) == before
    assert pending(cli) == queued
    targets = {t["name"]: t["status"] for t in cli("list", "--json").json()}
    assert targets == {"Ørsted": "Passed", "Beta Labs AG": "Cold"}


def test_the_import_names_the_targets_it_updated(cli: Cli, old_export: str) -> None:
    assert cli("import", old_export).stderr.splitlines() == [
        "0 created, 2 updated",
        "updated: Beta Labs AG (name → Beta Labs), Ørsted (status)",
    ]


def test_a_large_import_names_the_first_ones(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("import", write(tmp_path, "name\nA\nB\nC\n"))
    monkeypatch.setattr(csv_io, "NAMED_UPDATES", 2)
    run = cli("import", write(tmp_path, "name,status,markets\nA,Hot,EU\nB,Hot,\nC,Hot,\n"))
    assert run.stderr.splitlines()[1] == "updated: A (status, markets), B (status) and 1 more"


def test_a_dry_run_shows_every_field_and_the_new_targets(cli: Cli, tmp_path: Path) -> None:
    long = "Wind power,\nover the North Sea and well beyond it, since 1972"
    cli("import", write(tmp_path, f'name,status,description,markets\nØrsted,,"{long}",EU;DK\n'))
    sheet = "name,status,description,markets\nØrsted,none,short,US\nGamma,Hot,,\n"
    run = cli("import", write(tmp_path, sheet, "b.csv"), "--dry-run")
    assert run.stdout.splitlines() == [
        "would update 1:",
        "  Ørsted: description 'Wind power, over the North Sea and well…' → 'short';"
        " markets 'EU', 'DK' → 'US'",
        "would create 1:",
        "  Gamma",
    ]
    assert run.stderr == "would create 1, update 1; nothing changed (dry run)\n"


def test_a_dry_run_shows_a_description_with_its_spaces(cli: Cli, tmp_path: Path) -> None:
    """It showed 'two spaces' for 'two  spaces', which the import then stored."""
    cli("import", write(tmp_path, "name,description\nAcme,two spaces\n"))
    run = cli("import", write(tmp_path, "name,description\nAcme,two  spaces\n"), "--dry-run")
    assert run.stdout.splitlines()[1] == "  Acme: description 'two spaces' → 'two  spaces'"


def test_a_dry_run_clearing_a_status_says_none(cli: Cli, tmp_path: Path) -> None:
    cli("import", write(tmp_path, "name,status\nAcme,Hot\n"))
    run = cli("import", write(tmp_path, "name,status,markets\nAcme,none,EU\n"), "--dry-run")
    assert run.stdout.splitlines()[1] == "  Acme: status Hot → none; markets (none) → 'EU'"


def test_a_large_dry_run_shows_the_first_of_each_and_how_many_more(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("import", write(tmp_path, "name\nA\nB\nC\n"))
    monkeypatch.setattr(csv_io, "PREVIEW_LINES", 2)
    sheet = "name,status\nA,Hot\nB,Hot\nC,Hot\nD,\nE,\nF,\nG,\n"
    assert cli("import", write(tmp_path, sheet, "b.csv"), "--dry-run").stdout.splitlines() == [
        "would update 3:",
        "  A: status none → Hot",
        "  B: status none → Hot",
        "  … and 1 more to update",
        "would create 4:",
        "  D",
        "  E",
        "  … and 2 more to create",
    ]


def test_a_dry_run_refuses_what_the_import_refuses(cli: Cli, home: Path, tmp_path: Path) -> None:
    uid = cli("add", "Acme").stdout.strip()
    cli("add", "Beta")
    before = files(home)
    path = write(tmp_path, f"uid,name,status\n{uid},Acme,Hot\n,Gamma,warm\n")
    refused = cli("import", path, "--dry-run", code=2).error
    assert refused == cli("import", path, code=2).error
    assert f"{path}: line 3: unknown status 'warm'" in refused
    renamed = write(tmp_path, f"uid,name\n{uid},BETA\n", "b.csv")
    taken = cli("import", renamed, "--dry-run", code=2).error
    assert taken == cli("import", renamed, code=2).error and "line 2:" in taken
    assert files(home) == before


def test_a_dry_run_in_json_lists_every_change(cli: Cli, home: Path, old_export: str) -> None:
    uids = {t["name"]: t["uid"] for t in cli("list", "--json").json()}
    before = files(home)
    assert cli("import", old_export, "--dry-run", "--json").json() == {
        "dry_run": True,
        "created": 0,
        "updated": 2,
        "updates": [
            {
                "line": 2,
                "uid": uids["Beta Labs AG"],
                "name": "Beta Labs AG",
                "changes": {"name": {"old": "Beta Labs AG", "new": "Beta Labs"}},
            },
            {
                "line": 3,
                "uid": uids["Ørsted"],
                "name": "Ørsted",
                "changes": {"status": {"old": "Passed", "new": "Hot"}},
            },
        ],
        "new": [],
    }
    assert files(home) == before


def test_a_dry_run_says_its_progress_as_checked(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.importer

    monkeypatch.setattr(storage.importer, "WRITE_CHUNK", 2)
    monkeypatch.setattr(csv_io, "PROGRESS_S", 0)
    monkeypatch.setattr(csv_io, "LARGE_IMPORT_ROWS", 3)
    path = write(tmp_path, "name\nA\nB\nC\n")
    assert cli("import", path, "--dry-run").stderr.splitlines() == [
        f"checking 3 rows from {path} (dry run)…",
        "checked 2 of 3 new targets…",
        "checked 3 of 3 new targets…",
        "would create 3, update 0; nothing changed (dry run)",
    ]
    assert cli("list", "--json").json() == []


def test_help_tells_of_the_dry_run(cli: Cli) -> None:
    text = " ".join(cli("import", "--help").stdout.replace("│", " ").split())
    assert "--dry-run" in text and "nothing written" in text
