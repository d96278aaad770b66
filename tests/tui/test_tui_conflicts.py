"""The conflicts screen: keep mine, take theirs, another status; rejected: drop, correct."""

from __future__ import annotations

import io

import pytest
from textual import events
from textual.widgets import Static
from tuihelp import (
    make_app,
    make_conflict,
    make_edit_conflict,
    make_rejected,
    rejected_new_target,
    screen_lines,
    settle,
    shown,
)

from protocol import NOTE_MAX
from protocol.wire import Result
from tui.screens import ConfirmDialog, ConflictsScreen


async def open_conflicts(pilot) -> ConflictsScreen:
    await settle(pilot)
    await pilot.press("c")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConflictsScreen)
    return pilot.app.screen


async def test_each_conflict_choice(store, clock, uids):
    for name in ("Acme Robotics", "Borealis Energy", "Cobalt Labs"):
        make_conflict(store, clock, uids[name], mine="Closed", theirs="Passed")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        text = shown(screen.query_one("#compare"))
        assert "Acme Robotics" in text and "conflicting status change" in text
        status_row = next(line for line in text.splitlines() if line.startswith("Status"))
        assert status_row.split()[1:] == ["Cold", "Closed", "Passed"]  # base, mine, theirs
        for expected in ("bob", "you", "2026-06-01 12:00", "2026-06-01 10:00", "after the demo"):
            assert expected in text

        await pilot.press("m")  # keep mine: re-issued on the server's version
        await settle(pilot)
        assert store.get(uids["Acme Robotics"]).status == "Closed"
        (change,) = store.take_batch()
        assert (str(change.target), change.status, change.base_version) == (
            uids["Acme Robotics"],
            "Closed",
            2,
        )
        assert "Borealis Energy" in shown(screen.query_one("#compare"))

        await pilot.press("t", "y")  # take theirs (asks first)
        await settle(pilot)
        assert store.get(uids["Borealis Energy"]).status == "Passed"

        await pilot.press("a", "3", "tab", *"agreed on a pilot", "enter")  # another status
        await settle(pilot)
        assert store.get(uids["Cobalt Labs"]).status == "Active"
        # with the note typed for it, not the one written for Closed
        assert store.history(uids["Cobalt Labs"])[-1].note == "agreed on a pilot"
        assert store.conflicts() == []
        assert "Nothing to resolve" in shown(screen.query_one("#compare"))


async def test_rejected_changes_are_dropped_or_corrected(store, uids):
    make_rejected(store, uids["Gamma Health"], "Closed", "target is archived on the server")
    make_rejected(store, uids["Helios Solar"], "Hot", "status locked by an admin")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        assert "target is archived" in shown(screen.query_one("#compare"))
        await pilot.press("m")  # keep mine does not apply to a rejected change
        assert len(store.rejected()) == 2

        await pilot.press("d", "y")  # asks first
        await settle(pilot)
        assert store.get(uids["Gamma Health"]).status == "Hot"
        assert "status locked" in shown(screen.query_one("#compare"))

        await pilot.press("e", "2", "enter")  # correct: another status instead
        await settle(pilot)
        assert store.rejected() == []
        assert store.get(uids["Helios Solar"]).status == "Cold"
        assert [c.status for c in store.take_batch()] == ["Cold"]


async def test_a_rejected_new_target_is_kept_as_a_new_one(store, uids):
    """Its uid is another target's on the server: e makes it again under a new id."""
    made = rejected_new_target(store, "a different target ...")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        assert "e keep it: make it again as a new target" in shown(screen.query_one("#compare"))
        await pilot.press("e")
        await settle(pilot)
    assert store.rejected() == []
    again = store.resolve("Kappa Mining")
    assert again.uid != made.uid
    assert (again.description, again.markets, again.status) == ("Copper", ("LATAM",), "Hot")


def test_a_rejected_new_target_reads_as_words():
    """What the server refused is told in words: no op names, lists, or empty fields."""
    from datetime import UTC, datetime

    from rich.console import Console

    from storage import RejectedView
    from tui.screens.conflicts import rejected_panel

    fields = {"name": "Salt Marsh", "description": "", "markets": ["Nordics", "DACH"]}
    rejected = RejectedView(
        "c1", "t1", "Salt Marsh", "create", None, fields, datetime(2026, 6, 1, tzinfo=UTC), "taken"
    )
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(rejected_panel(rejected))
    text = console.export_text()
    assert "new target" in text and "markets: Nordics, DACH" in text, text
    assert "create" not in text and "description" not in text and "[" not in text, text


