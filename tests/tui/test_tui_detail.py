"""The detail screen: history, edit (invalid input refused), snooze, status with a note."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from textual.widgets import DataTable
from tuihelp import make_app, notifications, settle, shown, until

from tui.display import markets_field, split_markets
from tui.screens import DetailScreen, SnoozeForm, TargetForm


async def open_detail(pilot, row: int = 0) -> DetailScreen:
    await settle(pilot)
    await pilot.press(*["down"] * row, "enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, DetailScreen)
    return screen


async def open_activity(pilot):
    from tui.screens import ActivityScreen

    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ActivityScreen)
    return screen


async def test_detail_shows_description_markets_and_history(store, uids):
    store.set_status(uids["Acme Robotics"], "Hot", note="budget approved")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_detail(pilot)
        assert shown(screen.query_one("#detail-name")) == "Acme Robotics"
        assert "Warehouse robots." in shown(screen.query_one("#detail-description"))
        assert "markets: EU, US" in shown(screen.query_one("#detail-meta"))
        history = screen.query_one("#history", DataTable)
        newest = history.get_row_at(0)
        assert newest[:4] == ["Cold → Hot", "tester", "2026-06-01 12:00", "120"]
        assert newest[4:] == ["local · pending", "budget approved"]
        assert history.get_row_at(history.row_count - 1)[4] == "local · synced"
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_a_long_note_is_shown_in_full_for_the_highlighted_change(store, uids):
    long_note = "they asked for a quote on the whole fleet and we sent it the same afternoon"
    store.set_status(uids["Acme Robotics"], "Hot", note=long_note)
    store.set_status(uids["Acme Robotics"], "Active")  # no note
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_detail(pilot)
        note = screen.query_one("#history-note")
        assert not note.display  # the newest change has no note
        history = screen.query_one("#history", DataTable)
        sync_column = history.ordered_columns[4]
        assert str(sync_column.label) == "Sync"
        assert sum(c.get_render_width(history) for c in history.ordered_columns[:5]) <= 78
        await pilot.press("down")
        await pilot.pause()
        assert note.display
        assert shown(note, width=78).split() == (
            f"Note on Cold → Hot, 2026-06-01 12:00: {long_note}".split()
        )
        assert screen.region.contains_region(note.region)  # on screen, wrapped


async def test_an_undo_reads_undo_in_the_history(store, uids):
    store.set_status(uids["Acme Robotics"], "Hot", note="budget approved")
    store.undo_last()  # its note names the undone change's id, for undo itself
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        history = (await open_detail(pilot)).query_one("#history", DataTable)
        assert history.get_row_at(0)[0] == "Hot → Cold" and history.get_row_at(0)[5] == "undo"
        assert history.get_row_at(1)[5] == "budget approved"


async def test_keys_typed_in_the_edit_form_add_to_the_name(store, uids):
    """The form opens with the cursor after the name, nothing selected: typing " II"
    must not replace "Borealis Energy" with "II" (a faint selection, easy to miss)."""
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_detail(pilot, row=1)
        await pilot.press("e", "space", "I", "I", "tab", "comma", "space", *"Nordics", "ctrl+s")
        await settle(pilot)
        view = store.get(uids["Borealis Energy"])
        assert (view.name, view.markets) == ("Borealis Energy II", ("EU", "Nordics"))


async def test_edit_details_and_invalid_edit_refused(store, uids):
    borealis = uids["Borealis Energy"]
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_detail(pilot, row=1)
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, TargetForm)
        form.query_one("#name").value = "x" * 300
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "the limit is 255" in notifications(app)[-1]
        assert app.screen is form  # still open with the input
        assert store.get(borealis).name == "Borealis Energy" and store.take_batch() == []

        form.query_one("#name").value = "Borealis Power"
        form.query_one("#markets").value = "EU, Nordics"
        form.query_one("#description").text = "Offshore wind and storage."
        await pilot.press("ctrl+s")
        await settle(pilot)
        view = store.get(borealis)
        assert (view.name, view.markets, view.description) == (
            "Borealis Power",
            ("EU", "Nordics"),
            "Offshore wind and storage.",
        )
        (edit,) = store.take_batch()
        assert edit.op == "edit" and edit.fields.name == "Borealis Power"
        assert shown(screen.query_one("#detail-name")) == "Borealis Power"


async def test_a_market_with_a_comma_survives_an_edit_of_something_else(store, uids):
    """The form showed markets joined by commas and split them at commas on save, so
    editing only the description turned "Europe, North" into two markets."""
    acme = uids["Acme Robotics"]
    store.edit_target(acme, markets=["Europe, North", "Asia"])
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_detail(pilot)
        await pilot.press("e")
        form = app.screen
        assert form.query_one("#markets").value == "Europe, North; Asia;"
        form.query_one("#description").text = "Robots, now in Asia too."
        await pilot.press("ctrl+s")
        await settle(pilot)
    view = store.get(acme)
    assert view.markets == ("Europe, North", "Asia")
    assert view.description == "Robots, now in Asia too."


@pytest.mark.parametrize(
    "markets",
    [[], ["EU"], ["EU", "US"], ["Europe, North"], ["Europe, North", "Asia"], ["a,b", "c,d"]],
)
def test_the_markets_field_reads_back_as_the_same_list(markets):
    assert split_markets(markets_field(markets)) == markets


def test_what_people_type_in_the_markets_field():
    assert split_markets("EU, US") == ["EU", "US"]
    assert split_markets("EU;US;") == ["EU", "US"]
    assert split_markets(" , EU ,, ") == ["EU"]


def test_the_stale_cell_shows_a_snooze_ahead_of_a_fresh_target_not_a_past_one() -> None:
    from storage import TargetView
    from storage.types import utc_today
    from tui.display import badge

    def fresh(snoozed_until: date | None) -> TargetView:
        since = datetime.now(UTC) - timedelta(days=2)
        return TargetView(
            "u1", "Acme", "", (), "Cold", since, 2, "fresh", "synced", 1, snoozed_until
        )

    assert badge(fresh(utc_today() + timedelta(days=3))) == "z 2d"
    assert badge(fresh(utc_today())) == ""  # the snooze is over
    assert badge(fresh(None)) == ""


async def test_snooze_and_status_from_the_detail_screen(store, uids):
    acme = uids["Acme Robotics"]  # stale: Cold for 120 days
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_detail(pilot)
        await pilot.press("z")
        assert isinstance(app.screen, SnoozeForm)
        await pilot.press(*"next week", "enter")
        assert "bad date 'next week'; use YYYY-MM-DD, +7d or +2w" in notifications(app)[-1]
        app.screen.query_one("#until").value = "+2w"  # as the CLI takes it
        await pilot.press("enter")
        await settle(pilot)
        view = store.get(acme)
        until = date.today() + timedelta(days=14)
        assert (view.snoozed_until, view.stagnation) == (until, "snoozed")
        assert shown(screen.query_one("#detail-badge")).endswith(
            f" snoozed until {until.isoformat()}"
        )

        await pilot.press("s", "3", "tab", *"kick-off", "enter")
        await settle(pilot)
        assert store.get(acme).status == "Active"
        # fresh in its new status: the snooze is said as such, not as "fresh until …"
        badge_text = shown(screen.query_one("#detail-badge"))
        assert badge_text.endswith(f"fresh · snoozed until {until.isoformat()}"), badge_text
        assert badge_text.startswith("z 0d "), badge_text  # the list's Stale cell too
        assert screen.query_one("#history", DataTable).get_row_at(0)[5] == "kick-off"


async def test_activity_shows_the_weeks_changes_newest_first_and_opens_a_target(store, uids, clock):
    from tui.screens import ActivityScreen, PipelineScreen

    store.set_status(uids["Acme Robotics"], "Hot", note="pilot signed")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ActivityScreen)
        table = app.screen.query_one("#activity-table", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        # Cobalt Labs was made Hot 3 days ago; the other seeds' changes are older
        assert [row[0] for row in rows] == ["Acme Robotics", "Cobalt Labs"]
        assert (rows[0][1], rows[0][5], rows[0][6]) == (
            "Cold → Hot",
            "local · pending",
            "pilot signed",
        )
        title = shown(app.screen.query_one("#activity-title"))
        assert title.startswith("2 status changes of the last 7 days, newest first · enter")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.uid == uids["Acme Robotics"]
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, PipelineScreen)


async def test_activity_shows_the_highlighted_changes_note_in_full_at_80x24(store, uids):
    """The Note column is off an 80-column screen: the note shows under the table."""

    long_note = "they asked for a quote on the whole fleet and we sent it the same afternoon"
    store.set_status(uids["Acme Robotics"], "Hot", note=long_note)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_activity(pilot)
        note = screen.query_one("#history-note")
        assert note.display
        assert shown(note, width=78).split() == (
            f"Note on Cold → Hot, 2026-06-01 12:00: {long_note}".split()
        )
        assert screen.region.contains_region(note.region)  # on screen, wrapped
        await pilot.press("down")  # Cobalt Labs made Hot without a note
        await pilot.pause()
        assert not note.display


async def test_detail_opens_at_the_top_on_a_small_screen_and_follows_the_cursor(store, uids):
    """Focusing the history table scrolled it into view, the name header off the top."""
    acme = uids["Acme Robotics"]
    store.edit_target(acme, description="\n".join(f"line {n}" for n in range(1, 7)))
    for status in ("Hot", "Active", "Cold", "Hot", "Active", "Closed"):
        store.set_status(acme, status, note=f"went {status}")
    app = make_app(store)
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await open_detail(pilot)
        await settle(pilot)
        history = screen.query_one("#history", DataTable)
        assert screen.focused is history
        area = screen.query_one("#detail")
        assert area.scroll_y == 0 and area.max_scroll_y > 0
        assert screen.region.contains_region(screen.query_one("#detail-name").region)
        for _ in range(history.row_count - 1):  # to the oldest change: always in sight
            await pilot.press("down")
            await pilot.pause()
            row = history.region.y + history.header_height + history.cursor_row
            row -= round(history.scroll_y)
            assert area.content_region.y <= row < area.content_region.bottom
        assert history.cursor_row == history.row_count - 1


async def test_the_highlighted_change_stays_when_the_data_is_read_again(store, uids, other):
    """Every data change (a daemon's pull, the minute's refresh) reads the rows again:
    the highlighted change stays highlighted, in the activity and in a target's history,
    and Enter opens the target the user chose, even when a new change comes in on top."""

    acme = uids["Acme Robotics"]
    for status in ("Hot", "Active", "Closed"):
        store.set_status(acme, status, note=f"went {status}")
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_activity(pilot)
        await pilot.press("down", "down")
        chosen = screen.entries[2].change.change_id
        other.set_status(uids["Delta Freight"], "Hot")  # another process: read again
        await until(pilot, lambda: screen.entries[0].name == "Delta Freight")
        table = screen.query_one("#activity-table")
        assert screen.entries[table.cursor_row].change.change_id == chosen

        await pilot.press("enter")
        await settle(pilot)
        history = app.screen.query_one("#history")
        await pilot.press("down")
        chosen = app.screen.history[history.cursor_row].change_id
        other.set_status(acme, "Hot", note="again")
        await until(pilot, lambda: app.screen.history[0].note == "again")
        assert app.screen.history[history.cursor_row].change_id == chosen


async def test_a_note_with_the_status_it_already_has_says_it_was_not_saved(store, uids):
    """QA: s, the current status left chosen, a note, Enter: the dialog closed and
    nothing said the note went nowhere."""
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_detail(pilot)  # Acme Robotics, Cold
        await pilot.press("s", "2", "tab", *"same status note", "enter")
        await settle(pilot)
        assert notifications(app)[-1] == (
            "Acme Robotics is already Cold; nothing changed"
            " (the note was not saved: a note goes with a change)"
        )
        assert [h.note for h in store.history(uids["Acme Robotics"])] == [None]
