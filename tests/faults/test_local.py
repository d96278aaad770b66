"""Bad input at the command line and in CSV files, and a damaged or full local disk.

- Bad input exits 2 with one line saying what is wrong, and writes nothing.
- A truncated or corrupted ``pipetrack.db`` gives a clear error saying what to do (exit
  1, no traceback), or still shows every target exactly: never a silent loss.
- A full disk refuses the change with a clear message and leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipetrack.cli import app
from storage import Store, StoreError
from storage.profile import Profile
from tests.storage.storehelp import pull_target

from .conftest import Figures

PIPETRACK = Path(sys.executable).parent / "pipetrack"
PAGE = 4096


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(home: Path, *args: str) -> Run:
    """The real command, in this process (fast); exceptions are failures."""
    result = CliRunner().invoke(app, ["--home", str(home), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.exit_code, result.stdout, result.stderr)


def snapshot(home: Path) -> tuple:
    """Everything a user could see of the profile: targets, histories, sync state."""
    with Store.open(Profile(home).db_path) as store:
        targets = store.list_targets()
        return (
            [(t.uid, t.name, t.description, t.markets, t.status, t.sync) for t in targets],
            [tuple((h.change_id, h.new_status) for h in store.history(t.uid)) for t in targets],
            store.sync_state().pending,
        )


def refused(run: Run, code: int, *words: str) -> None:
    """Exit ``code``, one line ``pipetrack: error: ...`` naming ``words``, no traceback."""
    assert run.code == code, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipetrack: error: "), run.err
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    """A profile with a few targets, some status changes and edits."""
    home = tmp_path / "profile"
    with Store.open(Profile(home).db_path) as store:
        for n, status in enumerate(["Cold", "Hot", None, "Active", "Closed", "Passed"]):
            uid = store.create_target(f"Target {n}", f"about {n}", ["EU", f"m{n}"], status).uid
            store.set_status(uid, "Active" if status != "Active" else "Hot", note=f"n{n}")
        store.create_target("Twin", status="Cold")
        pull_target(store, "twin")  # a teammate's of the same name, another case
    return home


# ---- CSV import ---------------------------------------------------------------------------
CSV_CASES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "latin-1 text": (b"name,status\nCaf\xe9 Noir,Hot\n", ("UTF-8", "line 2")),
    "utf-16": ("name,status\nAcme,Hot\n".encode("utf-16"), ("UTF-8",)),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ("UTF-8",)),
    "no name column": (b"status,markets\nHot,EU\n", ("name",)),
    "empty file": (b"", ("empty",)),
    "a column twice": (b"name,status,name\nAcme,Hot,Acme\n", ("twice",)),
    "unknown column": (b"name,owner\nAcme,bob\n", ("owner",)),
    "too many fields": (b"name,status\nAcme,Hot,extra\n", ("line 2",)),
    "bad status on line 4": (b"name,status\nA,Hot\nB,Cold\nC,Lukewarm\n", ("line 4", "Lukewarm")),
    "name too long": (b"name\nA\n" + b"x" * 300 + b"\n", ("line 3", "255")),
    "NUL in a cell": (b"name,status\nA\x00B,Hot\n", ()),
    "unterminated quote": (b'name,description\nA,"never closed\n', ()),
    "name of several targets": (b"name,status\ntwin,Closed\n", ("twin",)),
}


@pytest.mark.parametrize("label", sorted(CSV_CASES))
def test_a_bad_csv_exits_2_naming_the_problem_and_writes_nothing(
    profile: Path, tmp_path: Path, label: str
):
    data, words = CSV_CASES[label]
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    before = snapshot(profile)
    refused(cli(profile, "import", str(path)), 2, *words)
    assert snapshot(profile) == before


def test_a_csv_naming_one_new_target_twice_exits_2(profile: Path, tmp_path: Path):
    path = tmp_path / "twice.csv"
    path.write_text("name,status\nNew Co,Hot\nNew Co,Cold\n")
    before = snapshot(profile)
    refused(cli(profile, "import", str(path)), 2, "New Co")
    assert snapshot(profile) == before


# ---- the command line ---------------------------------------------------------------------
CLI_CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "empty name": (("add", "  "), ("empty",)),
    "name too long": (("add", "x" * 256), ("255",)),
    "escape sequence in name": (("add", "\x1b[31mred"), ("control",)),
    "unknown status": (("set", "Target 0", "Lukewarm"), ("Lukewarm",)),
    "unknown target": (("set", "Nobody", "Hot"), ("Nobody",)),
    "ambiguous target": (("set", "twin", "Hot"), ("twin",)),
    "note too long": (("set", "Target 0", "Hot", "--note", "n" * 1001), ("1000",)),
    "market with ';'": (("edit", "Target 0", "--market", "a;b"), (";",)),
    "market too long": (("edit", "Target 0", "--market", "m" * 65), ("64",)),
    "33 markets": (("edit", "Target 0", *[f"-m=m{i}" for i in range(33)]), ("32",)),
    "description too long": (("edit", "Target 0", "-d", "d" * 10_001), ("10000",)),
    "resolve nothing": (("resolve", "0000", "--mine"), ()),
    "unknown option": (("list", "--colour"), ("colour",)),
}


@pytest.mark.parametrize("label", sorted(CLI_CASES))
def test_bad_command_line_input_exits_2_and_writes_nothing(profile: Path, label: str):
    args, words = CLI_CASES[label]
    before = snapshot(profile)
    refused(cli(profile, *args), 2, *words)
    assert snapshot(profile) == before


# ---- a damaged database file ---------------------------------------------------------------
def damaged_outcome(home: Path, expected: tuple) -> str:
    """ "refused" (a StoreError saying what to do), "intact" (everything still there);
    anything else fails the test."""
    try:
        seen = snapshot(home)
    except StoreError as err:  # names the file and what to do about it
        assert str(Profile(home).db_path) in str(err), str(err)
        assert "move it aside" in str(err) or "restore it" in str(err).lower(), str(err)
        return "refused"
    assert seen == expected, "the damaged file silently shows other data"
    return "intact"


@pytest.mark.slow
def test_every_corrupted_page_is_refused_clearly_or_harmless(
    profile: Path, tmp_path: Path, figures: Figures
):
    db = Profile(profile).db_path
    expected = snapshot(profile)
    original = db.read_bytes()
    pages = len(original) // PAGE
    damaged = tmp_path / "damaged"
    counts = {"refused": 0, "intact": 0}
    for page in range(pages):
        shutil.rmtree(damaged, ignore_errors=True)
        damaged.mkdir()
        garbage = bytes((page * 7 + i * 13) % 251 for i in range(PAGE))
        damaged_db = Profile(damaged).db_path
        damaged_db.write_bytes(original[: page * PAGE] + garbage + original[(page + 1) * PAGE :])
        counts[damaged_outcome(damaged, expected)] += 1
    figures["rounds"] = pages
    figures.update(counts)
    assert counts["refused"] > 0


TRUNCATIONS = {"empty": 0, "100 bytes": 100, "one page": PAGE, "half": None, "all but one page": -1}


@pytest.mark.parametrize("label", list(TRUNCATIONS))
def test_a_truncated_database_is_refused_clearly(profile: Path, label: str):
    db = Profile(profile).db_path
    size = db.stat().st_size
    keep = TRUNCATIONS[label]
    keep = size // 2 if keep is None else (size - PAGE if keep == -1 else keep)
    with db.open("r+b") as fh:
        fh.truncate(keep)
    assert damaged_outcome(profile, ()) == "refused"


def test_the_command_on_a_damaged_database_says_what_to_do_without_a_traceback(
    profile: Path,
):
    db = Profile(profile).db_path
    with db.open("r+b") as fh:
        fh.truncate(db.stat().st_size // 2)
    for args in (("list",), ("set", "Target 0", "Hot")):
        run = subprocess.run(
            [str(PIPETRACK), "--home", str(profile), *args], capture_output=True, text=True
        )
        refused(Run(run.returncode, run.stdout, run.stderr), 1, "move it aside")
        assert "Traceback" not in run.stderr


# ---- a full disk ----------------------------------------------------------------------------
class SmallDisk:
    """A 2 MiB tmpfs mounted at ``path`` in a private mount namespace (``unshare``); run
    commands inside it with :meth:`run`. Gone when the holder process ends."""

    def __init__(self, path: Path, size: str = "2m") -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        mount = f"mount -t tmpfs -o size={size},mode=0700 tmpfs '{path}'"
        script = f"{mount} && echo ready && exec sleep 600"
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != "ready":
            self.close()
            raise OSError(f"cannot mount a tmpfs here: {self.holder.stderr.read()}")

    def run(self, *cmd: str) -> Run:
        proc = subprocess.run(
            ["nsenter", "-t", str(self.holder.pid), "-m", "--", *cmd],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def pipetrack(self, *args: str) -> Run:
        return self.run(str(PIPETRACK), "--home", str(self.path / "profile"), *args)

    def close(self) -> None:
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait(10)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    if shutil.which("unshare") is None or shutil.which("nsenter") is None:
        pytest.skip("needs unshare and nsenter to mount a small tmpfs")
    try:
        disk = SmallDisk(tmp_path / "disk")
    except OSError as err:
        pytest.skip(str(err))
    try:
        yield disk
    finally:
        disk.close()


#: Run inside the small disk's namespace: the profile as a user would see it, as JSON.
SHOW = """
import json, sys
from storage import Store
from storage.profile import Profile
with Store.open(Profile(sys.argv[1]).db_path) as store:
    targets = store.list_targets()
    print(json.dumps({
        "targets": [(t.name, t.status) for t in targets],
        "history": [[h.new_status for h in store.history(t.uid)] for t in targets],
        "pending": store.sync_state().pending,
    }))
