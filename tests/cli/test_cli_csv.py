"""import FILE.csv and export [FILE]: all or nothing, line numbers, round trips."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipetrack.commands import csv_io
from pipetrack.commands.csv_io import COLUMNS, parse_csv

from .conftest import Cli, counts


def write(tmp_path: Path, text: str, name: str = "in.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def targets(cli: Cli) -> list[dict]:
    return cli("list", "--json").json()


GOOD = """name,description,markets,status
Acme,Rockets,space;EU,hot
Globex,,EU,Cold
Initech,"Printers, staplers",,
"""


def test_import_creates_every_row(cli: Cli, tmp_path: Path) -> None:
    run = cli("import", write(tmp_path, GOOD))
    assert "3 created" in run.stderr
    got = {t["name"]: t for t in targets(cli)}
    assert set(got) == {"Acme", "Globex", "Initech"}
    assert got["Acme"]["markets"] == ["space", "EU"] and got["Acme"]["status"] == "Hot"
    assert got["Initech"]["description"] == "Printers, staplers"
    assert got["Initech"]["status"] is None


def test_a_large_import_says_it_started(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, GOOD)
    assert "importing" not in cli("import", path).stderr  # 3 rows: just the counts
    monkeypatch.setattr(csv_io, "LARGE_IMPORT_ROWS", 3)
    first, counts = cli("import", path).stderr.splitlines()
    assert first == f"importing 3 rows from {path} (all or none)…" and counts.startswith("0 c")


def test_a_large_import_says_how_far_it_got(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.importer

    monkeypatch.setattr(storage.importer, "WRITE_CHUNK", 2)
    monkeypatch.setattr(csv_io, "PROGRESS_S", 0)  # every step counts as long
    lines = cli("import", write(tmp_path, GOOD)).stderr.splitlines()
    assert lines == [
        "written 2 of 3 new targets…",
        "written 3 of 3 new targets…",
        "3 created, 0 updated",
    ]


def test_reimport_does_not_duplicate(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    cli("import", path)
    again = cli("import", path, "--json").json()
    assert counts(again) == (0, 0)
    assert len(targets(cli)) == 3


def test_reimport_updates_what_changed(cli: Cli, tmp_path: Path) -> None:
    cli("import", write(tmp_path, GOOD))
    changed = GOOD.replace("Globex,,EU,Cold", "Globex,,EU,Active")
    assert cli("import", write(tmp_path, changed, "b.csv"), "--json").json()["updated"] == 1
    assert {t["name"]: t["status"] for t in targets(cli)}["Globex"] == "Active"


def test_header_is_case_and_order_insensitive(cli: Cli, tmp_path: Path) -> None:
    cli("import", write(tmp_path, "Status, NAME\nhot,Acme\n"))
    assert [(t["name"], t["status"]) for t in targets(cli)] == [("Acme", "Hot")]


def test_utf8_bom_is_accepted(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffname\nSociété Générale\n".encode())
    cli("import", str(path))
    assert targets(cli)[0]["name"] == "Société Générale"


def test_a_windows_spreadsheet_with_lines_inside_a_cell_is_read(cli: Cli, tmp_path: Path) -> None:
    """Excel on Windows ends every line, those inside a quoted cell too, with \r\n."""
    path = tmp_path / "excel.csv"
    path.write_bytes(b'name,description\r\nAcme,"line one\r\nline two"\r\nBeta,"a\rb"\r\n')
    cli("import", str(path))
    assert [t["description"] for t in targets(cli)] == ["line one\nline two", "a\nb"]
    path.write_bytes(b'name,description,status\r\nGamma,"x\r\ny",Hot\r\nDelta,,Lukewarm\r\n')
    assert "excel.csv: line 4: unknown status 'Lukewarm'" in cli("import", str(path), code=2).error


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_spreadsheet_of_another_locale_is_read(cli: Cli, tmp_path: Path, sep: str) -> None:
    """Excel set up for much of Europe saves "CSV" with semicolons; some tools save tabs.
    A cell holding the separator is quoted, markets included."""
    path = tmp_path / "europe.csv"
    header = sep.join(["Name", "description", "markets", "status"])
    rows = [
        sep.join(["Acme", "Robots", "EU", "Hot"]),
        sep.join(["Globex", '"Big; corp"', '"EU;US"', "cold"]),
    ]
    path.write_bytes("\r\n".join([header, *rows, ""]).encode())
    assert "2 created" in cli("import", str(path)).stderr
    got = {t["name"]: t for t in targets(cli)}
    assert (got["Acme"]["status"], got["Acme"]["markets"]) == ("Hot", ["EU"])
    assert got["Globex"]["description"] == "Big; corp"
    assert (got["Globex"]["status"], got["Globex"]["markets"]) == ("Cold", ["EU", "US"])


def test_bad_encoding_names_the_line_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name\nAcme\nSociété\n".encode("latin-1"))
    err = cli("import", str(path), code=2).error
    assert "line 3" in err and "'CSV UTF-8'" in err and str(path) in err
    assert targets(cli) == []


def test_missing_name_column_exits_2(cli: Cli, tmp_path: Path) -> None:
    err = cli("import", write(tmp_path, "title,status\nAcme,Hot\n"), code=2).error
    assert "'name'" in err
    assert targets(cli) == []


def test_unknown_column_exits_2_listing_the_known_ones(cli: Cli, tmp_path: Path) -> None:
    err = cli("import", write(tmp_path, "name,markts\nAcme,EU\n"), code=2).error
    assert "'markts'" in err and ", ".join(COLUMNS) in err
    assert targets(cli) == []


def test_a_bad_row_names_its_line_and_nothing_is_written(cli: Cli, tmp_path: Path) -> None:
    text = "name,status\nAcme,Hot\nGlobex,Cold\nInitech,Warm\nUmbrella,Active\n"
    err = cli("import", write(tmp_path, text), code=2).error
    assert "line 4" in err and "'Warm'" in err
    assert targets(cli) == []


def test_line_numbers_count_multiline_fields_and_blank_lines(cli: Cli, tmp_path: Path) -> None:
    text = 'name,description\nAcme,"two\nlines"\n\nGlobex,ok\n' + "x" * 300 + ",too long\n"
    err = cli("import", write(tmp_path, text), code=2).error
    assert "line 6" in err and "255" in err
    assert targets(cli) == []


def test_a_name_twice_names_both_lines(cli: Cli, tmp_path: Path) -> None:
    text = "name,status\nMike One,Hot\n\nGlobex,Cold\nmike one,Active\n"
    err = cli("import", write(tmp_path, text), code=2).error
    assert err.endswith("line 5: name 'mike one' is already on line 2; give each target one row")
    assert targets(cli) == []


def test_a_row_with_too_many_fields_exits_2(cli: Cli, tmp_path: Path) -> None:
    err = cli("import", write(tmp_path, "name,status\nAcme,Hot\nGlobex,Cold,extra\n"), code=2).error
    assert "line 3" in err and "3 fields" in err
    assert targets(cli) == []


def test_an_unterminated_quote_exits_2(cli: Cli, tmp_path: Path) -> None:
    cli("import", write(tmp_path, 'name\n"Acme\n'), code=2)
    assert targets(cli) == []


@pytest.mark.parametrize("text", ["", "\n"], ids=["empty", "blank"])
def test_an_empty_file_exits_2(cli: Cli, tmp_path: Path, text: str) -> None:
    assert "empty" in cli("import", write(tmp_path, text), code=2).error


def test_a_missing_file_exits_2(cli: Cli, tmp_path: Path) -> None:
    assert "nope.csv" in cli("import", str(tmp_path / "nope.csv"), code=2).error


def test_a_uid_column_keys_the_import(cli: Cli, tmp_path: Path) -> None:
    uid = cli("add", "Acme").stdout.strip()
    cli("import", write(tmp_path, f"uid,name,status\n{uid},Acme Renamed,Hot\n,Globex,\n"))
    got = {t["uid"]: t for t in targets(cli)}
    assert len(got) == 2
    assert (got[uid]["name"], got[uid]["status"]) == ("Acme Renamed", "Hot")


def test_parse_csv_rows_and_start_lines() -> None:
    parsed = parse_csv('name,markets\n\nA,"x;y"\n"B\nb",\n', "f.csv")
    assert parsed.rows == [{"name": "A", "markets": "x;y"}, {"name": "B\nb", "markets": ""}]
    assert parsed.lines == [3, 4]


# ---- export ------------------------------------------------------------------------------
@pytest.fixture
def filled(cli: Cli, tmp_path: Path) -> list[dict]:
    cli("import", write(tmp_path, GOOD + 'Umbrella,"multi\nline, ""quoted""",bio,Closed\n'))
    return targets(cli)


