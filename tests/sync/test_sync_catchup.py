"""A new device's daemon catches up a history of several pages: every target arrives,
and the sort indexes set aside for the catch-up (storage/catchup.py) are all built again
at its end. On a server of its own: 12,000 targets would slow every other test's pulls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest

from storage import Store
from storage.catchup import SET_ASIDE
from syncd.client import ApiClient
from syncd.pull import Pulled, Puller
from syncd.retry import Backoff, Wakeable
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


@pytest.fixture(scope="module")
def seeded(pg_cluster: PgCluster) -> Iterator[ServerProcess]:
    """A server of its own holding TARGETS targets."""
    url = pg_cluster.create_database()
    try:
        with ServerProcess(url) as srv:
            with psycopg.connect(url) as conn:
                conn.execute(_SEED, (TARGETS,))
            yield srv
    finally:
        pg_cluster.drop_database(url)


def test_a_new_devices_daemon_catches_up_pages_and_builds_its_indexes(
    seeded: ServerProcess, devices: Callable[[str], Device], tmp_path
):
    device = devices("new")
    device.connect(seeded.url, seeded.add_user("carol"))
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


def test_each_page_of_a_catch_up_is_reported_as_it_is_stored(seeded: ServerProcess, tmp_path):
    """The daemon reports every page as it lands (its sync bar says online from the
    first page of a long catch-up, not at its end)."""
    token = seeded.add_user("dave")
    backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=3)
    seen: list[tuple[int, bool, int]] = []
    with Store.open(tmp_path / "p.db") as store, ApiClient(seeded.url, lambda: token) as client:

        def each(page: Pulled) -> None:
            seen.append((page.targets, page.more, store.count_targets()))

        tally = Puller(store, client, backoff).pull_available(each)
    assert seen == [(5_000, True, 5_000), (5_000, True, 10_000), (2_000, False, TARGETS)]
    assert tally.targets == TARGETS
