"""A new device's daemon catches up a history of several pages: every target arrives,
and the sort indexes set aside for the catch-up (storage/catchup.py) are all built again
at its end. On a server of its own: 12,000 targets would slow every other test's pulls."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from storage import Store
from storage.catchup import SET_ASIDE
from tests.support.pg import PgCluster
from tests.support.server import ServerProcess
from tests.sync.synchelp import Device, wait_until

TARGETS = 12_000  # three pages of the daemon's 5,000
_INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"
_SEED = """
INSERT INTO targets (uid, name, description, pipeline_status, markets, version,
                     status_changed_at, status_changed_by, created_at, last_updated, updated_by)
SELECT gen_random_uuid(), 'Target ' || lpad(i::text, 6, '0'), '', 'Cold',
       ARRAY['market-' || (i %% 7)], 1, now(), 'seed', now(), now(), 'seed'
FROM generate_series(1, %s) AS i
"""


def _indexes(store: Store) -> list[str]:
    return [name for (name,) in store._ctx.db.execute_sql(_INDEXES).fetchall()]


def test_a_new_devices_daemon_catches_up_pages_and_builds_its_indexes(
    pg_cluster: PgCluster, devices: Callable[[str], Device], tmp_path
):
    url = pg_cluster.create_database()
    try:
        with ServerProcess(url) as srv:
            with psycopg.connect(url) as conn:
                conn.execute(_SEED, (TARGETS,))
            device = devices("new")
            device.connect(srv.url, srv.add_user("carol"))
            device.start_daemon()

            def caught_up() -> bool:
                with device.store() as store:
                    return store.count_targets() == TARGETS and store.pull_cursor() is not None

            wait_until(caught_up, timeout=90, what=f"{TARGETS} targets pulled")
            with Store.open(tmp_path / "never-caught-up.db") as fresh:
                expected = _indexes(fresh)
            with device.store() as store:
                wait_until(lambda: _indexes(store) == expected, timeout=30, what="indexes")
                assert store._ctx.get_meta(SET_ASIDE) is None
                assert len(store.list_targets()) == TARGETS
    finally:
        pg_cluster.drop_database(url)
