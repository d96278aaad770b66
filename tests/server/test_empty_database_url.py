"""A blank database URL (``--database-url ''``, or ``PIPETRACK_DATABASE_URL=`` in an env
file) is refused in one line, exit 2, for ``serve`` and every admin command: it started
an embedded PostgreSQL in the default data dir without a word (click takes an empty
variable for an unset one), and whitespace alone was tried as a URL (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.server import free_port

from .test_admin_cli import ADMIN_COMMANDS

COMMANDS = (("serve", "--port", str(free_port())), *ADMIN_COMMANDS)


def _run(tmp_path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real command, in a HOME of its own (the default data dir is in it)."""
    environ = {k: v for k, v in os.environ.items() if k != "PIPETRACK_DATABASE_URL"}
    environ.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-m", "pipetrack", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


@pytest.mark.parametrize("blank", ["", "  "])
@pytest.mark.parametrize(
    "args", COMMANDS, ids=lambda args: args[1] if args[0] == "admin" else "serve"
)
def test_a_blank_database_url_is_refused_in_one_line(args, blank, tmp_path):
    given = _run(tmp_path, *args, "--database-url", blank, env={})
    assert given.returncode == 2, given.stderr
    assert given.stderr.strip().splitlines() == [
        f"pipetrack: error: the database URL is empty (--database-url {blank!r}): give a"
        " PostgreSQL URL, or leave the option out for the embedded database"
    ]
    from_env = _run(tmp_path, *args, env={"PIPETRACK_DATABASE_URL": blank})
    assert from_env.returncode == 2, from_env.stderr
    assert from_env.stderr.strip().splitlines() == [
        f"pipetrack: error: the database URL is empty (PIPETRACK_DATABASE_URL is set to"
        f" {blank!r}): set it to a PostgreSQL URL, or unset it for the embedded database"
    ]
    assert given.stdout == from_env.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no embedded database in the default data dir


def test_a_blank_variable_beside_a_data_dir_uses_the_data_dir(tmp_path):
    """The data dir is asked for; the variable names no database (as the tests' own
    ``PIPETRACK_DATABASE_URL=''`` does): an admin command says there is none there."""
    data_dir = tmp_path / "srv"
    for blank in ("", " "):
        run = _run(
            tmp_path,
            "admin",
            "list-users",
            "--data-dir",
            str(data_dir),
            env={"PIPETRACK_DATABASE_URL": blank},
        )
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith(f"pipetrack: error: no pipetrack server data in {data_dir} ")
