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


def test_an_excel_workbook_is_named_as_one(cli: Cli, tmp_path: Path) -> None:
    """An .xlsx is a zip: its bytes are no text, and 'line 2: not UTF-8' misled."""
    import zipfile

    path = tmp_path / "pipeline.xlsx"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>" + "\x85" * 50)
    assert cli("import", str(path), code=2).error == (
        f"pipetrack: error: {path}: an Excel workbook (.xlsx), not CSV text; save it as CSV"
        " (in Excel: Save As, 'CSV UTF-8')"
    )


def test_an_old_excel_workbook_is_named_as_one(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00\x85" * 100)
    assert (
        "an Excel 97-2003 workbook (.xls), not CSV text" in cli("import", str(path), code=2).error
    )


def test_import_help_says_an_empty_cell_keeps_the_value_and_how_to_clear(cli: Cli) -> None:
    text = " ".join(cli("import", "--help").stdout.replace("│", " ").split())
    assert "An empty cell keeps what the target has" in text
    assert "write none in its cell (or run pipetrack set TARGET none)" in text


def test_an_empty_cell_keeps_the_value_and_none_clears_the_status(cli: Cli, tmp_path: Path) -> None:
    cli("import", write(tmp_path, "name,description,status\nAcme,Rockets,Hot\n"))
    cli("import", write(tmp_path, "name,description,status\nAcme,,\n"))
    [acme] = cli("list", "--json").json()
    assert (acme["description"], acme["status"]) == ("Rockets", "Hot")
    cli("import", write(tmp_path, "name,description,status\nAcme,,none\n"))
    [acme] = cli("list", "--json").json()
    assert (acme["description"], acme["status"]) == ("Rockets", None)