def test_export_for_excel_to_stdout_starts_with_a_byte_order_mark(
    cli: Cli, filled: list[dict]
) -> None:
    text = cli("export", "--excel", "--semicolons").stdout
    assert text.startswith("\ufeffname;description;markets;status;uid\n")
    assert len(list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))) == 5


def test_export_to_stdout_has_every_column(cli: Cli, filled: list[dict]) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("export").stdout)))
    assert tuple(rows[0]) == COLUMNS
    by_uid = {r["uid"]: r for r in rows}
    assert set(by_uid) == {t["uid"] for t in filled}
    acme = next(r for r in rows if r["name"] == "Acme")
    assert (acme["markets"], acme["status"], acme["description"]) == ("space;EU", "Hot", "Rockets")


@pytest.mark.parametrize(
    "flags", [(), ("--excel",), ("--semicolons",), ("--excel", "--semicolons")]
)
def test_export_import_round_trips_into_another_profile(
    cli: Cli, filled: list[dict], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    out = tmp_path / "out.csv"
    assert "4 targets" in cli("export", str(out), *flags).stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeffname" if "--excel" in flags else "name")
    assert text.splitlines()[0].endswith(";uid" if "--semicolons" in flags else ",uid")
    other = tmp_path / "other"
    cli("--home", str(other), "import", str(out))
    copied = cli("--home", str(other), "list", "--json").json()
    keys = ("uid", "name", "description", "markets", "status")
    assert [[t[k] for k in keys] for t in copied] == [[t[k] for k in keys] for t in filled]


def test_export_then_import_into_the_same_profile_changes_nothing(
    cli: Cli, filled: list[dict], tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    cli("export", str(out))
    assert counts(cli("import", str(out), "--json").json()) == (0, 0)
    assert targets(cli) == filled


def test_export_to_a_directory_not_there_exits_2(
    cli: Cli, filled: list[dict], tmp_path: Path
) -> None:
    err = cli("export", str(tmp_path / "no" / "such" / "out.csv"), code=2).error
    assert f"no directory {tmp_path / 'no' / 'such'} to write out.csv in" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "profile"]


def test_export_to_a_directory_exits_2_and_leaves_nothing_beside_it(
    cli: Cli, filled: list[dict], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    err = cli("export", str(tmp_path / "out"), code=2).error
    assert f"{tmp_path / 'out'} is a directory" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out", "profile"]


def test_export_where_no_file_can_be_made_exits_1_naming_the_file(
    cli: Cli, filled: list[dict]
) -> None:
    # /proc takes no new files, even from root: the error is the user's path, not a temp
    err = cli("export", "/proc/pipetrack-export.csv", code=1).error
    assert err.endswith(": /proc/pipetrack-export.csv") and ".tmp" not in err


def test_a_failed_export_keeps_the_old_file_and_leaves_nothing_beside_it(
    cli: Cli, filled: list[dict], tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("the old export\n")

    def disk_full():  # the fault: the disk fills after the first row
        yield SimpleNamespace(name="A", description="", markets=[], status=None, uid="u")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as err:
        csv_io._write_whole(out, "utf-8", disk_full(), ",")  # noqa: SLF001
    assert (err.value.strerror, err.value.filename) == ("No space left on device", str(out))
    assert out.read_text() == "the old export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "profile"]


def test_dash_is_standard_output_for_export_and_standard_input_for_import(
    cli: Cli, filled: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    text = cli("export", "-").stdout
    assert text == cli("export").stdout and text.startswith("name,")
    assert not (tmp_path / "-").exists()
    other = str(tmp_path / "other")
    run = cli("--home", other, "import", "-", "--json", input=text)
    assert counts(run.json()) == (4, 0)
    keys = ("uid", "name", "description", "markets", "status")
    copied = cli("--home", other, "list", "--json").json()
    assert [[t[k] for k in keys] for t in copied] == [[t[k] for k in keys] for t in filled]


def test_a_bad_row_from_standard_input_names_stdin(cli: Cli) -> None:
    err = cli("import", "-", input="name,status\nAcme,Warm\n", code=2).error
    assert err.startswith("pipetrack: error: stdin: line 2: ")
    assert targets(cli) == []


def test_a_market_with_the_csv_separator_is_refused(cli: Cli) -> None:
    # ';' separates markets in a CSV cell, so export -> import could not round-trip it.
    err = cli("add", "Acme", "-m", "EMEA;APAC", code=2).error
    assert "'EMEA;APAC'" in err and "';'" in err
    assert cli("list", "--json").json() == []
