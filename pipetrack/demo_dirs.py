"""Where the demo keeps its things, and when it may reuse or wipe them.

``DATA`` (default: the platform's cache dir, ``pipetrack/demo``) holds the embedded
PostgreSQL, the server log, the instructions and ``demo.json`` (the demo's own record:
its profiles and tokens). The demo profile defaults to ``DATA-profile`` beside it, the
second device's profile to ``DATA-sam``.

A demo that finished seeding is reused by the next run; ``--fresh`` (or a run that was
interrupted while seeding) wipes it. Only directories the record names are ever wiped;
a non-empty directory the demo did not make is refused.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from protocol import InvalidInput
from syncd import AlreadyRunning, ProfileLock

RECORD = "demo.json"
READY = "ready"


def default_data_dir() -> Path:
    return platformdirs.user_cache_path("pipetrack", appauthor=False) / "demo"


def write_private(path: Path, text: str) -> None:
    """A file only its owner may read (the demo's files name tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


@dataclass(frozen=True)
class DemoDirs:
    data: Path
    home: Path
    second: Path

    @classmethod
    def choose(cls, data: Path | None, home: Path | None) -> DemoDirs:
        data = (data or default_data_dir()).expanduser().resolve()
        home = (home or data.with_name(data.name + "-profile")).expanduser().resolve()
        return cls(data=data, home=home, second=data.with_name(data.name + "-sam"))

    @property
    def postgres(self) -> Path:
        return self.data / "postgres"

    @property
    def server_log(self) -> Path:
        return self.data / "server.log"

    @property
    def sync_log(self) -> Path:
        return self.home / "sync.log"

    @property
    def instructions(self) -> Path:
        return self.data / "README.txt"

    # ---- the record -----------------------------------------------------------------
    def read(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.data / RECORD).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def write(self, **record: Any) -> dict[str, Any]:
        """Save the record (readable by its owner only: it holds tokens)."""
        record = {"home": str(self.home), "second": str(self.second), **record}
        write_private(self.data / RECORD, json.dumps(record, indent=2))
        return record

    # ---- reuse or start over ------------------------------------------------------------
    def prepare(self, fresh: bool) -> dict[str, Any] | None:
        """The record of a complete demo to reuse; else None, with every directory of an
        earlier demo wiped. InvalidInput for a non-empty directory that is not the demo's."""
        _refuse_if_synced(self.home, "a demo already runs on {path} (sync pid {pid})")
        record = self.read()
        if record is not None:
            if not fresh and record.get("state") == READY and record["home"] == str(self.home):
                return record
            # about to be wiped: the demo's profile (another --home than this run's, a
            # demo running on this data dir) and sam's, whose daemon may run on
            _refuse_if_synced(
                Path(record["home"]), "a demo already runs on {path} (sync pid {pid})"
            )
            _refuse_if_synced(
                Path(record["second"]),
                "sam's sync daemon runs on {path} (pid {pid}), which this demo would wipe",
            )
            for path in (self.data, Path(record["home"]), Path(record["second"])):
                shutil.rmtree(path, ignore_errors=True)
        for option, path in (("--data-dir", self.data), ("--home", self.home)):
            if path.exists() and any(path.iterdir()):
                raise InvalidInput(
                    option, f"{path} is not empty and holds no pipetrack demo; choose another"
                )
        return None


def _refuse_if_synced(path: Path, says: str) -> None:
    """InvalidInput (``says``, with the path and pid, "; stop it first") when a sync
    daemon holds ``path``'s profile lock: a running demo's, or sam's."""
    if not path.is_dir():
        return
    try:
        with ProfileLock(path):
            pass
    except AlreadyRunning as err:
        raise InvalidInput(
            "--home", f"{says.format(path=path, pid=err.pid)}; stop it first"
        ) from None
