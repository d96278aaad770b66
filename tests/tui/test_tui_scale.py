"""At 100,000 targets the table renders and keeps only what is on screen."""

from __future__ import annotations

import pytest
from tuihelp import make_app, settle

from tui.pager import MAX_PAGES
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
