"""Starting the TUI imports only what it needs: no PostgreSQL driver (peewee would import
psycopg at its own import), yet psycopg stays importable for the server afterwards."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT

DRIVERS = ("psycopg", "psycopg2", "psycopg_pool")


def _modules_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints a JSON value as its last line."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_storage_and_tui_loads_no_postgres_driver():
    loaded = _modules_after(
        "import json, sys, storage, tui.app\n"
        f"print(json.dumps({{n: n in sys.modules for n in {DRIVERS!r}}}))"
    )
    assert loaded == dict.fromkeys(DRIVERS, False)


def test_psycopg_still_imports_after_storage():
    found = _modules_after(
        "import json, storage, peewee, psycopg\n"
        "print(json.dumps({'connect': callable(psycopg.connect), 'peewee': peewee.psycopg}))"
    )
    assert found == {"connect": True, "peewee": None}


def test_storage_imported_after_psycopg_works():
    # The server (or a test) may import psycopg first: nothing is hidden then.
    found = _modules_after(
        "import json, tempfile, pathlib, psycopg, storage\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    with storage.Store.open(pathlib.Path(d) / 'p.db') as s:\n"
        "        s.create_target('Acme')\n"
        "        print(json.dumps(s.count_targets()))"
    )
    assert found == 1


def test_import_tui_loads_no_pydantic():
    # The wire models serve the sync daemon and the server; building them costs ~0.2 s of
    # the TUI's first paint. Storage imports them where they are built, not at its import.
    loaded = _modules_after(
        "import json, sys, tui.app\n"
        "print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in"
        " ('pydantic', 'pydantic_core') or n == 'protocol.wire')))"
    )
    assert loaded == []


def test_the_command_and_the_tui_do_not_read_package_metadata_at_start():
    # importlib.metadata (with email and zipfile) is ~15 ms of every command's start;
    # only --version and the server ask for the installed version.
    loaded = _modules_after(
        "import json, sys, pipetrack.cli, tui.app\n"
        "print(json.dumps('importlib.metadata' in sys.modules))"
    )
    assert loaded is False