def test_a_conflict_shows_both_notes():
    """The teammate's note is beside mine: often it says why they chose otherwise."""
    from datetime import UTC, datetime

    from rich.console import Console

    from storage import ConflictView
    from tui.screens.conflicts import conflict_panel

    at = datetime(2026, 6, 1, tzinfo=UTC)
    conflict = ConflictView(
        "c1", "t1", "Acme", "set_status", "Cold", 1, "Hot", None, at, "call went well",
        "Passed", "bob", at, 2, "they chose a rival",
    )  # fmt: skip
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(conflict_panel(conflict))
    note = next(line for line in console.export_text().splitlines() if line.startswith("Note"))
    assert "call went well" in note and "they chose a rival" in note, note


async def test_an_edit_conflict_shows_both_details_and_offers_no_other_status(store, uids):
    uid = uids["Acme Robotics"]
    make_edit_conflict(
        store,
        uid,
        description="Mine: humanoid robots.",
        markets=["EU", "US", "APAC"],
        theirs_description="Bob's: warehouse robots, EU only.",
        theirs_markets=["EU"],
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conflicts(pilot)
        compare = screen.query_one("#compare")
        text = shown(compare, compare.size.width)
        # a row per field, mine beside theirs: no Base column squeezing them a word a line
        assert text.splitlines()[2].split() == ["Mine", "Theirs"], text
        rows = {line.split()[0]: line for line in text.splitlines()[4:] if line.strip()}
        assert rows["description"].split()[1:3] == ["Mine:", "humanoid"], text
        assert "Bob's:" in rows["description"], text
        assert rows["markets"].split()[1:] == ["EU,", "US,", "APAC", "EU"], text
        assert rows["Version"].split()[1:] == ["on", "v1", "v9"], text
        assert "Status" not in text and "choose another status" not in text, text
        listed = str(screen.query_one("#items").get_option_at_index(1).prompt)  # under its heading
        assert "mine edit" in listed and "theirs an edit" in listed, listed
        await pilot.press("a")  # not offered for an edit: nothing opens
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("t")
        await pilot.pause()
        loses = shown(app.screen.query_one("#loses"))
        assert "Your edit of its details (description, markets)" in loses, loses
        await pilot.press("enter")  # on the focused button: take theirs
        await settle(pilot)
        assert store.get(uid).description == "Bob's: warehouse robots, EU only."


async def test_an_edit_conflict_shows_what_the_teammate_changed(store, uids):
    """My description met bob's markets: the panel showed the description alone, bob's
    the same as mine had started from, and nothing of why it conflicted."""
    uid = uids["Acme Robotics"]
    make_edit_conflict(
        store, uid, description="Mine: humanoid robots.", theirs_markets=["EU", "Robotics", "APAC"]
    )
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        compare = screen.query_one("#compare")
        text = shown(compare, compare.size.width)
        rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[4:] if line.strip()}
        assert rows["description"][:2] == ["Mine:", "humanoid"], text
        assert rows["description"][-2:] == ["not", "changed"], text
        assert rows["markets"] == ["not", "changed", "EU,", "Robotics,", "APAC"], text


async def test_taking_theirs_on_a_renamed_target_names_it_as_it_ends(store, uids):
    """The dialog said "Acme Two keeps bob's details": the name about to be discarded."""
    make_edit_conflict(
        store, uids["Acme Robotics"], name="Acme Two", theirs_name="Acme Robotics Group"
    )
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_conflicts(pilot)
        await pilot.press("t")
        await pilot.pause()
        loses = " ".join(shown(app.screen.query_one("#loses")).split())
        said = "Your edit of its details (name) will be discarded; Acme Robotics Group takes"
        assert f"{said} bob's details." == loses, loses


async def test_a_rejected_new_target_shows_the_status_it_was_made_with(store, uids):
    """As `pipetrack rejected` says "new target, Hot": the status is part of the change."""
    rejected_new_target(store, "uid taken")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_conflicts(pilot)
        text = shown(screen.query_one("#compare"), width=50)
        assert "new target" in text and "markets: LATAM" in text, text
        assert "status: Hot" in text, text


async def test_a_conflict_undone_since_says_settling_drops_the_undo(store, uids):
    from tuihelp import server_state

    acme = uids["Acme Robotics"]  # Cold
    store.set_status(acme, "Closed")
    store.undo_last()  # before the push's answer: it waits behind the conflict
    closed, undo = [c for c in store.take_batch() if str(c.target) == acme]
    theirs = server_state(store.get(acme), 2, status="Passed")
    store.apply_push_results(
        [
            Result(change_id=closed.change_id, outcome="conflict", target=theirs),
            Result(change_id=undo.change_id, outcome="blocked"),
        ]
    )
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        text = shown(screen.query_one("#compare"))
        assert "undone since" in text, text
        assert "settling drops the undo; a → Cold keeps it undone" in text, text


async def test_another_status_may_be_no_status(store, clock, uids):
    """As `resolve --status none`: 0 in the picker (it was not offered)."""
    make_conflict(store, clock, uids["Borealis Energy"], mine="Closed", theirs="Passed")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_conflicts(pilot)
        await pilot.press("a", "0", "enter")
        await settle(pilot)
        assert store.conflicts() == []
        assert store.get(uids["Borealis Energy"]).status is None


