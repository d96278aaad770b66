"""One sync daemon per profile: an OS lock on ``sync.lock`` in the profile directory.

``flock`` locks belong to the open file, so the kernel drops the lock when the process
dies, however it dies; a stale lock file without a lock means nothing.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.presence import LOCK_NAME  # the store reads the pid to tell a daemon runs


class AlreadyRunning(RuntimeError):
    def __init__(self, pid: int | None) -> None:
        super().__init__(
            f"a sync daemon is already running for this profile (pid {pid or 'unknown'})"
        )
        self.pid = pid


class ProfileLock:
    """Hold with ``with ProfileLock(home):``; raises :class:`AlreadyRunning`."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise AlreadyRunning(pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None

    def __enter__(self) -> ProfileLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (ValueError, UnicodeDecodeError):
        return None
