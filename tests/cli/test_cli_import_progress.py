"""import FILE.csv says how far a large import got: its updates as its new targets;
a small one (one chunk of each) only says what it did."""

from __future__ import annotations

from pathlib import Path

import pytest

import storage.importer
from pipetrack.commands import csv_io

from .conftest import Cli


@pytest.fixture
def every_step_is_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_io, "PROGRESS_S", 0)


def test_updates_say_how_far_they_got(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every_step_is_long: None
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("name,status\nA,Cold\nB,Cold\nC,Cold\n")
    cli("import", str(path))
    monkeypatch.setattr(storage.importer, "WRITE_CHUNK", 2)
    path.write_text("name,status\nA,Hot\nB,Hot\nC,Hot\nD,Hot\n")
    assert cli("import", str(path)).stderr.splitlines() == [
        "written 2 of 3 updates…",
        "written 3 of 3 updates…",
        "1 created, 3 updated",  # one new target: one chunk, nothing to say
        "updated: A (status), B (status), C (status)",
    ]


def test_a_one_row_import_says_only_what_it_did(
    cli: Cli, tmp_path: Path, every_step_is_long: None
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("name,status\nAcme,Hot\n")
    assert cli("import", str(path)).stderr == "1 created, 0 updated\n"
    path.write_text("name,status\nAcme,Cold\n")
    assert cli("import", str(path)).stderr == "0 created, 1 updated\nupdated: Acme (status)\n"