async def test_another_status_with_a_pasted_note_over_the_limit_keeps_the_dialog(
    store, clock, uids
):
    make_conflict(store, clock, uids["Acme Robotics"], mine="Closed", theirs="Passed")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_conflicts(pilot)
        await pilot.press("a", "3", "tab", *"pilot")
        picker = app.screen
        app.post_message(events.Paste("y" * (NOTE_MAX + 1)))  # refused: the note stays
        await pilot.pause()
        assert app.screen is picker and picker.query_one("#note").value == "pilot"
        await pilot.press("enter")
        await settle(pilot)
        assert store.conflicts() == [] and store.get(uids["Acme Robotics"]).status == "Active"
        assert store.history(uids["Acme Robotics"])[-1].note == "pilot"


async def test_drop_and_take_theirs_ask_first(store, clock, uids):
    """Both discard the user's change (a dropped new target is gone for good, undo cannot
    bring it back; t is "stale only" on the list): a dialog says what is lost, y or Enter
    goes on, n or Esc keeps it. Keep mine asks nothing."""
    acme, borealis = uids["Acme Robotics"], uids["Borealis Energy"]
    make_conflict(store, clock, acme, mine="Closed", theirs="Passed")
    make_conflict(store, clock, borealis, mine="Hot", theirs="Cold")
    made = rejected_new_target(store, "uid taken")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        assert "t take theirs…" in shown(screen.query_one("#compare"))
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        loses = shown(app.screen.query_one("#loses"))
        assert 'Your change to Closed and its note "after the demo"' in loses, loses
        assert "Acme Robotics takes bob's Passed." in loses, loses
        await pilot.press("escape")
        await pilot.press("t", "n")
        await settle(pilot)
        assert app.screen is screen and len(store.conflicts()) == 2
        assert store.get(acme).status == "Closed"
        await pilot.press("t", "y")
        await settle(pilot)
        assert store.get(acme).status == "Passed" and len(store.conflicts()) == 1

        await pilot.press("m")  # keep mine: at once
        await settle(pilot)
        assert app.screen is screen and store.conflicts() == []

        assert "d drop…" in shown(screen.query_one("#compare"))
        await pilot.press("d")
        await pilot.pause()
        loses = shown(app.screen.query_one("#loses"))
        assert "Kappa Mining, the new target made here" in loses, loses
        assert "undo cannot bring it back" in loses, loses
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and len(store.rejected()) == 1
        assert store.get(made.uid).name == "Kappa Mining"
        await pilot.press("d", "enter")
        await settle(pilot)
        assert store.rejected() == [] and store.count_targets() == 10


