"""A stand-in for the TUI: a separate process making random changes on a profile's store
as fast as a very busy user, for the concurrent-writers test.

``python -m tests.faults.writer_proc HOME SECONDS SEED TAG OUT.json`` writes
``{"ops": {uid: [[op, status], ...]}, "errors": [...], "changes": n, "slowest_s": s}``:
every error a user would have seen (a :class:`storage.StoreError` such as "database is
locked") and the longest a change took to save.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from storage import Store, StoreError
from storage.profile import Profile

from .ledger import RandomUser

#: Up to this long between two changes: a very busy user, not a loop holding the lock.
PAUSE_S = 0.02


def main(home: str, seconds: str, seed: str, tag: str, out: str) -> None:
    errors: list[str] = []
    rng = random.Random(int(seed))
    store = Store.open(Profile(home).db_path)
    user = RandomUser(store, rng, tag)
    slowest = 0.0
    end = time.monotonic() + float(seconds)
    try:
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                user.act()
            except StoreError as err:
                errors.append(str(err))
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(rng.uniform(0, PAUSE_S))
    finally:
        store.close()
        result = {
            "ops": user.ledger.ops,
            "errors": errors,
            "changes": user.ledger.total,
            "slowest_s": slowest,
        }
        Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
