"""Undo, conflicts and dropped changes across two devices on a real server, through the
real CLI: nothing a teammate saved is overwritten by an undo or a settled conflict."""

from __future__ import annotations

import json

from tests.sync.synchelp import Device


def made(device: Device, *args: str) -> str:
    result = device.run(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def on_both(a: Device, b: Device, name: str, status: str) -> str:
    """A target Alice made with ``status``, synced to both devices; its uid."""
    uid = made(a, "add", name, "--status", status)
    a.sync_once()
    b.sync_once()
    return uid


def test_undo_leaves_a_teammates_change_back_to_the_same_status(a: Device, b: Device) -> None:
    """Bob moved Echo Labs to Closed and back to Hot, the status Alice had set: an undo
    of hers would overwrite his "back on" with Cold. It undoes nothing and says why."""
    uid = made(a, "add", "Echo Labs", "--status", "Cold")
    made(a, "set", uid, "Hot")
    a.sync_once()
    b.sync_once()
    made(b, "set", uid, "Closed", "--note", "lost it")
    made(b, "set", uid, "Hot", "--note", "back on, new budget")
    b.sync_once()
    a.sync_once()

    undo = a.run("undo")

    assert undo.returncode == 0 and undo.stdout == ""
    assert "Nothing undone: Echo Labs was changed by" in undo.stderr
    assert a.status_of(uid) == "Hot" and a.pending() == 0


def test_taking_theirs_drops_an_undo_made_before_the_conflict_was_known(
    a: Device, b: Device
) -> None:
    """Bob set Passed and undid it offline; Alice had made it Hot. Bob takes theirs: the
    target stays Hot on every device (his undo must not go out and turn it to Active)."""
    uid = on_both(a, b, "Fjord Analytics", "Active")
    made(a, "set", uid, "Hot", "--note", "a")
    a.sync_once()
    made(b, "set", uid, "Passed", "--note", "b")
    assert "undone: Fjord Analytics is Active again" in made(b, "undo")
    b.sync_once()  # Passed meets Alice's Hot: a conflict; the undo waits behind it
    [conflict] = json.loads(made(b, "conflicts", "--json"))

    made(b, "resolve", conflict["change_id"], "--theirs")
    b.sync_once()
    a.sync_once()

    assert b.status_of(uid) == a.status_of(uid) == "Hot"
    assert b.pending() == 0
    assert [status for _, status in a.history_of(uid)] == ["Active", "Hot"]


def test_the_same_status_set_on_two_devices_says_which_one_the_server_kept(
    a: Device, b: Device
) -> None:
    """Both set Hot offline, each with a note; Bob's reached the server first. Alice's
    converged: nothing was recorded for it there, so her history must not call it
    synced (her note is only on her laptop), and the team sees Bob's."""
    uid = on_both(a, b, "Helios Solar", "Cold")
    made(a, "set", uid, "Hot", "--note", "alice says hot")
    made(b, "set", uid, "Hot", "--note", "bob says hot")
    b.sync_once()
    a.sync_once()

    mine = json.loads(made(a, "history", uid, "--json"))
    alices = [e for e in mine if e["note"] == "alice says hot"]
    assert [e["sync"] for e in alices] == ["converged"]
    assert "bob says hot" in [e["note"] for e in mine]
    theirs = json.loads(made(b, "history", uid, "--json"))
    assert "alice says hot" not in [e["note"] for e in theirs]


def test_dropping_a_new_target_whose_id_is_a_teammates_drops_its_later_changes(
    a: Device, b: Device, tmp_path
) -> None:
    """Bob imported a row carrying the uid of Alice's target (a copied export) and went on
    working on it; the server refuses the new target. Dropping it must not send his edit
    and status change to Alice's target, which shares only the id."""
    uid = made(a, "add", "Quartz Security", "--status", "Active", "--description", "real")
    a.sync_once()
    rows = tmp_path / "leads.csv"
    rows.write_text(f"name,description,markets,status,uid\nQuartz Fair Lead,lead,,Cold,{uid}\n")
    made(b, "import", str(rows))
    made(b, "edit", "Quartz Fair Lead", "--description", "bob: met at fair")
    made(b, "set", "Quartz Fair Lead", "Hot")
    b.sync_once()
    [rejected] = json.loads(made(b, "rejected", "--json"))

    said = made(b, "drop", rejected["change_id"][:8])
    b.sync_once()
    a.sync_once()

    assert (
        said == "Quartz Fair Lead: the new target the server refused is dropped, with its changes"
    )
    assert b.pending() == 0
    [alices] = [t for t in json.loads(made(a, "list", "--json")) if t["uid"] == uid]
    assert (alices["name"], alices["description"], alices["status"]) == (
        "Quartz Security",
        "real",
        "Active",
    )


def test_a_change_after_one_that_converged_builds_on_it(a: Device, b: Device) -> None:
    """Alice and Bob both set Hot offline, then Bob went on to Active. Alice's Hot reached
    the server first, so Bob's Hot converged: his Active builds on it, nobody changed
    the target since, and it is applied, not a conflict over his own change."""
    uid = on_both(a, b, "Lima Ltd", "Cold")
    made(a, "set", uid, "Hot")
    made(b, "set", uid, "Hot")
    made(b, "set", uid, "Active")
    made(b, "edit", uid, "--description", "same words")
    made(a, "edit", uid, "--description", "same words")
    a.sync_once()

    pushed = b.sync_once()

    assert json.loads(made(b, "conflicts", "--json")) == []
    assert b.pending() == 0, pushed.stderr
    a.sync_once()
    assert a.status_of(uid) == b.status_of(uid) == "Active"
