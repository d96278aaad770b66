"""The baselines measure what they say: every figure is a ratio against one of them.

- The push benchmark's limit (bench/limits.py) is only a limit if it does the server's
  work: the same duplicate checks, converged changes, per-field conflict checks, a
  conflict blocking the target's later changes, versions numbered per target. Twin
  databases get the same pushes, one through the real API, the other through the
  limit's SQL, and must end up holding the same rows.
- The commit benchmark's bare insert runs with the store's pragmas.
"""

from __future__ import annotations

import psycopg
import pytest

from bench.limits import set_based_push
from bench.seed import seed_server, target_uid
from protocol.wire import Change
from server.migrate import apply_migrations
from tests.server.client import Device, set_status
from tests.support.fixtures import new_database
from tests.support.server import ServerProcess

TARGETS = 10
HISTORY = 2  # seeded targets are at version 2, status Active


def twin(url: str) -> str:
    apply_migrations(url)
    seed_server(url, TARGETS, HISTORY)
    return url


def state(url: str) -> tuple[list[tuple], list[tuple]]:
    """Every audit row and target as the sync protocol sees them (no ids or clocks)."""
    with psycopg.connect(url) as conn:
        audit = conn.execute(
            "SELECT change_id, target_uid, op, old_status, new_status, version, changed_by,"
            " device_id, note FROM audit_log ORDER BY target_uid, version"
        ).fetchall()
        targets = conn.execute(
            "SELECT uid, pipeline_status, version, status_changed_by FROM targets ORDER BY uid"
        ).fetchall()
    return audit, targets


@pytest.fixture
def twins(pg_cluster, tmp_path):
    with (
        new_database(pg_cluster) as api_url,
        new_database(pg_cluster) as limit_url,
        ServerProcess(twin(api_url), log_dir=tmp_path) as server,
    ):
        yield server, twin(limit_url)


def push_both(server: ServerProcess, limit_url: str, token: str, user: str, device: str, changes):
    with Device(server, token, device) as dev:
        results = dev.push(*changes)
    wire = [Change.model_validate(c) for c in changes]
    set_based_push(limit_url, wire, device, user, all_new=False)
    return [r["outcome"] for r in results]


def test_the_limit_decides_duplicates_conflicts_and_blocked_changes_as_the_server(twins) -> None:
    server, limit_url = twins
    uid = [target_uid(i) for i in range(1, TARGETS + 1)]
    mate, mine = server.add_user("mate"), server.add_user("bench")

    # a teammate moves targets 0-2 on from version 2 (to version 3)
    outcomes = push_both(
        server, limit_url, mate, "mate", "mate-device",
        [set_status(u, "Hot", base=HISTORY) for u in uid[:3]],
    )  # fmt: skip
    assert outcomes == ["applied"] * 3
    assert state(server.database_url) == state(limit_url)

    # this device's earlier push on targets 8-9, answered but (as far as it knows) lost
    earlier = [set_status(u, "Closed", base=HISTORY, note="first") for u in uid[8:]]
    push_both(server, limit_url, mine, "bench", "device", earlier)

    batch = (
        # conflicts with the teammate on 0-1; the target's later changes are blocked
        [set_status(u, "Closed", base=HISTORY) for u in uid[:2]]
        + [set_status(uid[0], "Passed", base=HISTORY, note="after a conflict")]
        # the teammate's status asked again converges, not a conflict: nothing is blocked
        + [set_status(uid[2], "Hot", base=HISTORY), set_status(uid[2], "Cold", base=HISTORY + 1)]
        # plain changes on 3-7, two each, the first on 3 asking for what it has
        + [set_status(u, "Cold" if u != uid[3] else "Active", base=HISTORY) for u in uid[3:8]]
        + [set_status(u, "Hot", base=HISTORY, note="again") for u in uid[3:8]]
        + [set_status(uid[4], "Hot", base=HISTORY)]
        # the earlier push sent again (duplicates), then a change after it
        + earlier
        + [set_status(u, "Passed", base=HISTORY) for u in uid[8:]]
    )
    outcomes = push_both(server, limit_url, mine, "bench", "device", batch)
    assert {o: outcomes.count(o) for o in set(outcomes)} == {
        "conflict": 2,
        "blocked": 1,
        "converged": 3,
        "applied": 12,
        "duplicate": 2,
    }, list(enumerate(outcomes))
    assert state(server.database_url) == state(limit_url)


def test_the_bare_insert_runs_with_the_stores_pragmas(tmp_path) -> None:
    """The commit benchmark's baseline: "bare one-row inserts with the same pragmas"."""
    from bench.commit import bare_connection
    from storage import Store

    names = ("journal_mode", "synchronous", "foreign_keys", "cache_size", "wal_autocheckpoint")
    bare = bare_connection(tmp_path / "bare.db")
    with Store.open(tmp_path / "store.db") as store:
        for name in names:
            [(value,)] = bare.execute(f"PRAGMA {name}").fetchall()
            assert value == store._ctx.db.pragma(name), name
