"""export FILE says how many targets it wrote, in words that agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Cli


@pytest.mark.parametrize(
    ("names", "words"), [((), "0 targets"), (("Acme",), "1 target"), (("A", "B"), "2 targets")]
)
def test_export_counts_in_the_singular_for_one(
    cli: Cli, tmp_path: Path, names: tuple[str, ...], words: str
) -> None:
    for name in names:
        cli("add", name)
    out = tmp_path / "x.csv"
    assert cli("export", str(out)).stderr == f"exported {words} to {out}\n"
