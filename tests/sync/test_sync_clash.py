"""A new target whose uid the server gives another (a teammate's export imported before
the first sync, spelled differently): against a real server, the device shows the team's
target under the uid, with its history, and keeps its own apart, refused, until the user
drops it or makes it again as a new target."""

from __future__ import annotations

import pytest

from storage import NotFound
from tests.sync.synchelp import Device


@pytest.fixture
def clash(a: Device, b: Device) -> tuple[str, str]:
    """Alice's Acme Robotics (Passed) on the server; Bob imported its uid as Acme Twin
    before his first sync. Bob's rejected change id and the uid."""
    with a.store() as store:
        uid = store.create_target("Acme Robotics", status="Passed").uid
    a.sync_once()
    with b.store() as store:
        store.import_targets([{"uid": uid, "name": "Acme Twin", "markets": "EU", "status": "Hot"}])
    b.sync_once()
    with b.store() as store:
        [refused] = store.rejected()
    return refused.change_id, uid


def test_the_teams_target_shows_under_its_uid_and_ours_apart(b: Device, clash):
    change_id, uid = clash
    with b.store() as store:
        team = store.get(uid)
        assert (team.name, team.status, team.sync) == ("Acme Robotics", "Passed", "synced")
        assert [h.new_status for h in store.history(uid)] == ["Passed"]
        [ours] = [t for t in store.list_targets() if t.name == "Acme Twin"]
        assert (ours.name, ours.status, ours.markets, ours.sync) == (
            "Acme Twin",
            "Hot",
            ("EU",),
            "rejected",
        )
        assert [h.new_status for h in store.history(ours.uid)] == ["Hot"]
        [refused] = store.rejected()
        assert (refused.name, refused.target) == ("Acme Twin", ours.uid)
        assert "'Acme Robotics'" in refused.reason


def test_the_teams_target_takes_changes_and_dropping_ours_leaves_it(a: Device, b: Device, clash):
    change_id, uid = clash
    with b.store() as store:
        assert store.set_status(uid, "Active").changed
    b.sync_once()
    a.sync_once()
    assert a.status_of(uid) == "Active"
    with b.store() as store:
        [ours] = store.rejected()
        store.drop_rejected(change_id)
        with pytest.raises(NotFound):
            store.get(ours.target)
        assert (store.get(uid).name, store.get(uid).status) == ("Acme Robotics", "Active")


def test_ours_made_again_reaches_the_team_as_a_new_target(a: Device, b: Device, clash):
    change_id, uid = clash
    with b.store() as store:
        made = store.recreate_rejected(change_id)
        assert made.uid != uid and made.name == "Acme Twin"
    b.sync_once()
    a.sync_once()
    with a.store() as store:
        assert [(t.name, t.status, t.markets) for t in map(store.get, (uid, made.uid))] == [
            ("Acme Robotics", "Passed", ()),
            ("Acme Twin", "Hot", ("EU",)),
        ]
