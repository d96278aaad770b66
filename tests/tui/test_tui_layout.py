"""What fits on a small screen (80x24 and less): the lines as the user sees them."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tuihelp import make_app, make_conflict, make_rejected, screen_lines, settle, until

from storage import TargetQuery

SMALL = (80, 24)


def bottom_bar(app) -> str:
    """The line of counts and sync state (above the footer)."""
    return screen_lines(app)[-2]


def busy_sync(store, clock, uids) -> None:
    """Online, with pending changes, a conflict and a rejected change."""
    make_conflict(store, clock, uids["Cobalt Labs"], mine="Closed", theirs="Passed")
    make_rejected(store, uids["Gamma Health"], "Closed", "target is archived on the server")
    store.set_status(uids["Acme Robotics"], "Hot")
    store.record_sync(online=True, synced=True)


async def test_the_sync_state_shows_whatever_the_filter(store, clock, uids, daemon_lock):
    busy_sync(store, clock, uids)
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        bar = bottom_bar(app)
        assert "10 of 10 targets · all" in bar
        # the whole state; the last sync's time whole or not at all (never "sync…")
        assert bar.rstrip().endswith("online · 1 pending · 1 conflict · 1 rejected"), bar
        long_filter = TargetQuery(
            statuses=("Passed", "Cold"),
            markets=("APAC", "EU", "LATAM", "US"),
            search="o",
        )
        app.screen.requery(long_filter)
        await settle(pilot)
        bar = bottom_bar(app)
        assert bar.startswith(" 1 of 10 targets · status Passed"), bar
        assert "…" in bar  # the filter is cut, not the sync state
        assert bar.rstrip().endswith("online · 1 pending · 1 conflict · 1 rejected"), bar
    narrow = make_app(store)
    async with narrow.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        assert "online · 1 pending · 1 conflict · 1 rejected" in bottom_bar(narrow)


async def test_a_wide_screen_shows_the_last_sync_and_the_whole_filter(
    store, clock, uids, daemon_lock
):
    busy_sync(store, clock, uids)
    app = make_app(store)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        app.screen.requery(TargetQuery(markets=("APAC", "EU", "LATAM", "US"), search="o"))
        await settle(pilot)
        bar = bottom_bar(app)
        assert "market APAC, EU, LATAM, US · “o”" in bar and "…" not in bar
        assert "1 rejected · synced 06-01 12:00" in bar


LONG_NAME = (
    "Alder Industrial Holdings International Group of Companies for Precision"
    " Engineering and Logistics Worldwide"
)


async def test_activity_a_long_target_name_leaves_the_change_on_screen(store, uids):
    store.edit_target(uids["Acme Robotics"], name=LONG_NAME)
    store.set_status(uids["Acme Robotics"], "Hot", note="budget approved")
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        row = next(line for line in screen_lines(app) if "Alder" in line)
        assert "Alder Industrial Holdin…" in row  # capped, and marked as cut
        assert "Cold → Hot" in row and "tester" in row and "2026-06-01 12:00" in row, row


@pytest.mark.parametrize("size", [SMALL, (60, 20)])
async def test_detail_a_long_name_is_cut_the_status_badge_and_sync_show(store, uids, size):
    store.edit_target(uids["Acme Robotics"], name=LONG_NAME)
    store.set_status(uids["Acme Robotics"], "Hot")
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        head = screen_lines(app)[0]
        assert head.startswith(" Alder Industrial") and "…" in head, head
        assert "Hot" in head and "0d fresh" in head and "pending" in head, head
        # a short name is not padded: the status follows it
        await pilot.press("escape", "down", "enter")
        await settle(pilot)
        assert screen_lines(app)[0].startswith(" Borealis Energy  Active  20d fresh  synced")


def words(count: int, last: str) -> str:
    return " ".join(f"word{n}" for n in range(count)) + f" {last}"


async def test_detail_a_target_without_a_status_reads_no_status_since(store, uids):
    def words() -> str:
        return " ".join(" ".join(screen_lines(app)).split())

    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.open_detail(uids["Fjord Analytics"])  # no status, for 9 days
        await settle(pilot)
        assert "· no status since 2026-05-23 12:00" in words(), words()
        assert "days in —" not in words()
        app.pop_screen()
        app.open_detail(uids["Cobalt Labs"])
        await settle(pilot)
        assert "· 3 days in Hot since 2026-05-29 12:00" in words(), words()


async def test_detail_a_long_description_and_note_can_be_read_to_the_end(store, uids):
    acme = uids["Acme Robotics"]
    store.edit_target(acme, description=words(400, "THE-END"))
    store.set_status(acme, "Hot", note=words(120, "LAST-WORD")[-1000:])
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        history = screen.query_one("#history")
        assert screen.focused is history  # the table has the focus on open
        text = "\n".join(screen_lines(app))
        assert "Note on Cold → Hot" in text
        assert "LAST-WORD" not in text and "THE-END" not in text
        # both boxes show a scrollbar: there is more to read
        for box in ("#note-box", "#description-box"):
            assert screen.query_one(box).vertical_scrollbar.display

        await pilot.press("tab")  # the note, under the table
        assert screen.focused is screen.query_one("#note-box")
        await pilot.press("end")
        await settle(pilot)
        assert "LAST-WORD" in "\n".join(screen_lines(app))

        for _ in range(3):  # on round to the description, past the screen's own scroll
            await pilot.press("tab")
            if screen.focused is screen.query_one("#description-box"):
                break
        assert screen.focused is screen.query_one("#description-box")
        await pilot.press("end")
        await settle(pilot)
        assert "THE-END" in "\n".join(screen_lines(app))

        await pilot.press("tab")  # back to the table, which still moves its cursor
        assert screen.focused is history
        await pilot.press("down")
        assert history.cursor_row == 1


async def test_the_sorted_column_shows_its_direction(store, uids):
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        header = screen_lines(app)[0]
        assert "Name ▲" in header and "▼" not in header
        # the sort cycle (o) and reverse (r): the column sorted by, and only it, is marked
        for title in ("Status", "Markets", "Days", "Sync"):
            await pilot.press("o")
            await settle(pilot)
            header = screen_lines(app)[0]
            assert header.count("▲") == 1 and f"{title}▲" in header.replace(" ▲", "▲"), header
            await pilot.press("r")
            await settle(pilot)
            header = screen_lines(app)[0]
            assert header.count("▼") == 1 and f"{title}▼" in header.replace(" ▼", "▼"), header
            assert "▲" not in header


async def test_a_long_filter_counts_its_markets_in_the_bar_before_it_is_cut(store, uids):
    """The bar says "4 markets" when their names do not fit; the empty list's message
    (and the bulk preview) name them all."""
    markets = ("APAC", "EU", "LATAM", "US")
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.screen.requery(TargetQuery(markets=markets, search="o"))
        await settle(pilot)
        bar = bottom_bar(app)
        assert bar.startswith(" 7 of 10 targets · 4 markets · “o” "), bar
        assert "…" not in bar
        app.screen.requery(TargetQuery(statuses=("Passed",), markets=markets, search="zz"))
        await settle(pilot)
        bar = bottom_bar(app)
        # the time of the last sync goes before the filter is cut
        assert bar.startswith(" 0 of 10 targets · status Passed · 4 markets · “zz” "), bar
        assert bar.rstrip().endswith("not syncing · 0 pending"), bar
        empty = " ".join(line.strip() for line in screen_lines(app)[:5])
        assert "No targets match status Passed · market APAC, EU, LATAM, US · “zz”" in empty
        app.screen.requery(replace(app.screen.target_query, statuses=("Passed", "Cold")))
        await pilot.press("t")
        await settle(pilot)
        bar = bottom_bar(app)  # then cut: the stale-only switch before the markets
        assert bar.startswith(" 0 of 10 targets · status Passed, Cold · stale only ·…"), bar
    wide = make_app(store)
    async with wide.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        wide.screen.requery(TargetQuery(markets=markets))
        await settle(pilot)
        assert "· market APAC, EU, LATAM, US " in bottom_bar(wide)


async def test_the_bar_uses_its_room_for_the_filter_and_says_stale_only(
    store, clock, uids, daemon_lock
):
    """The time of the last sync is the least of the line: it goes before the filter is
    cut, and "stale only" shows once it is on."""
    store.record_sync(online=True, synced=True)
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert bottom_bar(app).rstrip().endswith("online · 0 pending · synced 06-01 12:00")
        app.screen.requery(TargetQuery(statuses=("Hot",), markets=("EU",)))
        await settle(pilot)
        bar = bottom_bar(app)
        assert bar.startswith(" 0 of 10 targets · status Hot · market EU "), bar
        assert bar.rstrip().endswith("online · 0 pending"), bar
        await pilot.press("t")
        await settle(pilot)
        bar = bottom_bar(app)
        assert bar.startswith(" 0 of 10 targets · status Hot · market EU · stale only "), bar
        assert "…" not in bar and bar.rstrip().endswith("online · 0 pending"), bar
        app.screen.requery(TargetQuery())  # room again for the time
        await settle(pilot)
        assert bottom_bar(app).rstrip().endswith("online · 0 pending · synced 06-01 12:00")


async def test_the_marked_count_shows_whatever_the_filter(store, uids):
    """`b` acts on the marked rows: their count stays in the bar when a long filter is
    cut (it came after the filter, and went with it)."""
    markets = ("APAC", "EU", "LATAM", "US")
    app = make_app(store)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.screen.requery(TargetQuery(statuses=("Passed", "Cold"), markets=markets, search="o"))
        await settle(pilot)
        await pilot.press("space", "down", "space")
        await settle(pilot)
        assert " · 2 marked · " in bottom_bar(app), bottom_bar(app)


async def test_toasts_leave_the_sync_state_readable(store, clock, uids, daemon_lock):
    """The greeting's toasts (stale targets, conflicts...) and every notice sat over the
    bar's right end for seconds, hiding the sync state ("0 pend▌"): they stack above
    the bar now, the bar and the footer readable whole."""
    busy_sync(store, clock, uids)
    app = make_app(store, greet=True)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await settle(pilot)
        app.notify("Acme Robotics set to Hot")
        await settle(pilot)
        lines = screen_lines(app)
        assert len(app._notifications) >= 3, lines  # noqa: SLF001 - the greeting's too
        assert any("Acme Robotics set to Hot" in line for line in lines[:-2]), lines
        bar = bottom_bar(app)
        assert bar.rstrip().endswith("online · 1 pending · 1 conflict · 1 rejected"), lines
        assert "▌" not in bar and "▌" not in lines[-1], lines


@pytest.mark.parametrize("size", [(40, 15), (30, 15)])
async def test_a_narrow_table_keeps_the_sync_column(store, clock, uids, daemon_lock, size):
    """At 40 columns the Sync column was cut off the right edge (a pending row showed no
    ↑) while a 5-cell "Marke…" column stayed: markets, days... go first, Sync never."""
    busy_sync(store, clock, uids)  # Acme Robotics pending, Cobalt a conflict, Gamma rejected
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        lines = screen_lines(app)
        assert "Sync" in lines[0] and "Marke" not in lines[0], lines
        rows = {line.strip().split()[0]: line.rstrip() for line in lines[1:11]}
        assert rows["Acme"].endswith("↑"), lines
        assert rows["Cobalt"].endswith("≠"), lines
        assert rows["Gamma"].endswith("✗"), lines


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
async def test_the_footer_always_shows_quit_and_more_keys_when_wide(store, uids, width):
    """At 80 columns the footer ended at "c Conflicts" (q Quit laid out past the edge); at
    200 it stopped at "q Quit", the other keys (a, n, u, t, space, b) left out. Keys
    that do not fit whole are left out now, q Quit last, and a wide one shows more."""
    app = make_app(store)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        footer = screen_lines(app)[-1]
        assert footer.rstrip().endswith("q Quit"), footer
        assert "…" not in footer.replace("Status…", ""), footer  # no key cut in half
        if width >= 80:  # before ? Help and f Filter: conflicts need the user
            assert "c Conflicts" in footer, footer
        if width >= 100:
            assert "? Help" in footer and "g Summary" in footer, footer
        if width == 200:
            for key in ("a Activity", "n New target", "u Undo", "t Stale only", "b Bulk change"):
                assert key in footer, footer


@pytest.mark.parametrize(("width", "counts"), [(40, False), (60, True), (120, True)])
async def test_the_summary_fits_its_chart_to_the_screen(store, uids, width, counts):
    """At 40 columns a bar of 30 cells cut the status names to "…": the bar narrows
    to the room left, the bucket counts give way first; a wide screen shows them all."""
    app = make_app(store)
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)
        lines = screen_lines(app)
        rows = {line.split()[0]: line for line in lines if line.strip()}
        for status in ("Passed", "Cold", "Active", "Hot", "Closed"):
            assert status in rows, lines
        assert ("90+d" in rows["Status"]) is counts, lines
        assert all(len(line.rstrip()) <= width for line in lines), lines
        assert any(line.strip() == f"{len(uids)} targets" for line in lines), lines


async def test_a_dialog_taller_than_the_screen_scrolls_to_its_buttons(store, uids):
    """At 15 rows the new target form's Save and Cancel were cut off; the form scrolls,
    and Tab to Save brings it into view."""
    app = make_app(store)
    async with app.run_test(size=(40, 15)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert not any("Save" in line for line in screen_lines(app))
        for _ in range(10):
            if app.focused is not None and app.focused.id == "ok":
                break
            await pilot.press("tab")
        await settle(pilot)
        assert any("Save" in line and "Cancel" in line for line in screen_lines(app))


async def test_a_sync_daemon_killed_shows_as_not_syncing_within_seconds(store, uids, home):
    """A daemon killed (kill -9, the OOM killer) records nothing: the bar said online for
    a minute, until the next refresh, while pipetrack status said not syncing."""
    from syncd import ProfileLock

    lock = ProfileLock(home)
    lock.acquire()  # a daemon runs: this process holds its lock, as the daemon does
    store.record_sync(online=True, synced=True)
    app = make_app(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert "online" in bottom_bar(app), bottom_bar(app)
        lock.release()  # gone, without a word
        await until(pilot, lambda: "not syncing" in bottom_bar(app), tries=80)
        assert "not syncing" in bottom_bar(app), bottom_bar(app)
