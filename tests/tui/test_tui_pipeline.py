"""The pipeline screen: keys change statuses through the store, search, filter, sort, bulk."""

from __future__ import annotations

from tuihelp import make_app, notifications, settle

from tui.screens import FilterForm, StatusPicker
from tui.widgets import TargetTable


def names(app) -> list[str]:
    table = app.screen.query_one(TargetTable)
    return [table.pager.row(i).name for i in range(table.row_count)]


def counts(app) -> str:
    return str(app.screen.query_one("#counts").render())


async def test_first_paint_lists_targets_with_counts_and_sync_state(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert names(app)[:3] == ["Acme Robotics", "Borealis Energy", "Cobalt Labs"]
        assert counts(app).startswith("10 of 10 targets · no filter")
        assert "0 pending" in str(app.screen.query_one("#sync").render())


async def test_status_key_writes_audit_and_outbox_and_shows_pending(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")  # Hot on the first row, Acme Robotics
        table = app.screen.query_one(TargetTable)
        row = table.current
        assert (row.name, row.status, row.sync) == ("Acme Robotics", "Hot", "pending")
        last = store.history(uids["Acme Robotics"])[-1]
        assert (last.old_status, last.new_status, last.origin, last.sync) == (
            "Cold",
            "Hot",
            "local",
            "pending",
        )
        (change,) = store.take_batch()
        assert (str(change.target), change.op, change.status) == (
            uids["Acme Robotics"],
            "set_status",
            "Hot",
        )
        await settle(pilot)
        assert "1 pending" in str(app.screen.query_one("#sync").render())


async def test_keys_one_to_five_follow_pipeline_order(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for key, status in zip("12345", ["Passed", "Cold", "Active", "Hot", "Closed"], strict=True):
            await pilot.press(key)
            assert store.get(uids["Acme Robotics"]).status == status


async def test_status_picker_sets_status_with_note(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "s")
        assert isinstance(app.screen, StatusPicker)
        await pilot.press("4", "tab", *"met the CTO", "enter")
        await settle(pilot)
        last = store.history(uids["Borealis Energy"])[-1]
        assert (last.new_status, last.note) == ("Hot", "met the CTO")


async def test_search_is_debounced_and_filters_rows(store, uids):
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


async def test_filter_by_status_and_market(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        form = app.screen
        assert isinstance(form, FilterForm)
        form.query_one("#statuses").select("Hot")
        form.query_one("#markets").select("US")
        await pilot.click("#ok")
        await settle(pilot)
        assert names(app) == ["Gamma Health"]
        assert "status Hot · market US" in counts(app)


async def test_stale_only_toggle(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        stale = {v.name for v in store.stale_targets()}
        assert set(names(app)) == stale and stale >= {"Acme Robotics", "Gamma Health"}
        assert "stale only" in counts(app)
        await pilot.press("t")
        await settle(pilot)
        assert len(names(app)) == 10


async def test_sort_by_key_and_by_clicking_a_header(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("r")  # reverse the name order
        await settle(pilot)
        assert names(app)[0] == "Juniper Retail"
        table = app.screen.query_one(TargetTable)
        days_x = next(
            p.x
            for p in __import__("tui.widgets.columns").widgets.columns.layout(
                table.scrollable_content_region.width
            )
            if p.column.key == "days"
        )
        await pilot.click(TargetTable, offset=(days_x + 1, 0))
        await settle(pilot)
        days = [table.pager.row(i).days_in_status for i in range(table.row_count)]
        assert days == sorted(days)
        await pilot.click(TargetTable, offset=(days_x + 1, 0))
        await settle(pilot)
        assert table.pager.row(0).name == "Delta Freight"  # 200 days, now descending


async def test_click_selects_a_row(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click(TargetTable, offset=(5, 3))
        assert app.screen.query_one(TargetTable).current.name == "Cobalt Labs"


async def test_undo_issues_a_compensating_change(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4", "u")
        await settle(pilot)
        acme = uids["Acme Robotics"]
        assert store.get(acme).status == "Cold"
        history = store.history(acme)
        assert [(h.old_status, h.new_status) for h in history[-2:]] == [
            ("Cold", "Hot"),
            ("Hot", "Cold"),
        ]
        assert [c.status for c in store.take_batch()] == ["Hot", "Cold"]
        assert app.screen.query_one(TargetTable).current.status == "Cold"
        await pilot.press("u", "u")
        assert "Nothing to undo" in notifications(app)[-1] or store.get(acme).status


async def test_bulk_change_of_marked_rows_previews_the_count(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "b")  # mark Acme and Borealis
        picker = app.screen
        assert isinstance(picker, StatusPicker)
        assert "2 marked targets" in str(picker.query_one("#preview").render())
        assert store.take_batch() == []  # nothing written before confirming
        await pilot.press("5", "enter")
        await settle(pilot)
        assert store.get(uids["Acme Robotics"]).status == "Closed"
        assert store.get(uids["Borealis Energy"]).status == "Closed"
        assert store.get(uids["Cobalt Labs"]).status == "Hot"
        assert app.screen.query_one(TargetTable).marked == set()


async def test_bulk_change_of_the_current_filter(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("t")  # stale only
        await settle(pilot)
        matching = names(app)
        assert len(matching) >= 2
        await pilot.press("b")
        preview = str(app.screen.query_one("#preview").render())
        assert f"{len(matching)} targets matching stale only" in preview
        await pilot.press("escape")  # cancelled: nothing written
        assert store.take_batch() == []
        await pilot.press("b", "1", "enter")
        await settle(pilot)
        assert {store.resolve(name).status for name in matching} == {"Passed"}
        assert len(store.take_batch()) == len(matching)


async def test_new_target_is_created_through_the_store(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"Kappa Mining", "tab", *"EU, APAC")
        await pilot.press("ctrl+s")
        await settle(pilot)
        kappa = store.resolve("Kappa Mining")
        assert kappa.markets == ("EU", "APAC") and kappa.sync == "pending"
        assert "11 of 11 targets" in counts(app)


async def test_invalid_new_target_is_refused_with_a_message(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n", "ctrl+s")  # empty name
        await pilot.pause()
        assert "name must not be empty" in notifications(app)[-1]
        assert app.screen.__class__.__name__ == "TargetForm"  # still open, input kept
        assert store.count_targets() == 10 and store.take_batch() == []
