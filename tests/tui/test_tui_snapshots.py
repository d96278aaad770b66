"""SVG snapshots of the main screens at 100x30, with a fixed clock, fixed data, UTC.

Update after an intended change of the look: pytest tests/tui --snapshot-update
"""

from __future__ import annotations

import pytest
from tuihelp import make_app, make_conflict, make_rejected, settle

SIZE = (100, 30)


@pytest.fixture
def busy(store, clock, uids, daemon_lock):
    """Seeded targets plus local work: pending changes, a conflict, a rejected change."""
    store.set_status(uids["Borealis Energy"], "Hot", note="term sheet sent")
    store.set_status(uids["Acme Robotics"], "Active", note="new champion")
    make_conflict(store, clock, uids["Cobalt Labs"], mine="Closed", theirs="Passed")
    make_rejected(store, uids["Gamma Health"], "Closed", "target is archived on the server")
    store.record_sync(online=True, synced=True)
    return store


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param(("down", "down", "space"), id="pipeline"),  # a marked row, the cursor
        pytest.param(("enter",), id="detail"),
        pytest.param(("c",), id="conflicts"),
        pytest.param(("g",), id="summary"),
    ],
)
def test_screen(snap_compare, busy, keys):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    assert snap_compare(make_app(busy), terminal_size=SIZE, run_before=run_before)
