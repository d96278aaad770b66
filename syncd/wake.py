"""Noticing local writes: file events on the profile directory (watchdog).

A write by the TUI or the CLI commits to ``pipetrack.db-wal`` (or ``pipetrack.db``), and
``pipetrack login`` replaces ``token``; each calls its callback from watchdog's thread.
When file events are unavailable (no inotify, watch limit reached) :meth:`start`
returns False and the daemon falls back to polling ``Store.data_version()``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from storage.profile import DB_NAME, TOKEN_NAME

log = logging.getLogger("syncd")

DB_FILES = frozenset({DB_NAME, DB_NAME + "-wal"})
#: Event types that mean "written" (not "opened" / "closed_no_write", which reads cause).
WRITE_EVENTS = frozenset({"modified", "created", "moved", "closed"})


class _Handler(FileSystemEventHandler):
    def __init__(self, on_db: Callable[[], None], on_token: Callable[[], None]) -> None:
        self.on_db = on_db
        self.on_token = on_token

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in WRITE_EVENTS:
            return
        names = {os.path.basename(os.fsdecode(event.src_path))}
        if event.dest_path:
            names.add(os.path.basename(os.fsdecode(event.dest_path)))
        if names & DB_FILES:
            self.on_db()
        if TOKEN_NAME in names:
            self.on_token()


class ProfileWatcher:
    def __init__(self, home: Path, on_db: Callable[[], None], on_token: Callable[[], None]) -> None:
        self.home = Path(home)
        self._handler = _Handler(on_db, on_token)
        self._observer: Observer | None = None  # type: ignore[valid-type]

    def start(self) -> bool:
        """Start watching; False when file events are unavailable here."""
        observer = Observer()
        try:
            observer.schedule(self._handler, str(self.home), recursive=False)
            observer.start()
        except OSError as err:
            log.warning("file events unavailable (%s); polling the database instead", err)
            return False
        self._observer = observer
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
