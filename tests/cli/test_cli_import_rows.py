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


STATUS_HELP = "valid: Passed, Cold, Active, Hot, Closed (or none)"


def refused(path: str, *reasons: str) -> list[str]:
    """What an import of ``path`` says of its bad rows (``line N: reason`` each, in file
    order): a line each, then the error counting them."""
    told = [f"pipetrack: {path}: {reason}" for reason in reasons]
    count = f"{len(reasons)} rows refused (above); nothing imported"
    return [*told, f"pipetrack: error: {path}: {count}"]


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
    assert cli("import", path, code=2).stderr.splitlines() == refused(
        path, "line 3: a new target needs a name", "line 4: a new target needs a name"
    )


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


def test_every_bad_row_is_told_at_once_by_its_line(cli: Cli, tmp_path: Path) -> None:
    """A sheet's bad rows are fixed in one go: each on its own line of stderr, in file
    order (a duplicate found after the bad statuses too), then the error counting them."""
    cli("add", "Acme")
    path = write(
        tmp_path,
        "name,status,markets\nBeta,Won,US\nGamma,Cold,\n,Hot,\ngamma,Cold,\nDelta,hott,EU\n",
    )
    for args in (("import", path), ("import", "--dry-run", path)):
        assert cli(*args, code=2).stderr.splitlines() == refused(
            path,
            f"line 2: unknown status 'Won'; {STATUS_HELP}",
            "line 4: a new target needs a name",
            "line 5: name 'gamma' is already on line 3; give each target one row",
            f"line 6: unknown status 'hott'; {STATUS_HELP}",
        )
    assert names(cli) == ["Acme"]


def test_past_twenty_bad_rows_the_rest_are_counted(cli: Cli, tmp_path: Path) -> None:
    rows = "".join(f"T{i},{'Won' if i % 2 else 'Hot'}\n" for i in range(60))
    lines = cli("import", write(tmp_path, "name,status\n" + rows), code=2).stderr.splitlines()
    assert len(lines) == 21 and lines[0].endswith(f"line 3: unknown status 'Won'; {STATUS_HELP}")
    assert lines[-1].endswith(": 30 rows refused (the first 20 above); nothing imported")
    assert names(cli) == []


def test_rows_of_too_many_fields_are_told_together(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, "name,status\nA,Hot,extra\nB,Cold\nC,Hot,x\n")
    assert cli("import", path, code=2).stderr.splitlines() == refused(
        path, "line 2: 3 fields, but the header names 2", "line 4: 3 fields, but the header names 2"
    )
    assert names(cli) == []


def test_a_row_of_too_many_fields_is_told_with_the_other_bad_rows(cli: Cli, tmp_path: Path) -> None:
    """A misshapen row hid every other bad row: only it was told, and the user ran the
    import again to learn of the next."""
    path = write(tmp_path, "name,status\nA2,Warm\nA3,Hot,y\nA4,Cold\n,Hot\n")
    assert cli("import", path, code=2).stderr.splitlines() == refused(
        path,
        f"line 2: unknown status 'Warm'; {STATUS_HELP}",
        "line 3: 3 fields, but the header names 2",
        "line 5: a new target needs a name",
    )
    assert names(cli) == []