"""


def test_a_full_disk_refuses_the_change_clearly_and_half_writes_nothing(
    small_disk: SmallDisk, figures: Figures
):
    home = str(small_disk.path / "profile")
    first = small_disk.pipetrack("add", "First", "--status", "Hot", "--json")
    assert first.code == 0, first.err
    uid = json.loads(first.out)["uid"]
    fill = small_disk.run("dd", "if=/dev/zero", f"of={small_disk.path}/filler", "bs=64k")
    assert fill.code != 0 and "No space left" in fill.err, fill.err  # the disk is full now
    with ThreadPoolExecutor(2) as pool:  # two users, each refused
        runs = list(
            pool.map(
                lambda args: small_disk.pipetrack(*args),
                [("add", "Second", "--status", "Cold"), ("set", uid, "Closed", "--note", "x")],
            )
        )
    for run in runs:
        refused(run, 1, "full")
        assert "Traceback" not in run.err
    assert small_disk.run("rm", f"{small_disk.path}/filler").code == 0
    shown = small_disk.run(sys.executable, "-c", SHOW, home)
    assert shown.code == 0, shown.err
    assert json.loads(shown.out) == {
        "targets": [["First", "Hot"]],
        "history": [["Hot"]],
        "pending": 1,
    }
    again = small_disk.pipetrack("set", uid, "Closed")
    assert again.code == 0, again.err  # space again: the same change goes through
    figures["rounds"] = 1
    figures["refused_when_full"] = len(runs)
