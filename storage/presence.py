"""Whether a sync process (``pipetrack sync``) runs on a profile.

The daemon holds an OS lock on ``sync.lock`` and writes its pid into it (syncd/lock.py).
This probe only reads: taking the lock to test it, even for an instant, could make a
daemon starting at that moment refuse to run. A pid alone could have been reused by an
unrelated process since, so the process must also have the lock file open.
"""

from __future__ import annotations

from pathlib import Path

LOCK_NAME = "sync.lock"


def sync_process_pid(home: Path) -> int | None:
    """The pid of the sync process running on the profile at ``home``; None: none runs."""
    lock = Path(home) / LOCK_NAME
    try:
        pid = int(lock.read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0:
        return None
    import psutil  # only when there is a pid to look at

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        target = lock.resolve()
        return pid if any(Path(f.path) == target for f in process.open_files()) else None
    except psutil.NoSuchProcess:
        return None
    except psutil.AccessDenied:  # another user's process: trust the pid
        return pid
