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


def test_other_files_that_are_not_csv_are_named_with_how_to_make_csv_of_them(
    cli: Cli, tmp_path: Path
) -> None:
    """A zip that is no workbook was called an Excel workbook; an .ods got Excel's advice;
    a CRM's HTML or XML ".xls" got its whole first line quoted as columns found."""
    import zipfile

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as box:
        box.writestr("pipeline.csv", "name\nAcme\n")
    ods = tmp_path / "sheet.ods"
    ods.write_bytes(
        b"PK\x03\x04" + b"\0" * 26 + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
    )
    html = tmp_path / "crm.xls"
    html.write_text("\n<html><body><table><tr><td>name</td></tr></table></body></html>\n")
    xml = tmp_path / "old.xls"
    xml.write_text('<?xml version="1.0"?>\n<Workbook/>\n')
    said = {path.name: cli("import", str(path), code=2).error for path in (archive, ods, html, xml)}
    assert said["export.zip"].endswith(
        "a zip archive, not CSV text; unpack it, or save the sheet as CSV"
    )
    assert said["sheet.ods"].endswith("(in LibreOffice: File, Save a Copy, 'Text CSV', UTF-8)")
    assert "a web page (HTML, as some tools save '.xls' files), not CSV text" in said["crm.xls"]
    assert "an XML file (an Excel 2003 XML sheet?), not CSV text" in said["old.xls"]
    assert cli("list", "--json").json() == []


def test_an_imports_json_lists_what_it_changed(cli: Cli, tmp_path: Path) -> None:
    """A script could not see which targets a real import updated."""
    cli("import", write(tmp_path, "name,status\nAcme,Hot\n"))
    done = cli("import", write(tmp_path, "name,status\nAcme,Cold\nBeta,Active\n"), "--json").json()
    assert (done["created"], done["updated"], done["dry_run"]) == (1, 1, False)
    [update] = done["updates"]
    assert (update["line"], update["name"], update["changes"]) == (
        2,
        "Acme",
        {"status": {"old": "Hot", "new": "Cold"}},
    )
    assert [(n["line"], n["name"]) for n in done["new"]] == [(3, "Beta")]
