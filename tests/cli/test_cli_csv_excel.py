"""export --excel never hands Excel a formula (CSV injection); import undoes its mark."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from .conftest import Cli, counts

#: Names a spreadsheet would run: a formula, a sum, a DDE call, an @-function.
FORMULAS = ["=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1:A9)"]


@pytest.fixture
def dangerous(cli: Cli) -> list[dict]:
    for name in FORMULAS:
        cli("add", "-d", '=HYPERLINK("http://evil")', "--market=-EU", "-s", "Hot", "--", name)
    cli("add", "Acme", "-d", "plain - text", "-m", "EU")
    return cli("list", "--json").json()


def rows(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))


def test_export_for_excel_marks_formula_cells_as_text(cli: Cli, dangerous: list[dict]) -> None:
    exported = rows(cli("export", "--excel").stdout)
    by_name = {r["name"]: r for r in exported}
    assert set(by_name) == {"'" + name for name in FORMULAS} | {"Acme"}
    for name in FORMULAS:
        row = by_name["'" + name]
        assert row["description"] == '\'=HYPERLINK("http://evil")'
        assert row["markets"] == "'-EU"
        assert row["status"] == "Hot"
    assert by_name["Acme"]["description"] == "plain - text"  # not at the start: as it is
    assert by_name["Acme"]["markets"] == "EU"


def test_plain_export_writes_cells_as_they_are(cli: Cli, dangerous: list[dict]) -> None:
    names = {r["name"] for r in rows(cli("export").stdout)}
    assert names == set(FORMULAS) | {"Acme"}


@pytest.mark.parametrize("flags", [("--excel",), ("--excel", "--semicolons"), ()])
def test_an_excel_export_imports_back_as_it_was(
    cli: Cli, dangerous: list[dict], tmp_path: Path, flags: tuple[str, ...]
) -> None:
    out = tmp_path / "out.csv"
    cli("export", str(out), *flags)
    other = tmp_path / "other"
    cli("--home", str(other), "import", str(out))
    keys = ("uid", "name", "description", "markets", "status")
    copied = cli("--home", str(other), "list", "--json").json()
    assert [[t[k] for k in keys] for t in copied] == [[t[k] for k in keys] for t in dangerous]
    # and into the same profile: nothing to change
    assert counts(cli("import", str(out), "--json").json()) == (0, 0)


def test_import_takes_off_only_a_mark_before_a_formula_character(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "name,description\n'=A1,'quoted\n'Tis the season,'-x\n''=y,\n", encoding="utf-8"
    )
    cli("import", str(path))
    got = {t["name"]: t["description"] for t in cli("list", "--json").json()}
    assert got == {"=A1": "'quoted", "'Tis the season": "-x", "''=y": ""}