async def test_the_help_says_drop_and_take_theirs_ask_first(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(shown(static, 100) for static in app.screen.query("Static"))
        assert "Take theirs…" in text and "Drop…" in text, text
        assert "Yes: drop / take theirs as asked" in text, text


def _hot_then_later(store, uid: str, *later: str) -> str:
    """Offline: Hot, then ``later``; bob made it Passed meanwhile. The conflict is on Hot,
    the later changes wait behind it (as `pipetrack conflicts` shows "Hot, then Cold")."""
    from tuihelp import server_state

    hot = store.set_status(uid, "Hot", note="demo went well")
    for status in later:
        store.set_status(uid, status)
    first, *held = store.take_batch()
    theirs = server_state(store.get(uid), 2, status="Passed")
    store.apply_push_results(
        [
            Result(change_id=first.change_id, outcome="conflict", target=theirs),
            *(Result(change_id=c.change_id, outcome="blocked") for c in held),
        ]
    )
    return hot.change_id


async def test_a_conflict_shows_the_later_changes_that_follow_it(store, uids):
    """Hot, then Active and Cold wait behind the conflict and follow whatever is chosen:
    the panel says so beside Mine, and taking theirs is told it ends at Cold (a tester
    took theirs, was told only "resolved", and the team ended at Cold)."""
    from tuihelp import notifications

    acme = uids["Acme Robotics"]
    _hot_then_later(store, acme, "Active", "Cold")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        compare = screen.query_one("#compare")
        text = shown(compare, compare.size.width)
        status_row = next(line for line in text.splitlines() if line.startswith("Status"))
        assert status_row.split()[1:] == ["Cold", "Hot", "Passed"], text
        # under Mine's status (wrapped in its column): the statuses set after it, in order
        assert "Cold Hot Passed then Active, Cold Version" in " ".join(text.split()), text
        assert "later changes follow any choice: it ends at Cold\n" in text, text
        listed = str(screen.query_one("#items").get_option_at_index(1).prompt)
        assert "mine Hot, then Active, Cold / theirs Passed" in listed, listed
        await pilot.press("t")
        await pilot.pause()
        loses = shown(app.screen.query_one("#loses"))
        said = "Acme Robotics takes bob's Passed, then your later change to Cold: it ends at Cold."
        assert said in loses, loses
        hint = "y or Enter: go on · a: theirs, drop later · n or Esc: keep it"
        drawn = [line.split("█")[1].strip() for line in screen_lines(app) if "█ " in line]
        start = next(i for i, line in enumerate(drawn) if line.startswith("y or Enter"))
        assert " ".join(drawn[start : start + 2]).startswith(hint), drawn  # wraps, not cut
        await pilot.press("y")
        await settle(pilot)
        assert store.get(acme).status == "Cold"
        told = "Acme Robotics: resolved, now Cold (your later change to Cold follows it)"
        assert told in notifications(app), notifications(app)


async def test_take_theirs_can_drop_the_later_changes_too(store, uids):
    """The take-theirs dialog offers `a`: theirs, with the later changes dropped, so the
    target ends at theirs (testers expected that of take theirs)."""
    from tuihelp import notifications

    acme = uids["Acme Robotics"]
    _hot_then_later(store, acme, "Active", "Cold")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_conflicts(pilot)
        await pilot.press("t")
        await pilot.pause()
        hint = str(app.screen.query_one(".hint", Static).render())
        assert "a: theirs, drop later" in hint, hint
        await pilot.press("a")
        await settle(pilot)
        assert (store.get(acme).status, store.get(acme).sync) == ("Passed", "synced")
        told = "Acme Robotics: resolved, now Passed (your later changes dropped)"
        assert told in notifications(app), notifications(app)


async def test_keep_mine_with_a_later_change_says_where_it_ends(store, uids):
    from tuihelp import notifications

    _hot_then_later(store, uids["Borealis Energy"], "Cold")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_conflicts(pilot)
        await pilot.press("m")
        await settle(pilot)
        told = "Borealis Energy: resolved, now Cold (your later change to Cold follows it)"
        assert told in notifications(app), notifications(app)


async def test_an_edit_conflict_says_a_later_edit_of_its_fields_follows(store, uids):
    from tuihelp import _last_change, notifications, server_state  # noqa: PLC2701

    uid = uids["Acme Robotics"]
    store.edit_target(uid, markets=["US", "Energy"])
    change = _last_change(store, uid)
    theirs = server_state(store.get(uid), 9, by="bob")
    theirs.markets = ["EU"]
    store.apply_push_results(
        [Result(change_id=change.change_id, outcome="conflict", target=theirs)]
    )
    store.edit_target(uid, markets=["US", "Energy", "APAC"], name="Acme Two")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        compare = screen.query_one("#compare")
        text = shown(compare, compare.size.width)
        hint = "later changes follow any choice: edited again: markets, name"
        assert hint in " ".join(text.split()), text
        await pilot.press("t", "y")
        await settle(pilot)
        told = (
            "Acme Two: resolved, the server's markets kept (your edit dropped; your later"
            " edit of markets, name goes out after it)"
        )
        assert told in notifications(app), notifications(app)


async def test_take_theirs_confirmed_after_theirs_changed_settles_nothing(store, clock, uids, home):
    """The dialog said "keeps bob's Passed"; bob made it Active while it was open. The
    user confirmed a choice they never saw: now nothing is settled, a notice says why,
    and the panel shows the new side."""
    from tuihelp import notifications, server_state

    from storage import Store

    acme = uids["Acme Robotics"]
    make_conflict(store, clock, acme, mine="Closed", theirs="Passed")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_conflicts(pilot)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        seen = store.conflicts()[0].theirs_version
        with Store.open(home / "pipetrack.db") as daemon:  # the daemon pulls bob's change
            newer = server_state(store.get(acme), seen + 1, status="Active")
            daemon.apply_pull([newer], [], "newer")
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert any("changed while you looked (now Active)" in n for n in notifications(app))
        [conflict] = store.conflicts()
        assert (conflict.theirs_status, store.get(acme).status) == ("Active", "Closed")
        assert "Active" in shown(screen.query_one("#compare"))


@pytest.mark.parametrize("width", [40, 50])
async def test_a_narrow_screen_shows_the_conflicts_sides_under_the_list(store, clock, uids, width):
    """At 40 columns the panel beside the list got 16: only its labels showed (Mine and
    Theirs left out), at 50 "Mi…"; the list now sits above it, the panel full width."""
    acme = uids["Acme Robotics"]
    make_conflict(store, clock, acme, mine="Closed", theirs="Passed")
    app = make_app(store)
    async with app.run_test(size=(width, 20)) as pilot:
        await open_conflicts(pilot)
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        for seen in ("Mine", "Theirs", "Closed", "Passed"):
            assert seen in text, text
