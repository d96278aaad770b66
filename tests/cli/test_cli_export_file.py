"""export FILE over a file that is there: the file the path names gets the export (a
symlink's target), with its permission bits; a read-only one is refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from .conftest import Cli


@pytest.fixture
def acme(cli: Cli) -> None:
    cli("add", "Acme Robotics", "--status", "Hot")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_export_over_a_private_file_keeps_it_private(cli: Cli, acme: None, tmp_path: Path) -> None:
    out = tmp_path / "pipeline.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    cli("export", str(out))
    assert mode(out) == 0o600
    assert "Acme Robotics" in out.read_text()


def test_export_to_a_new_file_gets_the_usual_mode(cli: Cli, acme: None, tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        cli("export", str(tmp_path / "new.csv"))
    finally:
        os.umask(umask)
    assert mode(tmp_path / "new.csv") == 0o644


def test_export_through_a_symlink_writes_the_linked_file(
    cli: Cli, acme: None, tmp_path: Path
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    real = share / "real.csv"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "pipeline.csv"
    link.symlink_to(Path("share") / "real.csv")
    assert cli("export", str(link)).stderr == f"exported 1 target to {link}\n"
    assert link.is_symlink() and os.readlink(link) == str(Path("share") / "real.csv")
    assert "Acme Robotics" in real.read_text() and mode(real) == 0o640
    assert sorted(p.name for p in share.iterdir()) == ["real.csv"]  # no temp file left


def test_export_through_a_dangling_symlink_creates_the_linked_file(
    cli: Cli, acme: None, tmp_path: Path
) -> None:
    (tmp_path / "share").mkdir()
    link = tmp_path / "pipeline.csv"
    link.symlink_to(tmp_path / "share" / "real.csv")
    cli("export", str(link))
    assert link.is_symlink() and "Acme Robotics" in (tmp_path / "share" / "real.csv").read_text()


def test_export_over_a_read_only_file_exits_2_and_changes_nothing(
    cli: Cli, acme: None, tmp_path: Path
) -> None:
    out = tmp_path / "pipeline.csv"
    out.write_text("kept\n")
    out.chmod(0o444)
    err = cli("export", str(out), code=2).error
    assert err == (
        f"pipetrack: error: {out} is read-only: nothing exported; make it writable first"
        " (chmod u+w), or export to another file"
    )
    assert out.read_text() == "kept\n" and mode(out) == 0o444
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.csv", "profile"]


def test_export_to_a_named_pipe_writes_into_it_and_leaves_it_a_pipe(
    cli: Cli, acme: None, tmp_path: Path
) -> None:
    """Not a regular file (a pipe, ``/dev/stdout``, ``/dev/null``): written into, as a
    shell's ``>`` does; a rename put a regular file in its place (as root even over
    ``/dev/null``)."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # the export fits in its buffer
    try:
        cli("export", str(pipe))
        assert stat.S_ISFIFO(pipe.stat().st_mode)
        assert b"Acme Robotics" in os.read(reader, 65536)
    finally:
        os.close(reader)


def test_a_writable_file_in_a_directory_that_takes_no_new_file_is_written_in_place(
    cli: Cli, acme: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of yours in a shared folder you may not add files to (root may add files
    anywhere, so the folder's refusal is played by mkstemp)."""
    import tempfile

    def no_new_file(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    out = tmp_path / "pipeline.csv"
    out.write_text("old\n")
    monkeypatch.setattr(tempfile, "mkstemp", no_new_file)
    cli("export", str(out))
    assert "Acme Robotics" in out.read_text()
