"""import FILE.csv: which rows count, and errors that name the file's lines."""

from __future__ import annotations

from pathlib import Path

from .conftest import Cli


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def names(cli: Cli) -> list[str]:
    return sorted(t["name"] for t in cli("list", "--json").json())


def test_one_target_by_name_then_by_uid_names_the_line_of_the_first(
    cli: Cli, tmp_path: Path
) -> None:
    uid = cli("add", "Acme Robotics").stdout.strip()
    path = write(
        tmp_path, f"name,status,uid\nTango Co,Cold,\nAcme Robotics,Hot,\nAcme Robotics,Cold,{uid}\n"
    )
    err = cli("import", path, code=2).error
    assert err == (
        f"pipetrack: error: {path}: line 4: target 'Acme Robotics' is already on line 3;"
        " give each target one row"
    )
    assert names(cli) == ["Acme Robotics"]  # nothing written


def test_lines_count_the_lines_inside_quoted_cells_in_both_repeat_messages(
    cli: Cli, tmp_path: Path
) -> None:
    uid = cli("add", "Acme Robotics").stdout.strip()
    rows = 'Tango Co,"two\nlines",\nAcme Robotics,,\n'
    by_uid = write(tmp_path, f"name,description,uid\n{rows}Acme Robotics,x,{uid}\n", "a.csv")
    assert (
        "line 5: target 'Acme Robotics' is already on line 4;"
        in cli("import", by_uid, code=2).error
    )
    by_name = write(tmp_path, f"name,description,uid\n{rows}ACME ROBOTICS,x,\n", "b.csv")
    assert (
        "line 5: name 'ACME ROBOTICS' is already on line 4;" in cli("import", by_name, code=2).error
    )


def test_rows_of_empty_cells_are_skipped_like_blank_lines(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "name,status,uid,markets\nAcme,Hot,,\n,,,\n,,,\n , ,,\n\nBeta,,,\n")
    assert cli("import", path).stderr == "2 created, 0 updated\n"
    assert names(cli) == ["Acme", "Beta"]


def test_a_file_of_one_row_of_empty_cells_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    assert cli("import", write(tmp_path, "name,status\n,,\n")).stderr == "0 created, 0 updated\n"


def test_rows_without_a_name_say_so_never_none(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "name,description\nAcme,x\n,only a description\n,another\n")
    err = cli("import", path, code=2).error
    assert err == f"pipetrack: error: {path}: line 3: a new target needs a name"


def test_excel_columns_and_cells_past_the_table_are_left_out(cli: Cli, tmp_path: Path) -> None:
    """Excel saves the formatted empty cells right of the table too: ``name,status,,``."""
    path = write(tmp_path, "name,status,,\nAcme,Hot,,\nBeta,,,,\n,,,\n")
    assert cli("import", path).stderr == "2 created, 0 updated\n"
    assert names(cli) == ["Acme", "Beta"]


def test_a_value_under_a_column_without_a_name_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "name,status,\nAcme,Hot,\nBeta,Cold,EU\n")
    err = cli("import", path, code=2).error
    assert err.endswith(f"{path}: line 3: 'EU' in column 3, which the header does not name")
    assert names(cli) == []
