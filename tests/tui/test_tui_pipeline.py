"""The pipeline screen: keys change statuses through the store, search, filter, sort, bulk."""

from __future__ import annotations

import threading
import time

import pytest
from textual import events
from tuihelp import (
    SEEDS,
    holding_the_write_lock,
    make_app,
    make_conflict,
    make_rejected,
    notifications,
    settle,
    shown,
    until,
)

from protocol import NOTE_MAX
from storage import TargetQuery
from tui.screens import FilterForm, PipelineScreen, StatusPicker, SummaryScreen, TargetForm
from tui.widgets import TargetTable
from tui.widgets.columns import layout


def names(app) -> list[str]:
    table = app.screen.query_one(TargetTable)
    return [table.pager.row(i).name for i in range(table.row_count)]


def counts(app) -> str:
    return shown(app.screen.query_one("#counts"))


async def test_status_keys_write_audit_and_outbox_and_show_pending(store, uids):
    acme = uids["Acme Robotics"]
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert names(app)[:3] == ["Acme Robotics", "Borealis Energy", "Cobalt Labs"]
        assert counts(app) == "10 of 10 targets · all"
        assert "0 pending" in shown(app.screen.query_one("#sync"))

        await pilot.press("4")  # Hot on the selected row
        table = app.screen.query_one(TargetTable)
        row = table.current
        assert (row.name, row.status, row.sync) == ("Acme Robotics", "Hot", "pending")
        last = store.history(acme)[-1]
        assert (last.old_status, last.new_status, last.origin, last.sync) == (
            "Cold",
            "Hot",
            "local",
            "pending",
        )
        (change,) = store.take_batch()
        assert (str(change.target), change.op, change.status) == (acme, "set_status", "Hot")
        await settle(pilot)
        assert "1 pending" in shown(app.screen.query_one("#sync"))

        for key, status in zip("12345", ["Passed", "Cold", "Active", "Hot", "Closed"], strict=True):
            await pilot.press(key)
            assert store.get(acme).status == status

        await pilot.press("down", "s")  # the picker takes a note too
        assert isinstance(app.screen, StatusPicker)
        await pilot.press("4", "tab", *"met the CTO", "enter")
        await settle(pilot)
        last = store.history(uids["Borealis Energy"])[-1]
        assert (last.new_status, last.note) == ("Hot", "met the CTO")


