"""Where the focus is shows: an accent bar left of a focused scrolling area, a tinted
field in a dialog; and the detail's name line stays in sight whatever scrolls."""

from __future__ import annotations

from textual.widgets._select import SelectCurrent
from tuihelp import make_app, make_conflict, settle

from tui.screens import ConflictsScreen, DetailScreen, TargetForm


def bar(widget) -> str:
    """The left border's kind: "tall" (the accent bar) when focused, else "blank"."""
    return widget.styles.border_left[0]


async def test_detail_focus_shows_and_the_name_stays_in_sight(store, uids):
    store.edit_target(uids["Acme Robotics"], description="\n".join(f"line {n}" for n in range(30)))
    app = make_app(store)
    async with app.run_test(size=(80, 15)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        area, box = screen.query_one("#detail"), screen.query_one("#description-box")
        assert bar(area) == bar(box) == "blank"
        await pilot.press("tab")  # the scrolling area (it holds more than a short screen)
        await pilot.pause()
        assert screen.focused is area and bar(area) == "tall" and bar(box) == "blank"
        await pilot.press(*["down"] * 10)
        await pilot.pause()
        assert area.scroll_y > 0
        head = screen.query_one("#detail-name")
        assert head.region.y == 0 and "Acme Robotics" in str(head.render())
        await pilot.press("tab")  # the description box
        await pilot.pause()
        assert screen.focused is box and bar(box) == "tall" and bar(area) == "blank"


async def test_a_focused_dialog_field_stands_out(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, TargetForm)
        status = form.query_one("#status").query_one(SelectCurrent)
        name = form.query_one("#name")
        assert form.focused is name
        name_focused, status_blurred = name.styles.background, status.styles.background
        await pilot.press("tab", "tab")  # markets, then the status
        await pilot.pause()
        assert form.focused is form.query_one("#status")
        assert name.styles.background != name_focused  # the tint went with the focus
        assert status.styles.background != status_blurred
        assert status.styles.background == name_focused  # one look for a focused field


async def test_the_conflicts_right_pane_shows_its_focus(store, clock, uids):
    make_conflict(store, clock, uids["Acme Robotics"], mine="Closed", theirs="Passed")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConflictsScreen)
        side = screen.query_one("#conflict-side")
        assert bar(side) == "blank"
        await pilot.press("tab")
        await pilot.pause()
        assert screen.focused is side and bar(side) == "tall"
