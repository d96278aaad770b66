"""Ctrl-C during a large import: its progress lines said "written 40,000 of 100,000",
then nothing; a user took 40,000 rows for imported. Now it says none was."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from storage import Store

from .conftest import SCRIPT


def test_ctrl_c_during_an_import_says_nothing_was_imported(home: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "big.csv"
    sheet.write_text("name,status\n" + "".join(f"Lead {i},Cold\n" for i in range(60_000)))
    proc = subprocess.Popen(
        [str(SCRIPT), "import", str(sheet)],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines = [proc.stderr.readline()]
    while "written" not in lines[-1] and lines[-1]:
        lines.append(proc.stderr.readline())
    assert "written" in lines[-1], lines  # writing, inside its one transaction
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(60) == 130
    assert rest.strip().splitlines()[-1] == (
        "interrupted: nothing imported (an import is all or none)"
    ), rest
    with Store.open(home / "pipetrack.db") as store:
        assert store.list_targets() == [] and store.sync_state().pending == 0