async def test_search_and_stale_only(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ium")
        await settle(pilot)
        assert names(app) == []
        await pilot.press("backspace", "backspace", "backspace", *"TAI")
        await settle(pilot)
        assert names(app) == ["Juniper Retail"]
        assert "“TAI”" in counts(app)
        await pilot.press("enter", "escape")  # back to the table, then clear
        await settle(pilot)
        assert len(names(app)) == 10

        await pilot.press("t")
        await settle(pilot)
        stale = {v.name for v in store.stale_targets()}
        assert set(names(app)) == stale and stale >= {"Acme Robotics", "Gamma Health"}
        assert "stale only" in counts(app)
        await pilot.press("t")
        await settle(pilot)
        assert len(names(app)) == 10


async def test_filter_not_synced_yet(store, uids, clock):
    """Before closing the laptop: what has not reached the server as I left it."""
    store.set_status(uids["Cobalt Labs"], "Closed")  # pending
    make_conflict(store, clock, uids["Acme Robotics"], "Closed", "Passed")
    make_rejected(store, uids["Delta Freight"], "Cold", "no such market")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await pilot.click("#unsynced")
        await pilot.click("#ok")
        await settle(pilot)
        assert names(app) == ["Acme Robotics", "Cobalt Labs", "Delta Freight"]
        assert "3 of 10 targets · not synced yet" in counts(app)
        await pilot.press("f")
        assert app.screen.query_one("#unsynced").value is True  # the form shows it on
        await pilot.click("#clear")
        await settle(pilot)
        assert len(names(app)) == 10


async def open_filter(pilot) -> FilterForm:
    await settle(pilot)
    await pilot.press("f")
    form = pilot.app.screen
    assert isinstance(form, FilterForm)
    return form


async def test_filter_sort_and_mouse(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        form = await open_filter(pilot)
        form.query_one("#statuses").select("Hot")
        form.query_one("#markets").select("US")
        await pilot.click("#ok")
        await settle(pilot)
        assert names(app) == ["Gamma Health"]
        assert "status Hot · market US" in counts(app)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("r")  # reverse the name order
        await settle(pilot)
        assert names(app)[0] == "Juniper Retail"
        table = app.screen.query_one(TargetTable)
        width = table.scrollable_content_region.width
        days_x = next(p.x for p in layout(width) if p.column.key == "days")
        await pilot.click(TargetTable, offset=(days_x + 1, 0))  # header: sort by days
        await settle(pilot)
        days = [table.pager.row(i).days_in_status for i in range(table.row_count)]
        assert days == sorted(days)
        await pilot.click(TargetTable, offset=(days_x + 1, 0))  # again: descending
        await settle(pilot)
        assert table.pager.row(0).name == "Delta Freight"  # 200 days
        await pilot.click(TargetTable, offset=(5, 3))  # a row
        assert table.current == table.pager.row(2)


async def test_undo_issues_a_compensating_change(store, uids):
    acme = uids["Acme Robotics"]
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4", "u")
        await settle(pilot)
        assert store.get(acme).status == "Cold"
        assert [(h.old_status, h.new_status) for h in store.history(acme)[-2:]] == [
            ("Cold", "Hot"),
            ("Hot", "Cold"),
        ]
        assert [c.status for c in store.take_batch()] == ["Hot", "Cold"]
        assert app.screen.query_one(TargetTable).current.status == "Cold"


async def test_bulk_change_previews_the_count_before_writing(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "b")  # mark Acme and Borealis
        assert isinstance(app.screen, StatusPicker)
        said = "2 marked targets: Acme Robotics, Borealis Energy."  # which, by name
        assert said in shown(app.screen.query_one("#preview"))
        assert store.take_batch() == []  # nothing written before confirming
        await pilot.press("5", "enter")
        await settle(pilot)
        assert store.get(uids["Acme Robotics"]).status == "Closed"
        assert store.get(uids["Borealis Energy"]).status == "Closed"
        assert store.get(uids["Cobalt Labs"]).status == "Hot"
        assert app.screen.query_one(TargetTable).marked == set()
        assert len(store.take_batch()) == 2

        await pilot.press("t")  # no marks: the whole filter (stale only)
        await settle(pilot)
        matching = names(app)
        assert len(matching) >= 2
        await pilot.press("b")
        assert f"{len(matching)} targets matching stale only" in shown(
            app.screen.query_one("#preview")
        )
        await pilot.press("escape")  # cancelled: nothing written
        assert len(store.take_batch()) == 2
        await pilot.press("b", "1", "enter")
        await settle(pilot)
        assert {store.resolve(name).status for name in matching} == {"Passed"}
        assert len(store.take_batch()) == 2 + len(matching)

        await pilot.press("t")  # no filter at all: "all N targets", the first named
        await settle(pilot)
        first = ", ".join(names(app)[:5])
        await pilot.press("b")
        said = f"This changes the status of all {len(uids)} targets: {first} and {len(uids) - 5}"
        assert f"{said} more." == " ".join(shown(app.screen.query_one("#preview")).split())


async def test_undo_after_a_bulk_change_takes_back_all_of_it(store, uids):
    before = {name: store.get(uid).status for name, uid in uids.items()}
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space", "b", "5", "enter")  # three: Closed
        await settle(pilot)
        assert sum(store.get(uid).status == "Closed" for uid in uids.values()) > sum(
            status == "Closed" for status in before.values()
        )
        await pilot.press("u")
        await settle(pilot)
        assert {name: store.get(uid).status for name, uid in uids.items()} == before
        assert "bulk change to Closed of 3 targets" in notifications(app)[-1]
        assert [table_status(app, name) for name in before] == list(before.values())


async def test_a_stale_target_set_by_mistake_and_undone_is_stale_again(store, uids):
    """QA's case: ⚠ 120d, Closed by a slip of the key, then u: the row reads ⚠ 120d again
    (it read 0d and fresh, and fell out of the stale-only view)."""
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")  # stale only: Acme Robotics first
        await settle(pilot)
        table = app.screen.query_one(TargetTable)
        assert (table.current.name, table.current.days_in_status) == ("Acme Robotics", 120)
        await pilot.press("5", "u")
        await settle(pilot)
        assert "Acme Robotics" in names(app)  # still in the stale-only view
        row = table.current
        assert (row.name, row.status, row.days_in_status, row.stagnation) == (
            "Acme Robotics", "Cold", 120, "stale",
        )  # fmt: skip


async def test_undo_after_an_import_takes_back_its_status_changes(store, uids):
    before = {name: store.get(uid).status for name, uid in uids.items()}
    store.import_targets(
        [{"name": "Acme Robotics", "status": "Closed"}, {"name": "Gamma Health", "status": "Cold"}]
    )
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert "Undone: an import's status changes of 2 targets" in notifications(app)[-1]
        assert [table_status(app, name) for name in before] == list(before.values())


def table_status(app, name: str) -> str | None:
    """The status the list shows for ``name`` (after the reload)."""
    table = app.screen.query_one(TargetTable)
    rows = [table.pager.row(i) for i in range(table.row_count)]
    return next(row.status for row in rows if row.name == name)


async def test_new_target_and_invalid_input_refused(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", "ctrl+s")  # empty name
        await pilot.pause()
        assert "name must not be empty" in notifications(app)[-1]
        assert isinstance(app.screen, TargetForm)  # still open, input kept
        assert store.count_targets() == 10 and store.take_batch() == []

        await pilot.press(*"Kappa Mining", "tab", *"EU, APAC", "ctrl+s")
        await settle(pilot)
        kappa = store.resolve("Kappa Mining")
        assert kappa.markets == ("EU", "APAC") and kappa.sync == "pending"
        assert [c.op for c in store.take_batch()] == ["create"]
        assert counts(app).startswith("11 of 11 targets")

        await pilot.press("n", *"KAPPA mining", "ctrl+s")  # a name taken, in another case
        await pilot.pause()
        assert f"target {kappa.uid[:8]} is already named 'Kappa Mining'" in notifications(app)[-1]
        assert isinstance(app.screen, TargetForm)
        assert store.count_targets() == 11


async def test_a_new_target_is_selected_or_said_to_be_outside_the_filter(store, uids):
    for number in range(30):
        store.create_target(f"Lead {number:02d}", "", ["EU"], "Cold")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TargetTable)
        await pilot.press("n", *"Zeta Works", "ctrl+s")  # last by name: off the screen
        await until(
            pilot, lambda: table.current is not None and table.current.name != "Acme Robotics"
        )
        assert table.current.name == "Zeta Works" and table.cursor_row == 40
        assert table.first_visible <= 40 < table.first_visible + table.visible_rows
        assert notifications(app)[-1] == "Created Zeta Works"

        app.screen.requery(TargetQuery(statuses=("Hot",)))
        await settle(pilot)
        await pilot.press("down")
        await pilot.press("n", *"Omega Labs", "ctrl+s")  # no status: not Hot
        await until(pilot, lambda: "Omega" in notifications(app)[-1])
        assert notifications(app)[-1] == "Created Omega Labs (not in this filter)"
        assert table.cursor_row == 1 and table.current.name == "Gamma Health"


async def test_the_filter_form_applies_with_ctrl_s_from_any_field(store, uids):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_filter(pilot)
        assert "ctrl+s apply" in shown(form.query_one("#filter-keys"))  # the keys are told
        await pilot.press("enter", "down", "down", "down", "space")  # Passed and Hot ticked
        assert form.focused is form.query_one("#statuses")
        await pilot.press("tab", "tab", "space")  # stale only, ticked
        assert form.query_one("#stale").value
        await pilot.press("ctrl+s")  # applied from the checkbox
        await settle(pilot)
        assert app.screen is not form
        assert app.screen.target_query.statuses == ("Passed", "Hot")
        assert "status Passed, Hot · stale only" in counts(app)
        await pilot.press("f", "shift+tab", "shift+tab", "shift+tab")  # to Apply
        assert app.screen.focused is app.screen.query_one("#ok")
        await pilot.press("enter")  # the Apply button still applies
        await settle(pilot)
        assert "status Passed, Hot · stale only" in counts(app)


def form_values(app) -> tuple[str, str]:
    """The name and markets typed into the new target's form (the screen shown)."""
    form = app.screen
    assert isinstance(form, TargetForm), form
    return form.query_one("#name").value, form.query_one("#markets").value


def burst(app, text: str) -> None:
    """Post ``text``'s keys to the app at once, as a terminal delivers keys that arrive in
    one read (a fast typist over a slow link, a key macro): none waits for the last."""
    for character in text:
        key = {
            "\t": "tab",
            " ": "space",
            ",": "comma",
            "/": "slash",
            "\r": "enter",
            "\x1b": "escape",
            "\x7f": "backspace",
        }.get(character, character)
        app.post_message(events.Key(key, character))


async def test_keys_typed_in_one_burst_land_in_the_field_tab_moved_to(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        burst(app, "Mu Labs\tEU, APAC\t")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        made = store.resolve("Mu Labs")
        assert made.name == "Mu Labs" and made.markets == ("EU", "APAC")


async def test_backspaces_in_one_burst_edit_the_field_they_were_typed_in(store, uids):
    """``Zeta Two⌫⌫⌫Test<Tab>Nordics`` in one read: the Backspaces (an Input binding)
    delete from the name before ``Test`` is typed, not after it, nor after the Tab
    in the markets (they ran when they came back to the app: Zeta TwoTest, Nord)."""
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        burst(app, "Zeta Two\x7f\x7f\x7fTest\tNordics")
        await settle(pilot)
        assert form_values(app) == ("Zeta Test", "Nordics")


async def test_arrows_in_one_burst_move_the_status_list_before_the_tab(store, uids):
    """On a Cold target, ``Down Down Tab q a Enter`` in one read: the arrows move the
    list (they were lost: run when the note had the focus) and the note is ``qa``."""
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.table.current.name == "Acme Robotics"  # Cold
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, StatusPicker)
        for key, character in [
            ("down", None),
            ("down", None),
            ("tab", "\t"),
            ("q", "q"),
            ("a", "a"),
            ("enter", "\r"),
        ]:
            app.post_message(events.Key(key, character))
        await settle(pilot)
        assert not isinstance(app.screen, StatusPicker)
        [change] = store.take_batch()
        assert (change.status, change.note) == ("Hot", "qa")
        assert store.resolve("Acme Robotics").status == "Hot"


async def test_keys_typed_in_the_burst_that_opens_a_dialog_go_into_it(store, uids):
    """``n``, a name and markets in one read: the keys after ``n`` are typed into the new
    target's form, not run on the table behind it while the form mounts (a: activity,
    b: bulk change, s: status, t: stale only)."""
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        burst(app, "nZeta Labs\tEU, Nordics")
        await settle(pilot)
        assert form_values(app) == ("Zeta Labs", "EU, Nordics")
        burst(app, "\x1bs\x1b\x1b")  # closed: s opens the status dialog, esc closes it
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen) and app.screen.target_query.stagnation == ()
    assert store.take_batch() == []


async def test_a_status_chosen_in_the_burst_that_opens_its_dialog_is_set(store, uids):
    """On a Cold target, ``s Down Down Enter`` in one read sets Hot (the arrows and
    Enter went to the table behind the dialog, still mounting: one row down, its detail)."""
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.table.current.name == "Acme Robotics"  # Cold
        for key, character in [("s", "s"), ("down", None), ("down", None), ("enter", "\r")]:
            app.post_message(events.Key(key, character))
        await settle(pilot)
        assert isinstance(app.screen, PipelineScreen)
        [change] = store.take_batch()
        assert change.status == "Hot" and store.resolve("Acme Robotics").status == "Hot"


async def test_keys_held_for_a_binding_that_never_runs_are_let_go(store, uids, monkeypatch):
    """A binding whose widget went away before it ran: the keys held behind it are read
    after KeyHold.AT_MOST all the same (never a TUI deaf to the keyboard)."""
    from tui.keys import KeyHold

    monkeypatch.setattr(KeyHold, "AT_MOST", 0.2)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app._key_hold.start()  # noqa: SLF001 - as route_to_binding does, with nothing queued
        burst(app, "/zeta")
        await pilot.pause()
        assert app.screen.query_one("#search").value == ""  # held
        await pilot.pause(0.4)
        assert app.screen.query_one("#search").value == "zeta"


async def test_keys_typed_in_one_burst_after_slash_go_into_the_search(store, uids):
    """``/3m/tub`` and Enter in one read (tmux send-keys -l, a laggy ssh link): every
    key after ``/`` is typed into the search box; none runs as a pipeline key (3 set a
    status, t stale only, u undo, b a bulk change that Enter then applied)."""
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        burst(app, "/3m/tub")  # a second / is typed too
        await settle(pilot)
        search = screen.query_one("#search")
        assert app.screen is screen and search.value == "3m/tub"
        assert screen.focused is search and screen.target_query.stagnation == ()
        burst(app, "\r3")  # Enter leaves the search at once: 3 is not typed into it
        await settle(pilot)  # (a status key again, with no row shown to set)
        assert app.screen is screen and search.value == "3m/tub"
        assert screen.focused is screen.query_one(TargetTable)
        burst(app, "/\x1bt")  # esc clears and closes it at once: t is stale only again
        await settle(pilot)
        assert screen.target_query.stagnation and search.value == "" and not search.display
    assert store.take_batch() == []  # nothing written: no status, undo or bulk change
    assert [v.status for v in store.list_targets(TargetQuery())] == [s.status for s in SEEDS]


async def test_a_form_saved_twice_while_the_database_is_busy_saves_once(store, uids, home):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Lambda Labs")
        with holding_the_write_lock(home, 1.0) as holder:
            await pilot.press("ctrl+s", "ctrl+s")  # the second while the first waits
            assert holder.poll() is None
        await settle(pilot)
        assert store.count_targets() == 11 and [c.op for c in store.take_batch()] == ["create"]
        assert not any("Not saved" in n or "already named" in n for n in notifications(app))
        assert not isinstance(app.screen, TargetForm)


async def test_an_empty_list_says_what_to_do(store, other):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        empty = app.screen.query_one("#empty")
        assert empty.display and shown(empty).startswith("No targets yet. Press n to add one")
        other.create_target("Tango Partners")  # another process (the daemon's pull)
        await until(pilot, lambda: counts(app).startswith("1 of 1 target"))
        assert counts(app).startswith("1 of 1 target") and not empty.display
        await pilot.press("slash", *"zz")
        await settle(pilot)
        assert empty.display and shown(empty).startswith("No targets match “zz”. Press esc")
        search = app.screen.query_one("#search")  # still in sight while the user types
        assert search.region.height and not search.region.overlaps(empty.region)
        assert app.screen.query_one("#targets").region.y >= empty.region.bottom
        await pilot.press("escape")
        await settle(pilot)
        assert not empty.display


async def test_the_total_is_counted_again_after_a_change_elsewhere(store, uids, other):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ta")
        await settle(pilot)
        assert counts(app).startswith("2 of 10 targets")  # Delta Freight, Juniper Retail
        other.create_target("Tango Partners")  # another process (the daemon's pull)
        await until(pilot, lambda: counts(app).startswith("3 of 11 targets"))
        assert counts(app).startswith("3 of 11 targets")


async def _watch_loads(pilot) -> tuple[list[tuple[str, str]], list[str]]:
    """Opens the search box, then records per frame painted (search box text, search the
    table shows) and the searches sent to the worker."""
    app = pilot.app
    await settle(pilot)
    await pilot.press("slash")
    await settle(pilot)
    frames: list[tuple[str, str]] = []
    worker: list[str] = []
    screen = app.screen
    display, load = app._display, screen._load

    def painted(on, renderable) -> None:
        display(on, renderable)
        if renderable is not None:
            search = screen.query_one("#search").value
            frames.append((search, screen.query_one(TargetTable).pager.query.search))

    def loaded(query, *args) -> None:
        worker.append(query.search)
        load(query, *args)

    app._display, screen._load = painted, loaded
    return frames, worker


async def test_quick_search_read_paints_with_the_typed_key(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        frames, worker = await _watch_loads(pilot)
        await pilot.press(*"TAI")
        await settle(pilot)
        assert names(app) == ["Juniper Retail"] and worker == []
        # Read as the key is handled: no frame echoes a key without its rows.
        assert frames and all(typed == table for typed, table in frames)


async def test_slow_search_read_goes_to_the_worker(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        _, worker = await _watch_loads(pilot)
        app.screen._read_s = 1.0  # the last read was slow
        await pilot.press("T")
        await settle(pilot)
        assert worker == ["T"]
        assert names(app) == [v.name for v in store.list_targets(TargetQuery(search="T"))]
        await pilot.press("A")  # that read was quick: the next one is made inline
        await settle(pilot)
        assert worker == ["T"]
        assert names(app) == [v.name for v in store.list_targets(TargetQuery(search="TA"))]


@pytest.mark.parametrize(
    ("key", "after", "told", "waiting"),
    [
        ("u", "Cold", "Undone: Acme Robotics is Cold again", "Undoing your last change…"),
        ("5", "Closed", "Hot → Closed", "wait their turn"),
    ],
    ids=["undo", "status key"],
)
async def test_the_screen_stays_live_while_a_write_waits_for_the_database(
    store, uids, home, key, after, told, waiting
):
    """Another process holds the write lock (a large import does for seconds): the write
    waits for it in the write thread, and the keys still work meanwhile."""
    acme = uids["Acme Robotics"]
    store.set_status(acme, "Hot")
    app = make_app(store)
    app.writes.notice_s = 0.3
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        with holding_the_write_lock(home, 3.0) as holder:
            await pilot.press(key, "g")  # the write, then the summary screen
            await pilot.pause()
            assert isinstance(app.screen, SummaryScreen)
            assert store.get(acme).status == "Hot" and holder.poll() is None  # still waiting
            await until(pilot, lambda: any(waiting in n for n in notifications(app)), settled=False)
            assert sum(waiting in n for n in notifications(app)) == 1
        await settle(pilot)
        assert store.get(acme).status == after
        assert told in notifications(app)[-1]


async def test_a_bulk_change_that_takes_a_while_says_what_it_is_doing(store, uids, home):
    app = make_app(store)
    app.writes.notice_s = 0.3
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        with holding_the_write_lock(home, 2.0):
            await pilot.press("space", "space", "b", "5", "enter")  # two marked: Closed
            await until(
                pilot,
                lambda: any("Setting 2 targets" in n for n in notifications(app)),
                settled=False,
            )
            assert "Setting 2 targets to Closed…" in notifications(app)
        await settle(pilot)
        assert notifications(app)[-1] == "2 targets set to Closed"
        assert not any("Setting 2 targets" in n for n in notifications(app))  # taken back
        assert store.get(uids["Acme Robotics"]).status == "Closed"


async def test_a_key_pressed_while_a_long_write_is_queued_lands_after_it(store, uids):
    """Writes land in the order asked: a status key waits for the bulk change or undo
    still being written (here a write held back one second)."""
    acme = uids["Acme Robotics"]
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        go = threading.Event()

        def held_back() -> object:
            go.wait(10)
            return store.set_status(acme, "Closed")

        app.writes.notice_s = 0.3
        app.writes.later(held_back, lambda _: None, what="Holding back")
        threading.Timer(1.5, go.set).start()
        await pilot.press("4", "down", "4")  # Acme and Borealis: Hot, after the Closed
        await until(
            pilot, lambda: any("follows it" in n for n in notifications(app)), settled=False
        )
        assert any("Holding back…" in n for n in notifications(app))
        assert sum("follows it" in n for n in notifications(app)) == 1  # one for both keys
        await settle(pilot)
        assert [h.new_status for h in store.history(acme)[-2:]] == ["Closed", "Hot"]
        assert store.get(acme).status == "Hot"


async def test_a_write_that_fails_unexpectedly_is_said_not_swallowed(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        failed = []

        def broken() -> None:
            raise RuntimeError("boom")

        app.writes.later(broken, lambda _: None, failed=lambda: failed.append(True))
        await settle(pilot)
        assert notifications(app)[-1] == "Not saved: RuntimeError: boom" and failed == [True]
        await pilot.press("4")  # the queue goes on
        await settle(pilot)
        assert store.get(uids["Acme Robotics"]).status == "Hot"


async def test_quitting_waits_for_the_queued_writes(store, uids):
    acme, borealis = uids["Acme Robotics"], uids["Borealis Energy"]
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)

        def slow() -> object:
            time.sleep(0.5)
            return store.set_status(acme, "Closed")

        app.writes.later(slow, lambda _: None)
        app.writes.later(lambda: store.set_status(borealis, "Passed"), lambda _: None)  # queued
        await pilot.press("q")
    assert store.get(acme).status == "Closed" and store.get(borealis).status == "Passed"


async def test_a_note_over_the_limit_never_loses_the_status_and_note(store, uids):
    """The store keeps notes of up to NOTE_MAX characters: a paste that would make the
    note longer is refused and said so, the dialog open with what was typed; a note the
    store would refuse all the same (a control character) keeps the dialog open too."""
    acme = uids["Acme Robotics"]
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s", "4", "tab", *"met")
        picker = app.screen
        note = picker.query_one("#note")
        app.post_message(events.Paste("x" * (NOTE_MAX + 679)))  # a mail pasted whole
        await pilot.pause()
        assert note.value == "met" and app.screen is picker
        assert any(f"at most {NOTE_MAX:,} characters" in n for n in notifications(app))
        note.value = "met\x07the CTO"  # not typed through keys; the store refuses it
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is picker and note.value == "met\x07the CTO"
        assert any("control characters" in n for n in notifications(app))
        assert store.get(acme).status == "Cold" and store.take_batch() == []
        note.value = "met the CTO"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not picker
        last = store.history(acme)[-1]
        assert (last.new_status, last.note) == ("Hot", "met the CTO")
