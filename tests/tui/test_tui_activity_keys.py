"""Home and end in the tables of changes (activity, a target's history): the first and
last row, as on the pipeline list, never a sideways scroll off the first columns."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable
from tuihelp import make_app, settle

from tui.screens import ActivityScreen, DetailScreen

STATUSES = ("Hot", "Active", "Cold")


def many_changes(store, uid: str, count: int = 30) -> None:
    for number in range(count):
        store.set_status(uid, STATUSES[number % len(STATUSES)], note=f"step {number}")


async def home_and_end(pilot, table: DataTable) -> None:
    assert table.has_focus and table.row_count > 20
    await pilot.press("end")
    await settle(pilot)
    assert table.cursor_row == table.row_count - 1
    assert table.scroll_x == 0  # the first columns (what changed) stay in sight
    assert table.scroll_y > 0  # the last row is shown
    await pilot.press("home")
    await settle(pilot)
    assert (table.cursor_row, table.scroll_x, table.scroll_y) == (0, 0, 0)


@pytest.mark.parametrize(
    ("key", "screen", "table"),
    [("a", ActivityScreen, "#activity-table"), ("enter", DetailScreen, "#history")],
    ids=["activity", "a-targets-history"],
)
async def test_home_and_end_in_the_tables_of_changes(store, uids, key, screen, table):
    many_changes(store, uids["Acme Robotics"])
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, screen)
        await home_and_end(pilot, app.screen.query_one(table, DataTable))
