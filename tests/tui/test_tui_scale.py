"""At 100,000 targets the table renders and keeps only what is on screen."""

from __future__ import annotations

import shutil

import pytest
from tuihelp import make_app, notifications, settle, shown, until

from storage import Store, TargetQuery
from tui.pager import COUNT_CAP, MAX_PAGES, TargetPager
from tui.widgets import TargetTable


@pytest.fixture
def rendered(monkeypatch) -> list[int]:
    """Row indices the table renders (every call of its row renderer)."""
    calls: list[int] = []
    original = TargetTable._render_row

    def counting(self, index, view, width):
        calls.append(index)
        return original(self, index, view, width)

    monkeypatch.setattr(TargetTable, "_render_row", counting)
    return calls


async def test_100k_targets_never_more_than_a_screenful_of_rows(big_store, rendered):
    app = make_app(big_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TargetTable)
        assert table.row_count == 100_000
        screenful = table.visible_rows
        for key in [None, "pagedown", "pagedown", "end", "pageup", "home", *["down"] * 40]:
            rendered.clear()
            if key:
                await pilot.press(key)
            await settle(pilot)
            top = table.first_visible
            assert table.rendered_rows <= screenful
            assert all(top <= index < top + screenful for index in rendered), (key, top)
            assert table.pager.loaded_rows <= table.pager.page_size * MAX_PAGES
        assert table.cursor_row == 40
        await pilot.press("slash", *"00042")
        await settle(pilot)
        assert table.row_count == 11 and table.rendered_rows <= 11  # 000042, 000420-000429


def test_a_broad_query_is_counted_up_to_a_cap_then_exactly(big_store):
    pager = TargetPager.first_screen(big_store, TargetQuery(search="target"), 0, 30)
    assert (pager.total, pager.exact) == (COUNT_CAP, False)
    assert pager.loaded_rows == pager.page_size  # the first screen is there already
    assert pager.count_exactly() == 100_000
    few = TargetPager.first_screen(big_store, TargetQuery(search="00042"), 0, 30)
    assert (few.total, few.exact) == (11, True)  # a short first page is all there is
    deep = TargetPager.first_screen(big_store, TargetQuery(search="target"), 5_000, 30)
    assert deep.total > 5_030 and not deep.exact  # at least the rows asked for


async def test_100k_the_exact_count_follows_the_first_screen(big_store, monkeypatch):
    counted: list[TargetQuery] = []
    original = type(big_store).count_targets

    def spy(self, query=TargetQuery()):
        counted.append(query)
        return original(self, query)

    monkeypatch.setattr(type(big_store), "count_targets", spy)
    app = make_app(big_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TargetTable)
        counts = shown(app.screen.query_one("#counts"))
        assert counts.startswith("100,000 of 100,000 targets")
        counted.clear()
        await pilot.press("slash", *"target 0")
        await settle(pilot)
        assert shown(app.screen.query_one("#counts")).startswith("100,000 of 100,000 targets")
        assert table.pager.exact and table.row_count == 100_000
        # Every keystroke counts its own query (capped, then exactly), never all targets
        assert TargetQuery() not in counted
        assert all(q.search for q in counted)

        table.pager.total, table.pager.exact = COUNT_CAP, False  # as before the count
        await pilot.press("enter", "b")  # to the table; the bulk change counts before asking
        assert "100,000 targets matching “target 0”" in shown(app.screen.query_one("#preview"))


async def test_100k_a_new_target_deep_in_the_list_is_selected(big_db, tmp_path):
    shutil.copyfile(big_db, tmp_path / "pipetrack.db")  # the session's copy stays 100,000
    with Store.open(tmp_path / "pipetrack.db") as store:
        app = make_app(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            table = app.screen.query_one(TargetTable)
            await pilot.press("n", *"Target 050000b", "ctrl+s")
            await until(pilot, lambda: table.cursor_row != 0)
            assert table.cursor_row == 50_001 and table.current.name == "Target 050000b"
            assert table.first_visible <= 50_001 < table.first_visible + table.visible_rows
            assert table.pager.loaded_rows <= table.pager.page_size * MAX_PAGES
            assert notifications(app)[-1] == "Created Target 050000b"
