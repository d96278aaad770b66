"""An edit that meets a teammate's edit, against a real server: the conflict says which
details the teammate changed, who did and when, though the server answers with the
target's whole state and its last change may be someone's status change."""

from __future__ import annotations

from tests.sync.synchelp import Device
from tests.sync.test_sync_in_flight import shared_target


def test_an_edit_conflict_tells_the_teammates_edit_not_their_later_status_change(
    a: Device, b: Device
):
    """alice edits the description offline; bob edits the markets, then moves the
    status. The conflict named bob's status change's time, and showed the description
    alone, bob's the same as alice had started from."""
    uid = shared_target(a, b)
    with a.store() as store:
        store.edit_target(uid, description="from alice")
    with b.store() as store:
        store.edit_target(uid, markets=["EU", "US"])
        edited_at = store.get(uid).updated_at
        store.set_status(uid, "Hot")
        moved_at = store.get(uid).status_since
    b.sync_once()
    a.sync_once()
    with a.store() as store:
        [conflict] = store.conflicts()
    assert conflict.mine_fields == {"description": "from alice"}
    assert conflict.theirs_fields == {"description": "first", "markets": ["EU", "US"]}
    assert conflict.theirs_unchanged() == {"description"}
    assert conflict.theirs_changed_by is not None and conflict.theirs_changed_by.startswith("bob")
    assert conflict.theirs_changed_at == edited_at != moved_at
