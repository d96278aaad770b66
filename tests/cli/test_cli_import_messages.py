"""import FILE.csv: error messages show the file as the user wrote it."""

from __future__ import annotations

from pathlib import Path

from .conftest import Cli


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_header_without_name_shows_the_columns_as_written(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "Company,Notes,Region,Stage\nAcme,x,EU,Hot\n")
    assert cli("import", path, code=2).error == (
        f"pipetrack: error: {path}: line 1: no 'name' column in the header"
        " (found: 'Company', 'Notes', 'Region', 'Stage')"
    )


def test_an_unknown_column_is_shown_as_written(cli: Cli, tmp_path: Path) -> None:
    err = cli("import", write(tmp_path, "Name,Stage\nAcme,Hot\n"), code=2).error
    assert "unknown column 'Stage' in the header" in err


def test_a_column_named_twice_is_named(cli: Cli, tmp_path: Path) -> None:
    err = cli("import", write(tmp_path, "name,status,Status\nAcme,Hot,Cold\n"), code=2).error
    assert err.endswith(
        "line 1: the header names the column 'status' twice (as 'status' and 'Status')"
    )
    err = cli("import", write(tmp_path, "name,markets,markets\nAcme,EU,US\n"), code=2).error
    assert err.endswith("line 1: the header names the column 'markets' twice")
